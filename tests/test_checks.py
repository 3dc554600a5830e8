"""helpers.checks: failures say what was expected and what came back; nothing odd passes."""

from __future__ import annotations

import builtins
import functools
import linecache

import numpy as np
import pytest
from sklearn.metrics import mean_squared_error

from helpers.checks import CheckFailed, check_close, check_finite, check_loops, check_shape, check_true, check_type


def test_check_close_passes_within_tolerance():
    check_close("x", np.array([1.0, 2.0]), [1.0, 2.0 + 1e-9])
    check_close("x", 3, 3.0)
    check_close("x", (1.0, 2.0), [1.0, 2.0])


def test_check_close_says_what_was_expected_and_what_came_back():
    with pytest.raises(CheckFailed) as failure:
        check_close("predict(x, 2, 1)", np.array([3.0, 4.0]), [3.0, 5.0], hint="the line is m * x + c")
    message = str(failure.value)
    assert message.startswith("predict(x, 2, 1): expected [3., 5.] (shape (2,)), got [3., 4.] (shape (2,))")
    assert "worst mismatch at index (1,)" in message and message.endswith("Hint: the line is m * x + c")
    with pytest.raises(CheckFailed, match=r"mse\(\): expected 5.0, got 4.0"):
        check_close("mse()", 4.0, 5.0)


def test_a_value_that_is_not_numbers_keeps_the_checks_hint():
    with pytest.raises(CheckFailed) as failure:
        check_close("grad of exp", "math range error", [2.0], hint="use the output you saved")
    assert str(failure.value) == "grad of exp: expected numbers, got str: 'math range error'. Hint: use the output you saved"
    with pytest.raises(CheckFailed, match=r"got dict\. Hint: return an array$"):
        check_shape("x", {}, (2,), hint="return an array")


def test_values_that_differ_beyond_the_digits_shown_are_shown_in_full():
    """float32 rounding prints like the right answer at six digits: the worst entry is then shown in full."""
    with pytest.raises(CheckFailed) as failure:
        check_close("poly_features(x, 2)", np.array([1.0, 0.1], dtype=np.float32).astype(float), [1.0, 0.1], rtol=1e-12, atol=0,
                    hint="compute in float64")
    message = str(failure.value)
    assert message.startswith("poly_features(x, 2): expected [1. , 0.1] (shape (2,)), got [1. , 0.1] (shape (2,))")
    assert "there 0.10000000149011612 differs from 0.1 by 1.49e-09, more than the tolerance 1e-13" in message
    assert message.endswith("Hint: compute in float64")


@pytest.mark.parametrize(("got", "expected", "says"), [
    ((2, 1), (2,), "a dimension of length 1 too many: (2, 1) where (2,) is asked"),
    ((3,), (1, 3), "a dimension of length 1 missing: (3,) where (1, 3) is asked"),
    ((1, 3), (3, 1), "the dimension of length 1 in another place: (1, 3) where (3, 1) is asked"),
    ((3, 2), (2, 3), "the dimensions in reverse order"),
])
def test_a_wrong_shape_is_explained_when_the_shapes_say_how(got, expected, says):
    # the exercise's own hint names the likeliest mistake, so it comes first; what the shapes say follows
    with pytest.raises(CheckFailed) as failure:
        check_close("db", np.zeros(got), np.zeros(expected), hint="sum over the examples")
    message = str(failure.value)
    assert message.startswith(f"db: expected shape {expected}, got shape {got}. Hint: sum over the examples; ")
    assert says in message
    assert "keepdims" not in message and "reshape" not in message and "None]" not in message


def test_a_wrong_shape_without_a_pattern_gets_only_the_exercise_hint():
    with pytest.raises(CheckFailed) as failure:
        check_close("db", np.zeros(4), np.zeros(3), hint="one per unit")
    assert str(failure.value) == "db: expected shape (3,), got shape (4,). Hint: one per unit"
    with pytest.raises(CheckFailed) as failure:
        check_shape("db", np.zeros(4), (3,))
    assert str(failure.value) == "db: expected shape (3,), got shape (4,)"


