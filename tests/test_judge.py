"""grading.judge: reference records against the values a probe sent, decided outside the student's kernel.

Records and sent values are made by hand here, in the shapes :mod:`grading.reference` and
:func:`grading.plain.decode_probe` give them. A visible failure must read exactly as the same check of
:mod:`helpers.checks` reads in JupyterLab; a hidden failure says only which hidden test failed, its
description and its hint; a value that never arrived fails its check.
"""

from __future__ import annotations

import ast
import linecache

import numpy as np
import pytest
import torch

from grading import plain
from grading.judge import Verdict, judge_cell
from grading.plain import Opaque, TensorData
from grading.source import libraries_in_definition, loops_in_definition, python_cell
from helpers import checks
from helpers.checks import CheckFailed


def record(kind: str, check: int = 0, *, hidden: bool = False, line: int = 1, function: str | None = None, **args) -> dict:
    """One reference record, as grading.reference stores it (args already decoded)."""
    return {"check": check, "kind": kind, "hidden": hidden, "line": line, "function": function, "args": args}


def close(check: int = 0, expected=1.0, *, what: str = "f(1)", hidden: bool = False, hint: str = "", rtol=1e-6, atol=1e-9) -> dict:
    return record("check_close", check, hidden=hidden, what=what, expected=expected, rtol=rtol, atol=atol, hint=hint)


def sent(check, value, *extra) -> dict:
    return {"check": check, "value": value, "extra": list(extra)}


def judge(records, values, **kwargs) -> Verdict:
    return judge_cell(records, values, exercise=kwargs.pop("exercise", "f"), **kwargs)


def helpers_message(call) -> str:
    with pytest.raises(CheckFailed) as failure:
        call()
    return str(failure.value)


# ---- passing --------------------------------------------------------------------------------------------
def test_a_cell_whose_values_all_pass_passes_and_says_how_many_checks_ran():
    records = [close(0, 3.0), record("check_shape", 1, what="g()", shape=[2]), close(2, [1.0, 2.0], hidden=True),
               record("check_true", 3, hidden=True), record("check_equal", 4, what="h()", expected=(1, "a"), hint="")]
    values = [sent(0, 3.0), sent(1, np.zeros(2)), sent(2, np.array([1.0, 2.0 + 1e-12])), sent(3, True, "m"), sent(4, (1, "a"))]
    assert judge(records, values, exercise="predict") == Verdict(True, "predict: all 5 checks passed (2 of them hidden)")


@pytest.mark.parametrize(("kind", "args", "value"), [
    ("check_close", {"what": "c", "expected": [1.0, 2.0], "rtol": 1e-6, "atol": 1e-9, "hint": ""}, (1.0, 2.0)),
    ("check_close", {"what": "c", "expected": 0.5, "rtol": 1e-6, "atol": 1e-9, "hint": ""}, np.float32(0.5)),
    ("check_shape", {"what": "s", "shape": [2, 3]}, [[1, 2, 3], [4, 5, 6]]),
    ("check_finite", {"what": "f"}, np.array([1.0, -1e300])),
    ("check_equal", {"what": "e", "expected": {"a": [1, 2], "b": None}, "hint": ""}, {"a": [1, 2], "b": None}),
    ("check_equal", {"what": "e", "expected": 3, "hint": ""}, np.int64(3)),
    ("check_type", {"what": "t", "expected": ["builtins.float"]}, np.float64(1.0)),
    ("check_type", {"what": "t", "expected": ["builtins.int", "numpy.integer"]}, np.int32(4)),
    ("check_type", {"what": "t", "expected": ["torch.Tensor"]}, TensorData(np.zeros(2), "torch.float64")),
    ("check_type", {"what": "t", "expected": ["torch.nn.modules.module.Module"]},
     Opaque("torch.nn.modules.linear.Linear", ["torch.nn.modules.linear.Linear", "torch.nn.modules.module.Module", "builtins.object"])),
    ("check_true", {}, True),
    ("check_true", {}, np.bool_(True)),
], ids=["close tuple", "close float32", "shape list", "finite", "equal dict", "equal np.int64", "type float", "type tuple",
        "type tensor", "type module", "true", "np.bool_ true"])
def test_values_that_pass_the_helpers_check_pass_the_judge(kind, args, value):
    assert judge([record(kind, **args)], [sent(0, value)]).passed


