"""grading.probes: a test cell split into the probe (the student's kernel) and the record (the trusted kernel).

Small inline test cells pin down :func:`check_calls` (ids, kinds, lines, hidden flags and the rules it
enforces), :func:`probe_program` (each check becomes ``__probe__(id, actual)``; what only computes expected
values is left out, what computes an actual value stays), :func:`record_program` and :func:`leaks`. Probes
are also run here with plain ``exec`` against the original cell, to check that they compute the same actual
values. Finally every test cell of every ``solutions/*/*.ipynb`` must turn into a probe and a record that
compile.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import nbformat
import numpy as np
import pytest

from grading import probes, reference
from grading.probes import CHECKS, Check, check_calls, hidden_lines, leaks, probe_program, record_program

MODULES = {"np", "torch", "nn"}
REPO = Path(__file__).resolve().parent.parent


def cell(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def probe_calls(program: str) -> list[ast.Call]:
    return [n for n in ast.walk(ast.parse(program)) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
            and n.func.id == "__probe__"]


def statements(program: str) -> list[str]:
    """The probe's top-level statements, as source."""
    return [ast.unparse(s) for s in ast.parse(program).body]


# ---- check_calls ----------------------------------------------------------------------------------------
HIDDEN_CELL = cell('''
    # Tests for f: 1 point
    check_close("f(1)", f(1), 2.0)
    print("f: visible tests passed")
    ### BEGIN HIDDEN TESTS
    _x = np.arange(3.0)
    check_equal("g()", g(),
                (1, 2))
    check_loops("f has no loops", f, at_most=0)
    ### END HIDDEN TESTS
    check_true(h() > 0, "h() must be positive")
''')


def test_check_calls_lists_every_check_in_source_order():
    assert check_calls(HIDDEN_CELL) == [
        Check(0, "check_close", 2, False),
        Check(1, "check_equal", 6, True),
        Check(2, "check_loops", 8, True, "f"),
        Check(3, "check_true", 10, False),
    ]


def test_hidden_lines_are_those_strictly_between_the_markers():
    assert hidden_lines(HIDDEN_CELL) == {5, 6, 7, 8}


def test_a_cell_without_markers_has_no_hidden_check():
    source = 'check_close("a", f(1), 2.0)\ncheck_shape("b", f(2), (3,))\n'
    assert [c.hidden for c in check_calls(source)] == [False, False]


def test_checks_after_a_second_hidden_block_are_numbered_on():
    source = cell('''
        ### BEGIN HIDDEN TESTS
        check_close("a", f(1), 2.0)
        ### END HIDDEN TESTS
        check_close("b", f(2), 3.0)
        ### BEGIN HIDDEN TESTS
        check_close("c", f(3), 4.0)
        ### END HIDDEN TESTS
    ''')
    assert [(c.id, c.line, c.hidden) for c in check_calls(source)] == [(0, 2, True), (1, 4, False), (2, 6, True)]


def test_checks_inside_loops_conditions_and_with_blocks_are_allowed():
    source = cell('''
        for _x in [1.0, 2.0]:
            if _x > 0:
                with np.errstate(all="ignore"):
                    check_close("f", f(_x), 2 * _x)
        while False:
            check_true(f(0) == 0, "f(0)")
        try:
            check_finite("f", f(3))
        except ZeroDivisionError:
            pass
    ''')
    assert [(c.kind, c.line) for c in check_calls(source)] == [("check_close", 4), ("check_true", 6), ("check_finite", 8)]


@pytest.mark.parametrize("source", [
    'def _test():\n    check_close("a", f(1), 2.0)\n',
    'async def _test():\n    check_close("a", f(1), 2.0)\n',
    '_test = lambda: check_close("a", f(1), 2.0)\n',
    'class _T:\n    check_close("a", f(1), 2.0)\n',
    'for _i in range(2):\n    list(map(lambda v: check_true(v, "m"), [1]))\n',
], ids=["def", "async def", "lambda", "class", "lambda in a loop"])
def test_a_check_inside_a_function_of_the_cell_is_refused(source):
    with pytest.raises(probes.TestCellError, match=r"line \d+: `check_\w+` is called inside a function defined in the test cell"):
        check_calls(source)