def test_check_close_rejects_wrong_shapes_nan_and_impostors():
    with pytest.raises(CheckFailed, match=r"expected shape \(2,\), got shape \(2, 1\)"):
        check_close("x", np.zeros((2, 1)), [0.0, 0.0])
    with pytest.raises(CheckFailed, match="got nan"):
        check_close("x", float("nan"), 1.0)

    class EqualsEverything:
        def __eq__(self, other):
            return True

    with pytest.raises(CheckFailed, match="expected a number or a numpy array, got EqualsEverything"):
        check_close("x", EqualsEverything(), 1.0)
    with pytest.raises(CheckFailed, match="expected numbers, got str"):
        check_close("x", "1.0", 1.0)
    with pytest.raises(CheckFailed, match="expected numbers, got NoneType"):
        check_close("x", None, 1.0)


def test_check_close_matches_inf_and_nan_only_by_the_same_value():
    diverged = [1e300, -np.inf, np.nan, np.inf]
    check_close("a diverged run", diverged, diverged, rtol=1e-9)
    for wrong, index in (([1e300, -np.inf, np.nan, 1.79e308], 3), ([1e300, np.inf, np.nan, np.inf], 1),
                         ([1e300, -np.inf, 0.0, np.inf], 2), ([np.inf, -np.inf, np.nan, np.inf], 0)):
        with pytest.raises(CheckFailed, match=rf"worst mismatch at index \({index},\)"):
            check_close("a diverged run", wrong, diverged, rtol=1e-9)
    with pytest.raises(CheckFailed, match="expected 1.0, got inf"):
        check_close("x", np.inf, 1.0)


def test_check_shape_type_true_and_finite():
    assert check_shape("a", [[1, 2]], (1, 2)).dtype == float
    with pytest.raises(CheckFailed, match=r"a: expected shape \(2,\), got shape \(3,\)"):
        check_shape("a", [1, 2, 3], (2,))
    check_type("t", (1, 2), tuple)
    with pytest.raises(CheckFailed, match="t: expected a tuple, got list"):
        check_type("t", [1, 2], tuple)
    with pytest.raises(CheckFailed, match="n: expected an int, got float"):
        check_type("n", 1.5, int)
    with pytest.raises(CheckFailed, match="x: expected an ndarray, got list"):
        check_type("x", [1.0], np.ndarray)
    check_true(True, "never shown")
    check_true(np.bool_(True), "never shown")
    with pytest.raises(CheckFailed, match="must be True"):
        check_true(1, "must be True")
    with pytest.raises(CheckFailed, match="must be True"):
        check_true(np.array([True, True]), "must be True")
    with pytest.raises(CheckFailed, match="expected finite numbers"):
        check_finite("f", [1.0, np.inf])
    with pytest.raises(CheckFailed) as failure:
        check_finite("f", [np.nan], hint="divide by n, not n - 1")
    assert str(failure.value) == "f: expected finite numbers, got [nan] (shape (1,)). Hint: divide by n, not n - 1"


def test_check_accuracy_passes_at_the_threshold_and_says_share_and_count_but_never_the_labels():
    from helpers.checks import check_accuracy

    labels = np.arange(10) % 10
    predicted = labels.copy()
    predicted[:1] = 9
    assert check_accuracy("model on 10 digits", predicted, labels, at_least=0.9) == 0.9
    predicted[:2] = 9
    with pytest.raises(CheckFailed) as failure:
        check_accuracy("model on 10 digits", predicted, labels, at_least=0.9, hint="train longer")
    assert str(failure.value) == "model on 10 digits: expected at least 90.0% right, got 80.0% (8 of 10). Hint: train longer"
    with pytest.raises(CheckFailed, match=r"expected shape \(10,\), got shape \(9,\)"):
        check_accuracy("model on 10 digits", predicted[:9], labels, at_least=0.9)
    with pytest.raises(CheckFailed, match="expected numbers"):
        check_accuracy("model on 10 digits", None, labels, at_least=0.0)