# ---- visible failures read as in JupyterLab -------------------------------------------------------------
VISIBLE = {
    "close vector": (record("check_close", what="predict(x, 2, 1)", expected=[3.0, 5.0], rtol=1e-6, atol=1e-9,
                            hint="the line is m * x + c"), np.array([3.0, 4.0]),
                     lambda v: checks.check_close("predict(x, 2, 1)", v, [3.0, 5.0], hint="the line is m * x + c")),
    "close scalar": (record("check_close", what="mse()", expected=5.0, rtol=1e-6, atol=1e-9, hint=""), 4.0,
                     lambda v: checks.check_close("mse()", v, 5.0)),
    "close tolerances": (record("check_close", what="lr", expected=0.1, rtol=1e-2, atol=0.0, hint=""), 0.102,
                         lambda v: checks.check_close("lr", v, 0.1, rtol=1e-2, atol=0.0)),
    "close shape": (record("check_close", what="p", expected=[[1.0, 2.0]], rtol=1e-6, atol=1e-9, hint=""), [1.0, 2.0],
                    lambda v: checks.check_close("p", v, [[1.0, 2.0]])),
    "close nan": (record("check_close", what="loss", expected=1.0, rtol=1e-6, atol=1e-9, hint=""), float("nan"),
                  lambda v: checks.check_close("loss", v, 1.0)),
    "close string": (record("check_close", what="loss", expected=1.0, rtol=1e-6, atol=1e-9, hint=""), "1.0",
                     lambda v: checks.check_close("loss", v, 1.0)),
    "close None": (record("check_close", what="loss", expected=1.0, rtol=1e-6, atol=1e-9, hint=""), None,
                   lambda v: checks.check_close("loss", v, 1.0)),
    "shape": (record("check_shape", what="poly(x, 2)", shape=[3, 2]), np.zeros((2, 3)),
              lambda v: checks.check_shape("poly(x, 2)", v, (3, 2))),
    "shape with hints": (record("check_shape", what="b", shape=[3], hint="sum over the batch"), np.zeros((1, 3)),
                         lambda v: checks.check_shape("b", v, (3,), hint="sum over the batch")),
    "close shape with hint": (record("check_close", what="b", expected=[1.0, 2.0], rtol=1e-6, atol=1e-9, hint="axis 0"),
                              [[1.0], [2.0]], lambda v: checks.check_close("b", v, [1.0, 2.0], hint="axis 0")),
    "equal list for tuple": (record("check_equal", what="sizes()", expected=(1, 2), hint="return a tuple"), [1, 2],
                             lambda v: checks.check_equal("sizes()", v, (1, 2), hint="return a tuple")),
    "equal bool for int": (record("check_equal", what="n()", expected=1, hint=""), True,
                           lambda v: checks.check_equal("n()", v, 1)),
    "equal dict order": (record("check_equal", what="d()", expected={"a": 1, "b": 2}, hint=""), {"b": 2, "a": 1},
                         lambda v: checks.check_equal("d()", v, {"a": 1, "b": 2})),
    "type": (record("check_type", what="cosine_lr(3, 10, 1.0)", expected=["builtins.float"]), 3,
             lambda v: checks.check_type("cosine_lr(3, 10, 1.0)", v, float)),
    "type tuple": (record("check_type", what="choose_degree()", expected=["builtins.int", "numpy.integer"]), 2.5,
                   lambda v: checks.check_type("choose_degree()", v, (int, np.integer))),
    "type list": (record("check_type", what="g()", expected=["builtins.tuple"]), [1.0, "x"],
                  lambda v: checks.check_type("g()", v, tuple)),
    "finite": (record("check_finite", what="losses"), [1.0, float("inf"), float("nan")],
               lambda v: checks.check_finite("losses", v)),
    "finite string": (record("check_finite", what="losses"), "nan", lambda v: checks.check_finite("losses", v)),
}


@pytest.mark.parametrize(("rec", "value", "call"), VISIBLE.values(), ids=VISIBLE.keys())
def test_a_visible_failure_reads_exactly_as_the_helpers_check(rec, value, call):
    verdict = judge([rec], [sent(0, value)])
    assert not verdict.passed
    assert verdict.message == helpers_message(lambda: call(value))


def test_a_visible_check_type_failure_on_an_array_reads_as_the_helpers_check():
    value = np.array([1.0, 2.0])
    verdict = judge([record("check_type", what="t", expected=["builtins.float"])], [sent(0, value)])
    assert verdict.message == helpers_message(lambda: checks.check_type("t", value, float))


@pytest.mark.parametrize("message", ["gradients should return a tuple, got [1, 2]", "the loss should never increase"])
def test_a_visible_check_true_fails_with_the_message_the_kernel_sent(message):
    verdict = judge([record("check_true", line=4)], [sent(0, False, message)])
    assert verdict.message == message == helpers_message(lambda: checks.check_true(False, message))


@pytest.mark.parametrize("condition", [False, 1, "True", None, np.bool_(False), np.array([True]), Opaque("x.AlwaysTrue")],
                         ids=repr)
def test_check_true_passes_only_on_exactly_true(condition):
    verdict = judge([record("check_true")], [sent(0, condition, "must be True")])
    assert not verdict.passed and verdict.message == "must be True"


@pytest.mark.parametrize("extra", [[], [None], [42], [Opaque("builtins.str")]], ids=["none", "None", "int", "opaque"])
def test_check_true_without_a_message_string_says_a_condition_is_not_met(extra):
    verdict = judge([record("check_true")], [sent(0, False, *extra)])
    assert verdict.message == "a condition of the test is not met"


# ---- hidden failures say only which test failed -----------------------------------------------------------
HIDDEN_RECORDS = [
    close(0, 3.0, what="f(1)"),
    close(1, [123.456, -654.321], what="f on two secret points", hidden=True, hint="mind the sign"),
    close(2, 777.125, what="f(big)", hidden=True),
]