@pytest.mark.parametrize("source", [
    'check_close("a")',
    'check_close("a", actual=f(1), expected=2.0)',
    'check_close("a", *values)',
    'check_true()',
    'check_true(*conditions)',
    'check_loops("a")',
], ids=["no actual", "keyword actual", "starred actual", "check_true empty", "check_true starred", "check_loops no function"])
def test_a_check_without_its_actual_argument_written_out_is_refused(source):
    with pytest.raises(probes.TestCellError, match=r"line 1: `check_\w+` needs its arguments written out positionally"):
        check_calls(source)


@pytest.mark.parametrize("function", ["module.predict", "lambda x: x", "functions[0]", "make()"])
def test_check_loops_must_name_the_students_function(function):
    with pytest.raises(probes.TestCellError, match="line 1: `check_loops` must name the student's function directly"):
        check_calls(f'check_loops("a", {function})')


def test_a_cell_that_does_not_parse_is_refused():
    with pytest.raises(probes.TestCellError, match="the test cell does not parse"):
        check_calls("check_close('a', f(1), 2.0")


@pytest.mark.parametrize("source", [
    'from helpers import checks\nchecks.check_close("f", f(1), 42.5)\n',
    '_c = check_close\n_c("f", f(1), 42.5)\n',
], ids=["attribute", "alias"])
def test_a_check_called_other_than_by_its_plain_name_is_refused(source):
    with pytest.raises(probes.TestCellError):
        check_calls(source)


# ---- probe_program --------------------------------------------------------------------------------------
def test_each_check_becomes_a_probe_of_its_actual_value():
    source = cell('''
        check_close("f(1)", f(1), 2.0, rtol=1e-3, hint="add one")
        check_shape("g()", g(), (2, 3))
        check_type("h()", h(), float)
        check_finite("k()", k(0.5))
        check_equal("m()", m()["key"], {"a": 1})
    ''')
    calls = probe_calls(probe_program(source))
    assert [ast.literal_eval(c.args[0]) for c in calls] == [0, 1, 2, 3, 4]
    assert [ast.unparse(c.args[1]) for c in calls] == ["f(1)", "g()", "h()", "k(0.5)", "m()['key']"]
    assert all(len(c.args) == 2 and not c.keywords for c in calls)


def test_a_probe_holds_nothing_but_the_probes_of_a_simple_cell():
    source = 'check_close("f(1)", f(1), 2.0)\nprint("f: visible tests passed")\ncheck_close("f(2)", f(2), 3.0)\n'
    assert statements(probe_program(source)) == ["__probe__(0, f(1))", "__probe__(1, f(2))"]


def test_check_true_sends_its_condition_and_its_message():
    source = '_g = f(1)\ncheck_true(isinstance(_g, tuple), f"f(1) should return a tuple, got {_g!r}")\n'
    assert statements(probe_program(source)) == [
        "_g = f(1)", "__probe__(0, isinstance(_g, tuple), f'f(1) should return a tuple, got {_g!r}')"]


def test_check_loops_sends_none_and_keeps_nothing_for_it():
    source = '_unused = predict(1)\ncheck_loops("predict has no loops", predict, at_most=0, hint="use arrays")\n'
    assert statements(probe_program(source)) == ["__probe__(0, None)"]


def test_statements_that_only_compute_expected_values_are_dropped():
    source = cell('''
        _xs = np.linspace(0.0, 1.0, 5)
        _expected = []
        for _v in _xs:
            _expected.append(3.0 * _v + 1.0)
        _scale = np.sqrt(2.0)
        check_close("f(xs)", f(_xs), np.array(_expected) * _scale)
    ''')
    assert statements(probe_program(source, MODULES)) == ["_xs = np.linspace(0.0, 1.0, 5)", "__probe__(0, f(_xs))"]