@pytest.mark.parametrize(("source", "found"), [
    ("np.vectorize(f)(x)", ["vectorize"]),
    ("numpy.frompyfunc(f, 1, 1)(x)", ["frompyfunc"]),
    ("np.apply_along_axis(f, 0, x)", ["apply_along_axis"]),
    ("np.apply_over_axes(np.sum, x, [0])", ["apply_over_axes"]),
    ("list(map(f, x))", ["map"]),
    ("reduce(lambda a, b: a + b, x)", ["reduce"]),
    ("functools.reduce(operator.add, x)", ["reduce"]),
    ("list(itertools.accumulate(x))", ["accumulate"]),
    ("list(itertools.starmap(f, pairs))", ["starmap"]),
    ("math.fsum((y - p) ** 2) / len(y)", ["fsum"]),
    ("from math import fsum\nfsum(r * r)", ["fsum"]),
    ("import math as m\nm.fsum(r)", ["fsum"]),
    ("add_up = math.fsum\nadd_up(r)", ["fsum"]),
    ("np.add.reduce(x) + np.maximum.accumulate(x)[-1]", []),
    ("np.mean((x - y) ** 2, axis=-1)", []),
    ("x.map_blocks(f)", []),
    ("sum(G)", ["sum"]),
    ("sum(G, np.zeros(3))", ["sum"]),
    ("sum(g * g for g in G)", ["GeneratorExp"]),
    ("G.sum(axis=0) + np.sum(G, axis=0) + x.sum()", []),
    # under another name: a mention counts, called or not
    ("total = sum\ntotal(G)", ["sum"]),
    ("builtins.sum(G)", ["sum"]),
    ("import builtins as b\nb.sum(G)", ["sum"]),
    ("from builtins import sum as add_rows\nadd_rows(G)", ["sum"]),
    ("apply = map\nlist(apply(f, x))", ["map"]),
    ("v = np.vectorize\nv(f)(x)", ["vectorize"]),
    ("from numpy import vectorize as vec\nvec(f)(x)", ["vectorize"]),
    ("import functools as ft\nft.reduce(f, x)", ["reduce"]),
    # a name picked when the code runs could be any loop: it counts as one
    ('getattr(builtins, "sum")(G)', ["name picked at run time (getattr)"]),
    ('__builtins__["sum"](G)', ["name picked at run time (__builtins__)"]),
    ('eval("su" + "m")(G)', ["name picked at run time (eval)"]),
    ('globals()["_total"](G)', ["name picked at run time (globals)"]),
    ('globals().get("_total")(G)', ["name picked at run time (globals)"]),
    ('builtins.__dict__["sum"](G)', ["name picked at run time (.__dict__)"]),
    ('import sys\nsys.modules["builtins"].sum(G)', ["name picked at run time (sys.modules)"]),
    ('import operator as op\nop.attrgetter("sum")(builtins)(G)', ["name picked at run time (operator.attrgetter)"]),
    ('from operator import methodcaller\nmethodcaller("sum")(G)', ["name picked at run time (operator.methodcaller)"]),
    ("import operator\noperator.itemgetter(0)(pairs)", []),
    # a name of the code's own is not the built-in
    ("sum = G.sum(axis=0)\nsum * 2", []),
    ("def f(sum, map):\n    return sum(x) + map", []),
])
def test_calls_that_loop_in_python_count_as_loops(source, found):
    from helpers.checks import count_loops

    assert count_loops(source) == found


# ---- check_libraries, in the kernel: read from the function's source and from where its values come from --------
def _squares(r):
    return r ** 2


def mse_with_numpy(y, p):
    return float(np.mean(_squares(y - p)))


def mse_with_an_imported_function(y, p):
    return mean_squared_error(y, p)


def mse_importing_inside(y, p):
    import sklearn.metrics as metrics

    return metrics.mean_squared_error(y, p)


def mse_by_a_name_built_at_run_time(y, p):
    return getattr(np, "me" + "an")((y - p) ** 2)