@pytest.mark.parametrize(("values", "message"), [
    ([sent(0, 3.0), sent(1, [987.5, 1.0]), sent(2, 777.125)], "hidden test 1 of 2 failed: f on two secret points. Hint: mind the sign"),
    ([sent(0, 3.0), sent(1, [123.456, -654.321]), sent(2, 555.25)], "hidden test 2 of 2 failed: f(big)"),
], ids=["first hidden", "second hidden"])
def test_a_hidden_failure_says_which_hidden_test_failed_with_its_hint(values, message):
    verdict = judge(HIDDEN_RECORDS, values)
    assert not verdict.passed and verdict.message == message


@pytest.mark.parametrize("secret", ["123.456", "654.321", "987.5", "expected", "got"])
def test_a_hidden_failure_shows_neither_the_expected_nor_the_students_value(secret):
    verdict = judge(HIDDEN_RECORDS, [sent(0, 3.0), sent(1, [987.5, 1.0]), sent(2, 777.125)])
    assert secret not in verdict.message


def test_a_hidden_check_true_failure_hides_the_message_the_kernel_sent():
    records = [record("check_true", 0, hidden=True, line=9)]
    verdict = judge(records, [sent(0, False, "expected 97531.0, got 1.0")])
    assert verdict.message == "hidden test 1 of 1 failed: a hidden condition is not met"


def test_a_visible_failure_stops_the_cell_before_later_hidden_tests():
    verdict = judge(HIDDEN_RECORDS, [sent(0, 2.0), sent(1, [987.5, 1.0])])
    assert verdict.message.startswith("f(1): expected 3.0, got 2.0")


# ---- values that never arrived ---------------------------------------------------------------------------
def test_a_visible_value_that_did_not_arrive_fails_with_the_kernels_error():
    verdict = judge([close(0, 2.0, what="f(2)")], [], kernel_error="ZeroDivisionError: division by zero")
    assert not verdict.passed and verdict.message == "f(2): did not run: ZeroDivisionError: division by zero"


@pytest.mark.parametrize("kernel_error, said", [
    ("NotImplementedError: ", "NotImplementedError (the exercise's stub still raises it: its answer is not written yet)"),
    ("KeyError:", "KeyError (raised with no message)"),
])
def test_an_error_raised_with_no_message_is_named_in_words(kernel_error, said):
    verdict = judge([close(0, 2.0, what="f(2)")], [], kernel_error=kernel_error)
    assert verdict.message == f"f(2): did not run: {said}"


def test_a_visible_value_that_did_not_arrive_without_an_error_says_the_cell_stopped():
    verdict = judge([close(0, 2.0), close(1, 3.0, what="f(3)")], [sent(0, 2.0)])
    assert not verdict.passed and verdict.message == "f(3): did not run (the cell stopped before it)"


def test_a_hidden_value_that_did_not_arrive_names_only_the_errors_type():
    records = [close(0, 2.0), close(1, 5.0, what="f(secret)", hidden=True)]
    verdict = judge(records, [sent(0, 2.0)], kernel_error="ValueError: expected 5.0 for input 4.25, student got 1.0")
    assert verdict.message == "hidden test 1 of 1 did not run: f(secret); your code raised ValueError"


def test_a_hidden_value_that_did_not_arrive_without_an_error():
    verdict = judge([close(0, 5.0, what="f(secret)", hidden=True)], [])
    assert verdict.message == "hidden test 1 of 1 did not run: f(secret)"


def test_a_check_true_that_did_not_arrive_is_named_by_its_line():
    verdict = judge([record("check_true", line=7)], [], kernel_error="NameError: name 'g' is not defined")
    assert verdict.message == "the condition on line 7 of the test cell: did not run: NameError: name 'g' is not defined"


# ---- values that are not plain data ----------------------------------------------------------------------
NOT_NUMBERS = {
    "opaque float": Opaque("__main__.AlwaysEqual", ["__main__.AlwaysEqual", "builtins.float", "builtins.object"]),
    "opaque object": Opaque("__main__.Anything", ["__main__.Anything", "builtins.object"]),
    "tensor": TensorData(np.array([1.0, 2.0]), "torch.float64"),
    "parameter": TensorData(np.array([1.0, 2.0]), "torch.float32", "torch.nn.parameter.Parameter"),
}
NUMERIC_RECORDS = {
    "close": close(0, [1.0, 2.0]),
    "shape": record("check_shape", what="s", shape=[2]),
    "finite": record("check_finite", what="f"),
    "equal": record("check_equal", what="e", expected=[1.0, 2.0], hint=""),
}


@pytest.mark.parametrize("value", NOT_NUMBERS.values(), ids=NOT_NUMBERS.keys())
@pytest.mark.parametrize("rec", NUMERIC_RECORDS.values(), ids=NUMERIC_RECORDS.keys())
def test_a_value_that_is_not_plain_data_fails_every_numeric_check(rec, value):
    verdict = judge([rec], [sent(0, value)])
    assert not verdict.passed
    assert value.type_name.rsplit(".", 1)[-1] in verdict.message


def test_a_tensor_fails_check_close_as_it_does_in_jupyterlab():
    tensor = torch.tensor([1.0, 2.0], dtype=torch.float64)
    verdict = judge([close(0, [1.0, 2.0], what="w")], [sent(0, TensorData(tensor.numpy(), "torch.float64"))])
    assert verdict.message == helpers_message(lambda: checks.check_close("w", tensor, [1.0, 2.0]))