@pytest.mark.parametrize(("seed", "draw", "modules"), [
    ("_rng = np.random.default_rng(7)", "_x = _rng.normal(size=4)", MODULES),
    ("torch.manual_seed(0)", "_x = torch.randn(4)", MODULES),
    ("np.random.seed(3)", "_x = np.random.normal(size=4)", MODULES),
    ("torch.manual_seed(0)", "_x = torch.randn(4)", frozenset()),
], ids=["default_rng", "manual_seed", "np seed", "manual_seed without module names"])
def test_seeds_and_inputs_are_kept(seed, draw, modules):
    source = f'{seed}\n{draw}\ncheck_close("f(x)", f(_x), 2.0 * _x)\n'
    assert statements(probe_program(source, modules)) == [seed, draw, "__probe__(0, f(_x))"]


def test_a_bare_call_of_a_module_function_is_kept_for_its_effect_on_the_module():
    source = 'np.random.seed(0)\ntorch.set_default_dtype(torch.float64)\ncheck_close("f()", f(), 1.0)\n'
    assert statements(probe_program(source, MODULES)) == ["np.random.seed(0)", "torch.set_default_dtype(torch.float64)",
                                                          "__probe__(0, f())"]


def test_a_bare_call_of_a_function_is_kept_for_its_effect():
    source = 'reset_counters()\ncheck_equal("count()", count(), 0)\n'
    assert statements(probe_program(source)) == ["reset_counters()", "__probe__(0, count())"]


def test_prints_are_dropped():
    source = cell('''
        _lr = largest_stable_lr(X)
        print(f"largest stable learning rate: {_lr:.5f}")
        check_close("lr", _lr, 0.0853)
        print("lr: visible tests passed")
    ''')
    assert statements(probe_program(source)) == ["_lr = largest_stable_lr(X)", "__probe__(0, _lr)"]


def test_a_method_call_that_changes_a_needed_object_is_kept():
    source = cell('''
        _model = make_model()
        _model.eval()
        _xs = [1.0]
        _xs.append(2.0)
        _log = []
        _log.append("only for the expected value")
        check_close("model(xs)", _model(_xs), [0.5, 0.25])
    ''')
    assert statements(probe_program(source)) == ["_model = make_model()", "_model.eval()", "_xs = [1.0]", "_xs.append(2.0)",
                                                  "__probe__(0, _model(_xs))"]


def test_assignments_through_attributes_and_items_count_as_changing_the_object():
    source = cell('''
        _config = make_config()
        _config.lr = 0.5
        _config["epochs"] = 3
        _other = {}
        _other["x"] = 1
        check_close("train(config)", train(_config), 1.0)
    ''')
    assert statements(probe_program(source)) == ["_config = make_config()", "_config.lr = 0.5", "_config['epochs'] = 3",
                                                 "__probe__(0, train(_config))"]


def test_a_check_used_as_a_value_still_computes_the_rest_of_its_statement():
    source = '_P = check_shape("P", poly(_x := np.ones(3), 2), (3, 3))\ncheck_close("P[0]", _P[0], [1.0, 1.0, 1.0])\n'
    assert statements(probe_program(source, MODULES)) == ["_P = __probe__(0, poly((_x := np.ones(3)), 2))", "__probe__(1, _P[0])"]


def test_a_loop_keeps_its_header_and_the_checks_inside_it():
    source = cell('''
        for _k in ("W1", "b1"):
            _e = 2.0 * _k.count("1")
            check_shape(f"grads[{_k}]", grads[_k], (2,))
    ''')
    program = probe_program(source)
    assert statements(program) == ["for _k in ('W1', 'b1'):\n    __probe__(0, grads[_k])"]


@pytest.mark.parametrize(("source", "expected"), [
    (cell('''
        for _i in range(3):
            _e = _i * 2.5
        check_close("f(last i)", f(_i), 1.0)
     '''), "for _i in range(3):\n    pass"),
    (cell('''
        try:
            _r = f(1)
        except ValueError as _err:
            _note = str(_err)
        check_close("f(1)", _r, 1.5)
     '''), "try:\n    _r = f(1)\nexcept ValueError as _err:\n    pass"),
    (cell('''
        if USE_BIG:
            _e = 100.0
        else:
            _x = 2.0
        check_close("f(x)", f(_x), 4.0)
     '''), "if USE_BIG:\n    pass\nelse:\n    _x = 2.0"),
], ids=["for", "except", "if"])
def test_a_compound_statement_whose_body_is_emptied_gets_pass(source, expected):
    program = probe_program(source)
    compile(program, "<probe>", "exec")
    assert statements(program)[0] == expected