class _Squarer:
    def __call__(self, r):
        import scipy.special

        return scipy.special.pow(r, 2)


def mse_through_a_class_of_its_own(y, p):
    return float(np.mean(_Squarer()(y - p)))


def mse_naming_a_refused_word(y, p):
    return float(np.real(np.mean((y - p) ** 2)))


# functions held in a dict: one written over several lines (its own source alone is no statement), a refused one,
# and one behind functools.partial
_SCALES = {
    "square": lambda r: np.mean(
        r ** 2),
    "real": np.real,
}
_PARTIALS = {"real": functools.partial(np.real)}


def mse_through_a_dict_of_lambdas(y, p):
    return float(_SCALES["square"](y - p))


def mse_through_a_refused_function_in_a_dict(y, p):
    return float(np.mean(_SCALES["real"](y - p) ** 2))


def mse_through_a_partial(y, p):
    return float(np.mean(_PARTIALS["real"](y - p) ** 2))


def test_check_libraries_passes_numpy_and_the_notebooks_own_helpers():
    from helpers.checks import check_libraries

    check_libraries("libraries mse uses", mse_with_numpy, allowed=("numpy",), refused=("real",))
    check_libraries("libraries mse uses", mse_through_a_dict_of_lambdas, allowed=("numpy",), refused=("fft",))


@pytest.mark.parametrize(("function", "found"), [
    (mse_with_an_imported_function, "sklearn.metrics._regression (in mean_squared_error in mse_with_an_imported_function)"),
    (mse_importing_inside, "the module sklearn.metrics (in mse_importing_inside)"),
    (mse_by_a_name_built_at_run_time, "`getattr` (in mse_by_a_name_built_at_run_time), which picks what it reaches only when it runs"),
    (mse_through_a_class_of_its_own, "the module scipy.special (in __call__)"),
    (mse_naming_a_refused_word, "`real` (in mse_naming_a_refused_word)"),
    (print, "print, whose source cannot be read"),
    (mse_through_a_refused_function_in_a_dict, "`real` (in _SCALES in mse_through_a_refused_function_in_a_dict)"),
    (mse_through_a_partial, "`real` (in _PARTIALS in mse_through_a_partial)"),
])
def test_check_libraries_fails_naming_what_is_reached_and_where(function, found):
    from helpers.checks import check_libraries

    with pytest.raises(CheckFailed) as failure:
        check_libraries("libraries mse uses", function, allowed=("numpy",), refused=("real",), hint="write it with NumPy")
    message = str(failure.value)
    assert message.startswith("libraries mse uses: expected code that reaches only numpy and Python's built-ins, naming none of "
                              "real, found ")
    assert found in message and message.endswith(". Hint: write it with NumPy")


# An earlier exercise's answer, defined in a cell of its own (its own file name, as IPython gives each cell), with a
# mistake its own test checks; and one defined in this file, beside the function checked.
_EARLIER_CELL = "def add_with_sympy(a, b):\n    import sympy\n\n    return a\n"
linecache.cache["<cell-earlier>"] = (len(_EARLIER_CELL), None, _EARLIER_CELL.splitlines(keepends=True), "<cell-earlier>")
exec(compile(_EARLIER_CELL, "<cell-earlier>", "exec"), globals())


class _Number:
    pass


class _Other:
    pass


def mul_with_sympy(a, b):
    import sympy  # noqa: F401

    return a


_Number.__add__ = globals()["add_with_sympy"]
_Other.__mul__ = mul_with_sympy


def mse_of_numbers(y, p):
    return float(np.mean((y - p) ** 2)) if _Number else 0.0


def mse_of_others(y, p):
    return float(np.mean((y - p) ** 2)) if _Other else 0.0