# ---- which sent value belongs to which record ------------------------------------------------------------
@pytest.mark.parametrize(("values", "passed"), [
    ([sent(0, 9.0), sent(0, 1.0)], False),
    ([sent(0, 1.0), sent(0, 9.0)], True),
], ids=["wrong first", "right first"])
def test_the_first_value_sent_for_a_check_is_the_one_judged(values, passed):
    assert judge([close(0, 1.0)], values).passed is passed


@pytest.mark.parametrize("stray", [sent(7, 9.0), sent(-1, 9.0), sent("0", 9.0), sent(None, 9.0), sent(True, 9.0),
                                   sent(0.0, 9.0), {"value": 9.0}],
                         ids=["unknown id", "negative id", "string id", "None id", "bool id", "float id", "no id"])
def test_values_for_unknown_or_malformed_check_ids_are_ignored(stray):
    assert judge([close(0, 1.0)], [stray, sent(0, 1.0), stray]).passed


@pytest.mark.parametrize("check_id", [-1, -2])
def test_negative_check_ids_never_match_a_record(check_id):
    verdict = judge([close(0, 1.0)], [sent(check_id, 1.0)])
    assert not verdict.passed and "did not run" in verdict.message


def test_occurrences_of_a_check_in_a_loop_are_matched_in_order():
    records = [close(0, 1.0, what="f(0)"), close(0, 2.0, what="f(1)"), close(0, 3.0, what="f(2)")]
    assert judge(records, [sent(0, 1.0), sent(0, 2.0), sent(0, 3.0)]).passed
    verdict = judge(records, [sent(0, 1.0), sent(0, 3.0), sent(0, 2.0)])
    assert verdict.message == helpers_message(lambda: checks.check_close("f(1)", 3.0, 2.0))


def test_a_loop_that_sent_fewer_values_than_recorded_did_not_run_to_the_end():
    records = [close(0, 1.0, what="f(0)"), close(0, 2.0, what="f(1)")]
    assert judge(records, [sent(0, 1.0)]).message == "f(1): did not run (the cell stopped before it)"


def test_extra_occurrences_beyond_the_records_are_ignored():
    assert judge([close(0, 1.0)], [sent(0, 1.0), sent(0, 5.0), sent(0, 6.0)]).passed


# ---- check_loops, from the submitted source ---------------------------------------------------------------
LOOPY = "def predict(x, m, c):\n    out = []\n    for v in x:\n        out.append(m * v + c)\n    return out\n"
VECTORISED = "def predict(x, m, c):\n    return m * x + c\n"
COMPREHENSION = "def predict(x, m, c):\n    return [m * v + c for v in x if any(True for _ in x)]\n"


def loops_record(at_most: int = 0, hint: str = "use array operations", **kwargs) -> dict:
    return record("check_loops", function="predict", what="predict is vectorised", at_most=at_most, hint=hint, **kwargs)