SECRET_CELL = cell('''
    # Tests for f: 2 points
    _x = np.array([1.0, 2.0])
    check_close("f(x) on two points", f(_x), [7.123456, 8.654321], hint="visible hint: add c")
    print("f: visible tests passed")
    ### BEGIN HIDDEN TESTS
    _rng = np.random.default_rng(11)
    _z = _rng.normal(size=5)
    _secret = np.sqrt(np.abs(_z)) * 13.37 + 0.4242
    _table = {"answer": 97531.0}
    for _e in [1.111, 2.222]:
        _table[str(_e)] = _e * 3.3333
    check_close("f(z)", f(_z), _secret, hint="secret hint: mind the sign")
    check_shape("f(z) shape", f(_z), (5,))
    check_equal("g(z)", g(_z), (24680, "expected-string"))
    check_type("h()", h(), float)
    check_close("k()", k(), _table["answer"], atol=0.000777)
    check_loops("f is vectorised", f, at_most=0, hint="loops hint")
    ### END HIDDEN TESTS
''')
SECRETS = ["7.123456", "8.654321", "visible hint", "13.37", "0.4242", "_secret", "97531", "_table", "1.111", "3.3333",
           "secret hint", "(5,)", "24680", "expected-string", "float", "0.000777", "loops hint", "check_", "f(x) on two points",
           "f is vectorised"]


@pytest.mark.parametrize("secret", SECRETS)
def test_the_probe_never_holds_expected_values_descriptions_or_hints(secret):
    program = probe_program(SECRET_CELL, MODULES)
    assert secret not in program


def test_the_secret_cell_still_probes_every_actual_value():
    program = probe_program(SECRET_CELL, MODULES)
    assert [ast.unparse(c.args[1]) for c in probe_calls(program)] == ["f(_x)", "f(_z)", "f(_z)", "g(_z)", "h()", "k()", "None"]
    assert "_rng = np.random.default_rng(11)" in program and "_z = _rng.normal(size=5)" in program


def test_the_probe_of_a_cell_with_expected_values_only_in_hidden_lines_reports_no_leak():
    assert leaks(SECRET_CELL, MODULES) == []


# ---- the probe computes the same actual values as the cell ----------------------------------------------
def actual_values_of_cell(source: str, namespace: dict) -> list:
    """Run the test cell itself with checks that only note their actual value."""
    seen = []

    def noting(name):
        return lambda *args, **kwargs: seen.append(None if name == "check_loops" else args[CHECKS[name]])

    exec(source, {**namespace, **{name: noting(name) for name in CHECKS}})  # noqa: S102
    return seen


def actual_values_of_probe(source: str, namespace: dict, modules=MODULES) -> list:
    """Run the cell's probe with a ``__probe__`` that notes the value it would send."""
    seen = []
    exec(probe_program(source, modules), {**namespace, "__probe__": lambda check_id, value, *extra: seen.append(value)})  # noqa: S102
    return seen


def lesson_namespace() -> dict:
    return {"np": np, "f": lambda x: 2.0 * np.asarray(x) + 1.0, "g": lambda x: float(np.sum(x))}


SAME_VALUES = {
    "inputs from a generator": '''
        _rng = np.random.default_rng(3)
        _a, _b = _rng.normal(size=4), _rng.normal(size=4)
        check_close("f(a)", f(_a), 2 * _a + 1)
        check_close("g(b)", g(_b), np.sum(_b))
    ''',
    "inputs built in a loop": '''
        _xs = []
        for _i in range(4):
            _xs.append(_i / 3)
        _expected = [2 * v + 1 for v in _xs]
        check_close("f(xs)", f(_xs), _expected)
    ''',
    "a global seed": '''
        np.random.seed(5)
        _x = np.random.normal(size=3)
        check_close("f(x)", f(_x), 2 * _x + 1)
    ''',
    "checks in a loop": '''
        for _k in range(3):
            _e = 2 * _k + 1
            check_close(f"f({_k})", f(_k), _e)
    ''',
}