def test_check_libraries_skips_an_earlier_cells_functions_it_is_told_to_but_not_the_checked_cells():
    from helpers.checks import check_libraries

    check_libraries("libraries mse uses", mse_of_numbers, allowed=("numpy",), skip=("add_with_sympy",))
    with pytest.raises(CheckFailed, match=r"the module sympy \(in add_with_sympy\)"):
        check_libraries("libraries mse uses", mse_of_numbers, allowed=("numpy",))
    with pytest.raises(CheckFailed, match=r"the module sympy \(in mul_with_sympy\)"):  # defined in the checked cell
        check_libraries("libraries mse uses", mse_of_others, allowed=("numpy",), skip=("mul_with_sympy",))
    with pytest.raises(CheckFailed, match=r"the module sympy \(in add_with_sympy\)"):
        check_libraries("libraries add uses", globals()["add_with_sympy"], allowed=("numpy",), skip=("add_with_sympy",))


def _rows_added_through_a_global_alias(G):
    return _add_rows(G)


_add_rows = sum


def test_check_loops_sees_a_loop_in_disguise_bound_to_another_name_in_another_cell():
    with pytest.raises(CheckFailed, match="expected no Python loops, found 1 call of sum"):
        check_loops("rows added", _rows_added_through_a_global_alias)


def _squares_by_comprehension(x):
    squares = [v * v for v in x]
    return [s + 1 for s in squares], {v for v in x}


def test_check_loops_names_each_loop_as_a_student_would():
    with pytest.raises(CheckFailed, match="expected no Python loops, found 2 list comprehensions, 1 set comprehension$"):
        check_loops("squares", _squares_by_comprehension)


def _rows_added_through_a_name_picked_at_run_time(G):
    return getattr(builtins, "su" + "m")(G)


def test_check_loops_counts_a_name_picked_at_run_time_in_the_kernel():
    with pytest.raises(CheckFailed, match=r"expected no Python loops, found 1 name picked at run time \(getattr\) \(a name "
                                          r"picked at run time hides what the code calls, so the rule counts it as a loop"):
        check_loops("rows added", _rows_added_through_a_name_picked_at_run_time)


def _squares_by_recursion(x):
    return x[:0] if len(x) == 0 else [x[0] * x[0], *_squares_by_recursion(x[1:])]


def _squares_by_a_recursive_lambda(x):
    square_all = lambda v: [] if not len(v) else [v[0] ** 2] + square_all(v[1:])  # noqa: E731
    return square_all(x)


def _squares_through_a_partner(x):
    return _partner_of_squares(x)


def _partner_of_squares(x):
    return [] if not len(x) else [x[0] ** 2, *_squares_through_a_partner(x[1:])]


_squares_through_a_partner.__module__ = _partner_of_squares.__module__ = "__main__"  # as a notebook defines them


def _squares_through_two_helpers(x):
    return _squares_even(x)


def _squares_even(x):
    return [] if not len(x) else [x[0] ** 2, *_squares_odd(x[1:])]


def _squares_odd(x):
    return [] if not len(x) else [x[0] ** 2, *_squares_even(x[1:])]


_squares_through_two_helpers.__module__ = _squares_even.__module__ = _squares_odd.__module__ = "__main__"


@pytest.mark.parametrize(("function", "found"), [(_squares_by_recursion, "_squares_by_recursion"),
                                                 (_squares_by_a_recursive_lambda, "square_all"),
                                                 (_squares_through_a_partner, "_squares_through_a_partner"),
                                                 (_squares_through_two_helpers, "_squares_even")],
                         ids=["itself", "a lambda", "through another function", "between two helpers it calls"])
def test_check_loops_counts_recursion_as_a_loop(function, found):
    assert function([1.0, 2.0]) == [1.0, 4.0]
    with pytest.raises(CheckFailed, match=rf"expected no Python loops, found 1 recursive call \({found}\)$"):
        check_loops("squares", function)


def test_check_loops_fails_when_the_source_cannot_be_read():
    namespace: dict = {}
    exec("def squares(x):\n    return [v * v for v in x]\n", namespace)  # noqa: S102
    with pytest.raises(CheckFailed, match="the source of 'squares' cannot be read.*Hint: define the function with def"):
        check_loops("squares", namespace["squares"])