def function_from(source: str, name: str, filename: str):
    """Define ``name`` from ``source`` so that inspect.getsource finds it (as it does in a notebook)."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict = {}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102
    return namespace[name]


@pytest.mark.parametrize(("source", "at_most"), [(LOOPY, 0), (COMPREHENSION, 0), (COMPREHENSION, 1)],
                         ids=["for loop", "comprehensions", "comprehensions, one allowed"])
def test_a_definition_with_too_many_loops_fails_as_the_helpers_check(source, at_most):
    verdict = judge([loops_record(at_most)], [sent(0, None)], earlier_cells=["import numpy as np", source, "x = 1"])
    function = function_from(source, "predict", f"<cell-{at_most}-{hash(source)}>")
    assert not verdict.passed
    assert verdict.message == helpers_message(lambda: checks.check_loops("predict is vectorised", function, at_most=at_most,
                                                                         hint="use array operations"))


@pytest.mark.parametrize(("source", "at_most"), [(VECTORISED, 0), (LOOPY, 1), (COMPREHENSION, 2)])
def test_a_definition_within_the_allowed_loops_passes(source, at_most):
    assert judge([loops_record(at_most)], [sent(0, None)], earlier_cells=[source]).passed


def test_the_last_definition_wins():
    assert judge([loops_record()], [sent(0, None)], earlier_cells=[LOOPY, VECTORISED]).passed
    assert not judge([loops_record()], [sent(0, None)], earlier_cells=[VECTORISED, "y = 2", LOOPY]).passed
    assert judge([loops_record()], [sent(0, None)], earlier_cells=[LOOPY + "\n" + VECTORISED]).passed


def test_cells_that_do_not_parse_are_skipped_when_looking_for_the_definition():
    cells = [VECTORISED, "def predict(x, m, c):\n    for v in x\n"]
    assert judge([loops_record()], [sent(0, None)], earlier_cells=cells).passed


def test_no_definition_fails_with_a_message_naming_the_function():
    verdict = judge([loops_record()], [sent(0, None)], earlier_cells=["def other():\n    for _ in x: pass\n", "predict = print"])
    assert verdict.message == ("predict is vectorised: expected `predict` defined with `def` in the notebook, "
                               "found none (or it was bound to something else afterwards)")


def test_only_top_level_definitions_count():
    nested = "def outer():\n    def predict(x, m, c):\n        for v in x: pass\n"
    assert loops_in_definition([nested], "predict") is None
    assert loops_in_definition([LOOPY], "predict") == ["For"]
    assert loops_in_definition([COMPREHENSION], "predict") == ["ListComp", "GeneratorExp"]
    assert loops_in_definition(["async def predict():\n    while True: pass\n"], "predict") == ["While"]


def test_check_loops_is_judged_from_the_source_whatever_the_kernel_sent():
    assert not judge([loops_record()], [sent(0, True)], earlier_cells=[LOOPY]).passed
    assert judge([loops_record()], [sent(0, Opaque("x"))], earlier_cells=[VECTORISED]).passed


def test_a_hidden_check_loops_failure_says_only_which_test_and_the_hint():
    verdict = judge([loops_record(hidden=True)], [sent(0, None)], earlier_cells=[LOOPY])
    assert verdict.message == "hidden test 1 of 1 failed: predict is vectorised. Hint: use array operations"


# ---- a value through the real encoder --------------------------------------------------------------------
@pytest.fixture(scope="module")
def probe():
    published: list[dict] = []
    namespace: dict = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("IPython.display.publish_display_data", lambda data, *args, **kwargs: published.append(data))
        exec(plain.KERNEL_ENCODER, namespace)  # noqa: S102

    def send(check_id, value, *extra):
        namespace["__probe__"](check_id, value, *extra)
        return plain.decode_probe(published[-1][plain.MIME])

    return send


class AlwaysEqual(float):
    def __eq__(self, other):
        return True

    __hash__ = float.__hash__


def test_a_value_sent_by_the_encoder_passes_as_the_original_does(probe):
    assert judge([close(0, 2.0, what="f()")], [probe(0, np.float32(2.0))]).passed


def test_a_value_sent_by_the_encoder_fails_as_the_original_does(probe):
    verdict = judge([close(0, 2.0, what="f()")], [probe(0, [2.0, 3.0])])
    assert verdict.message == helpers_message(lambda: checks.check_close("f()", [2.0, 3.0], 2.0))


def test_a_number_impostor_sent_by_the_encoder_fails_naming_its_type(probe):
    verdict = judge([close(0, 2.0, what="f()")], [probe(0, AlwaysEqual(2.0))])
    assert verdict.message == "f(): expected a number or a numpy array, got AlwaysEqual"


def test_a_parameter_passes_check_type_tensor_as_in_jupyterlab(probe):
    parameter = torch.nn.Parameter(torch.ones(2))
    checks.check_type("weights", parameter, torch.Tensor)  # passes in JupyterLab
    verdict = judge([record("check_type", what="weights", expected=["torch.Tensor"])], [probe(0, parameter)])
    assert verdict.passed, verdict.message


def test_loops_in_a_helper_the_function_calls_count():
    cells = ["def _rows(x):\n    return [v for v in x]\n", "def f(x):\n    return _rows(x)\n"]
    assert loops_in_definition(cells, "f") == ["ListComp"]


@pytest.mark.parametrize(("cells", "found"), [
    (["total = sum", "def f(G):\n    return total(G)\n"], ["sum"]),
    (["add = sum", "total = add", "def f(G):\n    return total(G)\n"], ["sum"]),
    (["import builtins as b", "def f(G):\n    return b.sum(G)\n"], ["sum"]),
    (["from numpy import vectorize as v", "def f(x):\n    return v(g)(x)\n"], ["vectorize"]),
    (["rows = lambda x: [r for r in x]", "def f(x):\n    return rows(x)\n"], ["ListComp"]),
    (["X = np.array([i for i in range(3)])", "def f(x):\n    return np.sum(x * X)\n"], []),
    (["total = sum", "total = np.sum", "def f(G):\n    return total(G)\n"], []),
    (["import builtins", 'total = getattr(builtins, "sum")', "def f(G):\n    return total(G)\n"],
     ["name picked at run time (getattr)"]),
    (['total = __builtins__["sum"]', "def f(G):\n    return total(G)\n"], ["name picked at run time (__builtins__)"]),
    (["def f(G):\n    return getattr(builtins, 'sum')(G)\n"], ["name picked at run time (getattr)"]),
    (["from functools import partial", "total = partial(sum, start=0)", "def f(G):\n    return total(G)\n"], ["sum"]),
    (["from operator import attrgetter", "import builtins", 'total = attrgetter("sum")(builtins)', "def f(G):\n    return total(G)\n"],
     ["name picked at run time (operator.attrgetter)"]),
], ids=["an alias", "an alias of an alias", "through an imported module's other name", "imported under another name",
        "a lambda bound to a name", "data made by a comprehension", "an alias bound again", "getattr in another cell",
        "__builtins__ subscripted in another cell", "getattr in the function", "a partial of sum",
        "attrgetter imported in another cell"])
def test_a_loop_in_disguise_under_another_name_in_another_cell_counts(cells, found):
    assert loops_in_definition(["import numpy as np", *cells], "f") == found


def test_a_name_bound_again_after_its_definition_is_not_a_definition():
    cells = ["def f(x):\n    return x\n", "def _g(x):\n    for v in x:\n        pass\n", "f = _g\n"]
    assert loops_in_definition(cells, "f") is None


def test_a_definition_inside_an_if_counts():
    cells = ["if True:\n    def f(x):\n        while x:\n            x -= 1\n"]
    assert loops_in_definition(cells, "f") == ["While"]


# ---- check_accuracy: the labels stay in the trusted records ---------------------------------------------------
def test_check_accuracy_is_judged_against_the_recorded_labels_and_a_hidden_failure_shows_no_label():
    labels = np.arange(20) % 10
    rec = record("check_accuracy", hidden=True, what="final_model on sealed digits", expected=labels, at_least=0.9,
                 hint="try another design")
    assert judge([rec], [sent(0, labels.copy())]).passed
    wrong = labels.copy()
    wrong[:3] = (wrong[:3] + 1) % 10
    verdict = judge([rec], [sent(0, wrong)])
    assert verdict == Verdict(False, "hidden test 1 of 1 failed: final_model on sealed digits. Hint: try another design")
    visible = {**rec, "hidden": False}
    assert judge([visible], [sent(0, wrong)]).message == helpers_message(
        lambda: checks.check_accuracy("final_model on sealed digits", wrong, labels, at_least=0.9, hint="try another design"))
    for forged in (TensorData(labels.astype(float), "torch.float64"), Opaque("__main__.Anything", ["builtins.object"]), "all"):
        assert not judge([rec], [sent(0, forged)]).passed


# ---- check_libraries: what a function reaches, read from the submitted cells -------------------------------
PROVIDED = ["import numpy as np\nimport matplotlib.pyplot as plt\nfrom helpers import check_close, plot_loss",
            "X = np.arange(5.0)\nplt.rcParams['figure.dpi'] = 80\nhistory = {}\nhistory['plot'] = plot_loss"]
HONEST_MSE = "def mse(y, p):\n    r = y - p\n    return float(np.mean(r ** 2))"


def libraries_record(**kwargs) -> dict:
    return record("check_libraries", function="mse", what="libraries mse uses", allowed=["numpy", "math"],
                  refused=["imag"], hint="write it with NumPy", **kwargs)


@pytest.mark.parametrize("cell", [
    HONEST_MSE,
    "%matplotlib inline\n" + HONEST_MSE,
    "import math\n" + HONEST_MSE.replace("float(", "math.fsum([0.0]) + float("),
    "import torch\nr = torch.zeros(3)\n" + HONEST_MSE,  # a global of the same name as mse's local r
    "def _squares(r):\n    return r ** 2\n" + HONEST_MSE.replace("r ** 2", "_squares(r)"),
    HONEST_MSE + "\nimport sklearn.metrics\nprint(sklearn.metrics.mean_squared_error([1.0], [2.0]), mse(np.ones(1), np.ones(1)))",
    "import time\ndef timed(f, runs):\n    log = {}\n    log['start'] = time.perf_counter()\n    return log\n" + HONEST_MSE
    + "\nresults = {}\nresults['mse'] = timed(mse, 3)\nresults['axes'] = plt.subplots(1, 2)",
    HONEST_MSE + "\nprint(np.__version__)\nclass Timer:\n    def __repr__(self):\n        return f'{self.__class__.__name__}()'",
    "if 'history' not in globals():\n    history = []\nclass Config:\n    def __init__(self, **kw):\n        for k, v in kw.items():\n"
    "            setattr(self, k, v)\nprint(vars(Config(lr=0.1)))\n" + HONEST_MSE,
    "import numpy as np, pandas as pd\nfrom typing import Sequence\nEPS, other = 0.0, pd.Series([1.0])\n"
    "def mse(y: Sequence[float], p: Sequence[float], eps=EPS):\n    return float(np.mean((y - p) ** 2)) + eps",
    HONEST_MSE + "\nfrom sklearn.metrics import mean_squared_error\nlosses = {'mine': mse}\nlosses['sklearn'] = mean_squared_error\n"
    "for f in [mse, mean_squared_error]:\n    print(f(np.ones(2), np.zeros(2)))",
    "try:\n    pass\nexcept Exception as e:\n    print(type(e).__name__, e.__class__)\n" + HONEST_MSE
    + "\n%timeit mse(np.ones(3), np.ones(3))\n%config InlineBackend.figure_format = 'retina'",
    "def add(store, value):\n    store.last = value\nfor r in [np]:\n    pass\ndef mse(y, p):\n    kept = set()\n\n"
    "    def keep(r):\n        kept.add(r)\n        return r\n    return float(np.mean(keep((y - p) ** 2)))",
], ids=["plain", "a magic in the cell", "math", "a global of a local's name", "a helper of its own", "comparing with sklearn",
        "other code storing other things", "a version and a class name printed", "globals() read, setattr on self",
        "a multi-name import, annotations, a tuple assignment", "a table of losses beside it", "except as, magics",
        "a nested function using its enclosing function's names"])
def test_code_that_reaches_only_the_allowed_modules_passes(cell):
    verdict = judge([libraries_record()], [sent(0, None)], earlier_cells=[*PROVIDED, cell])
    assert verdict.passed, verdict.message


@pytest.mark.parametrize(("cell", "found"), [
    ("from sklearn.metrics import mean_squared_error\ndef mse(y, p):\n    return mean_squared_error(y, p)",
     "the module sklearn.metrics (in the line `from sklearn.metrics import mean_squared_error`)"),
    ("def mse(y, p):\n    import sklearn.metrics as m\n    return m.mean_squared_error(y, p)", "the module sklearn.metrics (in mse)"),
    ("def mse(y, p):\n    return getattr(__import__('sk' + 'learn.metrics', fromlist=['m']), 'mean_squared_error')(y, p)",
     "`__import__` (in mse), which picks what it reaches only when it runs"),
    ("def mse(y, p):\n    return getattr(np, 'me' + 'an')((y - p) ** 2)",
     "`getattr` (in mse), which picks what it reaches only when it runs"),
    ("from sklearn.metrics import mean_squared_error as f\nnp.mse = f\ndef mse(y, p):\n    return np.mse(y, p)",
     "the module sklearn.metrics"),
    ("import sklearn.metrics as sm\nholder = [np]\nholder[0].mse = sm.mean_squared_error\ndef mse(y, p):\n    return np.mse(y, p)",
     "the module sklearn.metrics"),
    ("globals()['helper'] = print\ndef mse(y, p):\n    return helper(y, p)", "`globals` (in the line `globals()['helper'] = print`)"),
    ("def mse(y, p):\n    return helper(y, p)", "`helper`, which no cell defines"),
    ("%time import sklearn.metrics as m\ndef mse(y, p):\n    return m.mean_squared_error(y, p)", "the module sklearn.metrics"),
    ("def setup():\n    global np\n    import sklearn as np\nsetup()\ndef mse(y, p):\n    return np.metrics.mean_squared_error(y, p)",
     "the module sklearn (in setup, reached through the global `np`)"),
    ("import torch\nones = torch.ones(2)\ndef mse(y, p):\n    return float(np.mean((y - p) ** 2)) + 0 * float(ones.sum())",
     "the module torch (in the line `import torch`, reached through the global `ones`)"),
    ("def patch(module, f):\n    module.mse = f\ndef setup():\n    from sklearn.metrics import mean_squared_error as sk\n"
     "    patch(np, sk)\nsetup()\ndef mse(y, p):\n    return np.mse(y, p)", "the module sklearn.metrics (in setup"),
    ("def mse(y, p):\n    return np.imag(np.mean((y - p + 0j) ** 2))", "`imag` (in mse)"),
    ("def mse(y, p):\n    return np.__dict__['mean']((y - p) ** 2)", "`.__dict__` (in mse)"),
    ("import sklearn.metrics as sm\ndef patch(module, f):\n    module.mse = f\npatch(np, sm.mean_squared_error)\n"
     "def mse(y, p):\n    return np.mse(y, p)", "the module sklearn.metrics"),
    ("import sklearn.metrics as sm\nfor module in [np]:\n    module.mse = sm.mean_squared_error\n"
     "def mse(y, p):\n    return np.mse(y, p)", "the module sklearn.metrics"),
    ("from sklearn.metrics import mean_squared_error\ndef mse(y, p):\n    [mean_squared_error for mean_squared_error in ()]\n"
     "    return mean_squared_error(y, p)", "the module sklearn.metrics"),
    ("tools = []\ndef mse(y, p):\n    return tools[0](y, p)\nfrom sklearn.metrics import mean_squared_error\n"
     "tools.append(mean_squared_error)", "the module sklearn.metrics"),
    ("def mse(y, p):\n    return round(y, p)\nfrom sklearn.metrics import mean_squared_error\nmatch mean_squared_error:\n"
     "    case round:\n        pass", "the module sklearn.metrics"),
    ("def setup():\n    global mse\n    from sklearn.metrics import mean_squared_error as mse\n" + HONEST_MSE + "\nsetup()",
     "the module sklearn.metrics (in setup)"),
    (HONEST_MSE + "\n%run -i sk_mse.py", "`get_ipython` (in the line `get_ipython().run_line_magic('run', '-i sk_mse.py')`)"),
    ("from helpers import importlib as loader\ndef mse(y, p):\n    return loader.import_module('sklearn.metrics').mean_squared_error(y, p)",
     "the module helpers.importlib"),
    ("import __main__ as nb\ndef mse(y, p):\n    return nb.mean_squared_error(y, p)", "the module __main__"),
    ("def mse(y, p):\n    return np.load('f.npy', allow_pickle=True).item()(y, p)", "`allow_pickle` (in mse)"),
    (HONEST_MSE + "\nfrom builtins import setattr as put\nput(np, 'mean', print)", "`from builtins import`"),
], ids=["imported", "imported inside", "built at run time", "a name computed for getattr", "patched into numpy",
        "patched through another name", "bound through globals()", "defined nowhere", "imported in a magic",
        "rebound by a global statement", "data made by a library", "patched from inside a function", "a refused word",
        "through __dict__", "patched by a function given numpy", "patched in a loop over modules",
        "a comprehension's variable of the same name", "a list filled by a call", "a built-in rebound by a match capture",
        "rebound through global by a later call", "rebound by %run", "helpers' own imports", "__main__", "unpickled",
        "setattr imported under another name"])
def test_code_that_reaches_a_library_fails_naming_it_and_where(cell, found):
    verdict = judge([libraries_record()], [sent(0, True)], earlier_cells=[*PROVIDED, cell])
    assert not verdict.passed
    assert verdict.message.startswith("libraries mse uses: expected code that reaches only numpy, math and Python's built-ins, "
                                      "naming none of imag, found ")
    assert found in verdict.message and verdict.message.endswith(". Hint: write it with NumPy")


def test_check_libraries_reads_as_the_helpers_check():
    cell = "from sklearn.metrics import mean_squared_error\ndef mse(y, p):\n    return mean_squared_error(y, p)\n"
    function = function_from("def mse(y, p):\n    return mean_squared_error(y, p)\n", "mse", "<cell-libraries>")
    function.__globals__["mean_squared_error"] = pytest.importorskip("sklearn.metrics").mean_squared_error
    verdict = judge([libraries_record()], [sent(0, None)], earlier_cells=[cell])
    kernel = helpers_message(lambda: checks.check_libraries("libraries mse uses", function, allowed=("numpy", "math"),
                                                            refused=("imag",), hint="write it with NumPy"))
    assert kernel.split(", found ")[0] == verdict.message.split(", found ")[0]
    assert "sklearn.metrics" in kernel and "sklearn.metrics" in verdict.message


def test_check_libraries_does_not_read_the_functions_of_an_earlier_exercise_it_is_told_to_skip():
    # add is an earlier exercise's (checked by its own test), reached from mse as a method of a class
    cells = [*PROVIDED, "class Number:\n    pass\ndef add(a, b):\n    import sympy\n    return a\nNumber.__add__ = add",
             HONEST_MSE.replace("float(", "Number and float(")]
    assert judge([libraries_record(skip=["add"])], [sent(0, None)], earlier_cells=cells).passed
    verdict = judge([libraries_record()], [sent(0, None)], earlier_cells=cells)
    assert not verdict.passed and "the module sympy (in add" in verdict.message
    # a function of a skipped name bound again in the checked function's own cell, or after it, is read
    again = "def add(a, b):\n    import sympy\n    return a\nNumber.__add__ = add\n" + HONEST_MSE.replace("float(", "Number and float(")
    for later in ([again], [HONEST_MSE.replace("float(", "Number and float("), "from sympy import *"]):
        verdict = judge([libraries_record(skip=["add"])], [sent(0, None)], earlier_cells=[*cells[:-1], *later])
        assert not verdict.passed and "sympy" in verdict.message
    # the function checked is read even when its own name is among those skipped
    verdict = judge([libraries_record(skip=["mse"])], [sent(0, None)], earlier_cells=[*PROVIDED, "import torch\n" + HONEST_MSE
                                                                                      .replace("np.mean", "torch.mean")])
    assert not verdict.passed


def test_check_libraries_needs_a_definition_and_hides_a_hidden_failure():
    assert libraries_in_definition(["mse = print"], "mse") is None
    verdict = judge([libraries_record()], [sent(0, None)], earlier_cells=["mse = print"])
    assert verdict.message.startswith("libraries mse uses: expected `mse` defined with `def` in the notebook")
    torch_mse = "import torch\ndef mse(y, p):\n    return torch.mean(y)"
    verdict = judge([libraries_record(hidden=True)], [sent(0, None)], earlier_cells=[torch_mse])
    assert verdict.message == "hidden test 1 of 1 failed: libraries mse uses. Hint: write it with NumPy"


def test_a_cell_with_ipython_syntax_is_read_as_the_python_it_runs():
    tree = python_cell("%matplotlib inline\n!ls\n%timeit -n 3 f(1)\nx = %time g(2)")
    assert [ast.unparse(statement) for statement in tree.body] == ["None", "None", "None", "x = None", "f(1)", "g(2)"]
    assert python_cell("def f(:\n    pass") is None


RECURSIVE = "def predict(x, m, c):\n    return x[:0] if len(x) == 0 else np.concatenate([[m * x[0] + c], predict(x[1:], m, c)])\n"
MUTUAL = ("def predict(x, m, c):\n    return step(x, m, c)\n\n\n"
          "def step(x, m, c):\n    return x[:0] if len(x) == 0 else np.concatenate([[m * x[0] + c], predict(x[1:], m, c)])\n")


ALIASED = ("def predict(x, m, c):\n    return x[:0] if len(x) == 0 else np.concatenate([[m * x[0] + c], again(x[1:], m, c)])\n\n\n"
           "again = predict\n")


BELOW = ("def predict(x, m, c):\n    return odd(x, m, c)\n\n\n"
         "def odd(x, m, c):\n    return x[:0] if len(x) == 0 else np.concatenate([[m * x[0] + c], even(x[1:], m, c)])\n\n\n"
         "def even(x, m, c):\n    return x[:0] if len(x) == 0 else np.concatenate([[m * x[0] + c], odd(x[1:], m, c)])\n")


@pytest.mark.parametrize(("source", "named"), [(RECURSIVE, "predict"), (MUTUAL, "predict"), (ALIASED, "predict"),
                                               (BELOW, "even")],
                         ids=["itself", "through another function", "through an alias", "between two functions it calls"])
def test_recursion_counts_as_a_loop_as_in_the_helpers_check(source, named):
    verdict = judge([loops_record()], [sent(0, None)], earlier_cells=["import numpy as np", source])
    filename = f"<cell-recursive-{hash(source)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict = {"__name__": "__main__"}  # as a notebook defines them: their calls are followed
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102
    function = namespace["predict"]
    assert not verdict.passed and f"1 recursive call ({named})" in verdict.message
    assert verdict.message == helpers_message(lambda: checks.check_loops("predict is vectorised", function,
                                                                         hint="use array operations"))