@pytest.mark.parametrize("source", [cell(s) for s in SAME_VALUES.values()], ids=SAME_VALUES.keys())
def test_the_probe_computes_the_same_actual_values_as_the_cell(source):
    expected = actual_values_of_cell(source, lesson_namespace())
    assert expected, "the cell noted no value"
    np.testing.assert_equal(actual_values_of_probe(source, lesson_namespace()), expected)


@pytest.mark.parametrize("source", [
    cell('''
        _rng = np.random.default_rng(0)
        _e = _rng.normal()
        _x = _rng.normal()
        check_close("f(x)", f(_x), _e)
    '''),
    cell('''
        np.random.seed(0)
        _noise = np.random.normal(size=3)
        _x = np.random.normal(size=3)
        check_close("f(x)", f(_x), 2 * _x + 1 + 0 * _noise)
    '''),
], ids=["generator", "global seed"])
def test_the_probe_keeps_draws_that_advance_a_random_state_used_by_inputs(source):
    np.testing.assert_equal(actual_values_of_probe(source, lesson_namespace()), actual_values_of_cell(source, lesson_namespace()))


# ---- record_program -------------------------------------------------------------------------------------
def test_the_record_wraps_each_check_with_all_its_arguments():
    source = cell('''
        _x = np.arange(3.0)
        check_close("f(x)", f(_x), 2 * _x + 1, rtol=1e-3, hint="add one")
        check_true(f(0) == 1, "f(0) must be 1")
        check_loops("f is vectorised", f, at_most=0)
        _P = check_shape("P", poly(_x, 2), (3, 3))
    ''')
    tree = ast.parse(record_program(source))
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "__record__"]
    original = sorted((n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                       and n.func.id in CHECKS), key=lambda n: n.lineno)
    assert [ast.literal_eval(c.args[0]) for c in calls] == [c.id for c in check_calls(source)] == [0, 1, 2, 3]
    for record, check in zip(calls, original, strict=True):
        assert ast.unparse(record.args[1]) == check.func.id
        assert [ast.unparse(a) for a in record.args[2:]] == [ast.unparse(a) for a in check.args]
        assert [(k.arg, ast.unparse(k.value)) for k in record.keywords] == [(k.arg, ast.unparse(k.value)) for k in check.keywords]


def test_the_record_keeps_every_other_statement():
    source = cell('''
        _expected = []
        for _v in [1.0, 2.0]:
            _expected.append(2 * _v + 1)
        print("computing")
        check_close("f", f([1.0, 2.0]), _expected)
    ''')
    assert statements(record_program(source)) == statements(source.replace(
        'check_close("f", f([1.0, 2.0]), _expected)', '__record__(0, check_close, "f", f([1.0, 2.0]), _expected)'))


def test_the_record_refuses_cells_that_break_the_rules():
    with pytest.raises(probes.TestCellError, match="inside a function"):
        record_program('def _t():\n    check_close("a", f(1), 2.0)\n')
    with pytest.raises(probes.TestCellError, match="inside a function"):
        probe_program('def _t():\n    check_close("a", f(1), 2.0)\n')


# ---- leaks ----------------------------------------------------------------------------------------------
def test_a_clean_cell_has_no_leaks():
    source = cell('''
        _rng = np.random.default_rng(1)
        _x = _rng.normal(size=3)
        _expected = 2 * _x + 1
        check_close("f(x)", f(_x), _expected)
        check_true(g(_x) > -10, "g(x) is large enough")
    ''')
    assert leaks(source, MODULES) == []


def test_a_name_that_is_also_an_input_is_no_leak():
    # the student's code is handed `_row`, taken from `_expected`: the kernel sees those values anyway
    source = cell('''
        _expected = np.array([1.0, 2.0])
        for _row in _expected:
            check_close("f(row)", f(_row), _expected)
    ''')
    assert leaks(source, MODULES) == []


def test_a_condition_over_an_expected_only_name_is_reported():
    source = '_e = 12.5\nif _e > 0:\n    check_close("f(1)", f(1), _e)\n'
    assert leaks(source, MODULES) == [
        "line 1: the probe computes ['_e'], which only expected values should read",
        "line 2: the probe needs ['_e'] (read by this statement's header), which only expected values should read",
    ]


@pytest.mark.parametrize("source", [
    '_expected = [2.5, 4.5]\nfor _e in _expected:\n    check_close("f(1)", f(1), _e)\n',
    '_xs = [1.0, 2.0]\n_expected = [2.5, 4.5]\nfor _x, _e in zip(_xs, _expected):\n    check_close("f(x)", f(_x), _e)\n',
    'for _x, _e in [(1.0, 2.5), (2.0, 4.5)]:\n    check_close("f(x)", f(_x), _e)\n',
], ids=["iterates over expected", "zip of inputs and expected", "literal pairs"])
def test_a_loop_that_hands_expected_values_to_the_probe_is_reported(source):
    assert "4.5" in probe_program(source, MODULES)  # the leak itself
    assert leaks(source, MODULES)


# ---- every test cell of every lesson --------------------------------------------------------------------
def solution_test_cells() -> list:
    params = []
    for path in sorted((REPO / "solutions").glob("*/*.ipynb")):
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception as error:  # mid-edit by someone else: say so rather than fail collection
            params.append(pytest.param(path.name, None, None, f"{type(error).__name__}: {error}", id=f"{path.stem}-unreadable"))
            continue
        modules = reference.module_names(reference.lesson_imports(nb))
        for grade_id, source in reference.graded_test_cells(nb).items():
            params.append(pytest.param(path.name, source, modules, None, id=f"{path.stem}-{grade_id}"))
    return params


@pytest.mark.parametrize(("notebook", "source", "modules", "unreadable"), solution_test_cells())
def test_every_lesson_test_cell_gives_a_probe_and_a_record_that_compile(notebook, source, modules, unreadable):
    if unreadable:
        pytest.skip(f"{notebook} cannot be read right now (being edited?): {unreadable}")
    try:
        ast.parse(source)
    except SyntaxError as error:
        pytest.skip(f"the test cell in {notebook} does not parse as written (being edited?): {error}")
    probe, record = probe_program(source, modules), record_program(source)
    compile(probe, f"<probe of {notebook}>", "exec")
    compile(record, f"<record of {notebook}>", "exec")
    assert len(probe_calls(probe)) == len(check_calls(source)), "every check must send its actual value"
    called = {n.func.id for n in ast.walk(ast.parse(probe)) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert not called & set(CHECKS), "no check may run in the student's kernel"


def test_the_lessons_have_test_cells():
    assert len(solution_test_cells()) >= 6


def test_the_module_lists_each_check_with_the_position_of_its_actual_argument():
    assert probes.CHECKS == {"check_close": 1, "check_shape": 1, "check_type": 1, "check_finite": 1, "check_equal": 1,
                             "check_true": 0, "check_loops": 1, "check_accuracy": 1, "check_libraries": 1}
    assert probes.SOURCE_CHECKS == {"check_loops", "check_libraries"}


def test_check_libraries_sends_none_and_keeps_nothing_for_it():
    source = '_unused = mse(1, 2)\ncheck_libraries("mse uses only NumPy", mse, allowed=("numpy",), hint="use NumPy")\n'
    assert statements(probe_program(source)) == ["__probe__(0, None)"]
    assert check_calls(source) == [Check(0, "check_libraries", 2, False, "mse")]


def test_changes_made_through_a_part_of_a_needed_object_are_kept():
    source = cell('''
        _net = nn.Linear(2, 1)
        for _p in _net.parameters():
            _p.zero_()
        _w = _net.bias
        _w.add_(1.0)
        _copy = _net.weight.clone()
        _copy.add_(5.0)
        check_close("f(net)", f(_net), 1.0)
    ''')
    probe = probe_program(source, MODULES)
    assert "_p.zero_()" in probe and "_w.add_(1.0)" in probe
    assert "_copy" not in probe  # a copy is a new object: changing it changes nothing the probe needs
