"""Checks used by the exercises' test cells: each failure says what was expected and what came back.

They only compare; they never compute an exercise's answer. Messages are written for a student
reading nbgrader feedback, e.g. ``predict(x, m=2, c=1): expected [3. 5.], got [3. 4.]``.
"""

from __future__ import annotations

import ast
import builtins
import functools
import inspect
import itertools
import linecache
import math
import re
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import reach

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # colour codes in IPython's traceback


class CheckFailed(AssertionError):
    """A test failed; the message says what was expected and what came back.

    A subclass of ``AssertionError``, so nbgrader counts the test cell as failed. Raised by every ``check_*``
    function.
    """

    def _render_traceback_(self) -> list[str]:
        # IPython shows an error through this method when it exists. `nbgrader validate` cuts every line it
        # prints at 87 characters, so the message is wrapped to 80: what was expected, what came back and the
        # hint all reach a student who validates. The frames inside this package are left out (they show how
        # a check compares, not where the mistake is). The exception itself (str, feedback pages) keeps one line.
        from IPython import get_ipython

        shell = get_ipython()
        frames = shell.InteractiveTB.structured_traceback(type(self), self, self.__traceback__)[:-1] if shell else []
        package = f"File {Path(__file__).parent}"
        frames = [frame for frame in frames if not _ANSI.sub("", frame).lstrip().startswith(package)]
        wrap = functools.partial(textwrap.wrap, width=80, break_long_words=False, break_on_hyphens=False)
        first, *rest = str(self).splitlines() or [""]
        lines = wrap(first, initial_indent=f"{type(self).__name__}: ") + [part for line in rest for part in wrap(line) or [""]]
        return [*frames, "\n".join(lines)]


def show(value: Any) -> str:
    """``value`` as a failure message shows it: an array's first and last entries to 6 digits, with its shape."""
    if isinstance(value, np.ndarray):
        with np.printoptions(precision=6, threshold=12, edgeitems=3, suppress=False):
            return f"{np.array2string(value, separator=', ')} (shape {value.shape})"
    return repr(value)


def a_or_an(word: str) -> str:
    """The article before ``word`` in a message: "an int", "an ndarray", "a float"."""
    return "an" if word[:1].lower() in "aeiou" or word.startswith("ndarray") else "a"  # "an en-d-array"


def with_hint(message: str, hint: str) -> str:
    """``message``, then the check's ``hint`` (if any) after ". Hint: ", as every failure message ends."""
    return f"{message}. Hint: {hint}" if hint else message


def check_type(what: str, value: Any, expected: type | tuple[type, ...]) -> None:
    """Fail unless ``value`` is an instance of ``expected``.

    Parameters
    ----------
    what : str
        What is checked, as the message names it, e.g. ``"predict(x, m=2, c=1)"``.
    value : object
        The value the student's code produced.
    expected : type or tuple of types
        The accepted type(s), e.g. ``np.ndarray`` or ``(int, float)``.

    Raises
    ------
    CheckFailed
        If ``value`` is not an instance of ``expected``: the message names both types and shows the value.
    """
    if not isinstance(value, expected):
        names = " or ".join(t.__name__ for t in (expected if isinstance(expected, tuple) else (expected,)))
        raise CheckFailed(f"{what}: expected {a_or_an(names)} {names}, got {type(value).__name__}: {show(value)}")


def to_float_array(what: str, value: Any, *, hint: str = "") -> np.ndarray:
    """Convert ``value`` (a number, list or array of numbers) to a float array, or fail saying what it was
    (and ``hint``, the check's hint)."""
    if isinstance(value, (bool, str, bytes)) or value is None:
        raise CheckFailed(with_hint(f"{what}: expected numbers, got {type(value).__name__}: {value!r}", hint))
    if not isinstance(value, (int, float, np.number, np.ndarray, list, tuple)):
        raise CheckFailed(with_hint(f"{what}: expected a number or a numpy array, got {type(value).__name__}", hint))
    try:
        return np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise CheckFailed(with_hint(f"{what}: expected numbers, got {show(value)}", hint)) from None


def _shape_hint(got: tuple[int, ...], expected: tuple[int, ...]) -> str:
    # what the two shapes say about the mistake, when they differ in a recognisable way, or ""
    if [d for d in got if d != 1] == [d for d in expected if d != 1]:
        if len(got) > len(expected):
            return (f"the right number of entries, with a dimension of length 1 too many: {got} where {expected} is asked "
                    "(a column or row kept where a flat array is asked, or an axis kept by a reduction)")
        if len(got) < len(expected):
            return (f"the right number of entries, with a dimension of length 1 missing: {got} where {expected} is asked "
                    "(a flat array where a column or row is asked)")
        return f"the right number of entries, with the dimension of length 1 in another place: {got} where {expected} is asked"
    if len(got) >= 2 and got == expected[::-1]:
        return ("the dimensions in reverse order: a transposed result (.T), the grid laid out the other way, or the factors "
                "of a matrix product swapped")
    return ""


def check_shape(what: str, value: Any, shape: tuple[int, ...], *, hint: str = "") -> np.ndarray:
    """Fail unless ``value`` is an array (or number) of exactly ``shape``; return it as floats.

    Parameters
    ----------
    what : str
        What is checked, as the message names it.
    value : number, list or array
        The value the student's code produced.
    shape : tuple of int
        The expected shape, e.g. ``(n, 2)`` or ``()`` for a single number.
    hint : str
        Added to the message first, before what the two shapes themselves suggest (a dimension of length 1, a transpose).

    Returns
    -------
    numpy.ndarray
        ``value`` as a float array, of shape ``shape``.

    Raises
    ------
    CheckFailed
        If ``value`` is not numbers, or has another shape (the message gives both shapes).
    """
    array = to_float_array(what, value, hint=hint)
    if array.shape != tuple(shape):
        hints = "; ".join(h for h in (hint, _shape_hint(array.shape, tuple(shape))) if h)
        raise CheckFailed(with_hint(f"{what}: expected shape {tuple(shape)}, got shape {array.shape}", hints))
    return array


def check_close(what: str, actual: Any, expected: Any, *, rtol: float = 1e-6, atol: float = 1e-9, hint: str = "") -> None:
    """Fail unless ``actual`` has the shape of ``expected`` and every entry is within tolerance of it.

    Entry ``a`` passes when ``|a - e| <= atol + rtol * |e|``; where ``e`` is ``inf``, ``-inf`` or NaN, only the
    same value passes (a diverged run is compared entry by entry, overflow and NaN included); a NaN or infinite
    ``a`` never passes a finite ``e``.

    Parameters
    ----------
    what : str
        What is checked, as the message names it, e.g. ``"mse(y, y_hat)"``.
    actual : number, list or array
        The value the student's code produced (the only argument evaluated in the student's kernel at grading).
    expected : number, list or array
        The reference value; ``actual`` must have its shape.
    rtol, atol : float
        Relative and absolute tolerance.
    hint : str
        Added to the message to point at the likely mistake.

    Raises
    ------
    CheckFailed
        If the shapes differ or an entry is out of tolerance: the message shows both values and the index of
        the worst mismatch.
    """
    expected_arr = np.array(expected, dtype=float)
    actual_arr = check_shape(what, actual, expected_arr.shape, hint=hint)
    # NumPy's isclose is |a - e| <= atol + rtol * |e| for finite entries, and equality for inf, -inf and (equal_nan) NaN
    bad = ~np.isclose(actual_arr, expected_arr, rtol=rtol, atol=atol, equal_nan=True)
    if bad.any():
        with np.errstate(invalid="ignore"):  # inf - inf is nan, in an entry that is not bad
            gap = np.where(bad, np.abs(actual_arr - expected_arr), -1.0)
        where = ""
        if bad.ndim:
            worst = np.unravel_index(int(np.argmax(gap)), bad.shape)
            where = f" (worst mismatch at index {tuple(int(i) for i in worst)})"
        shown_expected = show(expected_arr if expected_arr.ndim else float(expected_arr))
        shown_actual = show(actual_arr if actual_arr.ndim else float(actual_arr))
        message = f"{what}: expected {shown_expected}, got {shown_actual}{where}"
        if shown_expected == shown_actual:  # they differ beyond the digits shown: show the worst entry in full
            worst = np.unravel_index(int(np.argmax(gap)), bad.shape) if bad.ndim else ()
            exact, got = float(expected_arr[worst]), float(actual_arr[worst])
            message += (f"; {'there ' if bad.ndim else ''}{got!r} differs from {exact!r} by {abs(got - exact):.3g}, "
                        f"more than the tolerance {atol + rtol * abs(exact):.3g}")
        raise CheckFailed(with_hint(message, hint))


def check_true(condition: bool, message: str) -> None:
    """Fail with ``message`` unless ``condition`` is exactly ``True``.

    Parameters
    ----------
    condition : bool
        The condition the student's code must meet (``True`` or ``numpy.True_``; a truthy non-bool fails).
    message : str
        The message of the failure, in the course's form "expected ..., got ..., hint".

    Raises
    ------
    CheckFailed
        If ``condition`` is not ``True``.
    """
    if condition is not True and not (isinstance(condition, np.bool_) and bool(condition) is True):
        raise CheckFailed(message)


def check_finite(what: str, value: Any, *, hint: str = "") -> np.ndarray:
    """Fail if ``value`` holds NaN or infinity; return it as floats.

    Parameters
    ----------
    what : str
        What is checked, as the message names it.
    value : number, list or array
        The value the student's code produced.
    hint : str
        Added to the message to point at the likely mistake.

    Returns
    -------
    numpy.ndarray
        ``value`` as a float array, of the same shape.

    Raises
    ------
    CheckFailed
        If ``value`` is not numbers or holds a non-finite entry.
    """
    array = to_float_array(what, value, hint=hint)
    if not np.all(np.isfinite(array)):
        raise CheckFailed(with_hint(f"{what}: expected finite numbers, got {show(array)}", hint))
    return array


def check_equal(what: str, actual: Any, expected: Any, *, hint: str = "") -> None:
    """Fail unless ``actual == expected`` exactly, for plain data.

    Plain data are numbers, strings, booleans, ``None`` and lists, tuples and dicts of them; a tuple and a list
    with the same items are not equal, nor are ``True`` and ``1``.

    Parameters
    ----------
    what : str
        What is checked, as the message names it.
    actual : object
        The value the student's code produced.
    expected : plain data
        The reference value.
    hint : str
        Added to the message to point at the likely mistake.

    Raises
    ------
    CheckFailed
        If ``actual`` differs from ``expected``.
    TypeError
        If ``expected`` is not plain data (a mistake in the test cell, not in the answer).
    """
    if not _same(actual, expected):
        raise CheckFailed(with_hint(f"{what}: expected {expected!r}, got {show(actual)}", hint))


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(expected, bool) or expected is None:
        return actual is expected or (isinstance(actual, np.bool_) and bool(actual) is expected)
    if isinstance(expected, (int, float)):
        return isinstance(actual, (int, float, np.integer, np.floating)) and not isinstance(actual, (bool, np.bool_)) \
            and actual == expected
    if isinstance(expected, str):
        return isinstance(actual, str) and actual == expected
    if isinstance(expected, (list, tuple)):
        return type(actual) is type(expected) and len(actual) == len(expected) and all(map(_same, actual, expected))
    if isinstance(expected, dict):
        return isinstance(actual, dict) and list(actual) == list(expected) and all(_same(actual[k], expected[k]) for k in expected)
    raise TypeError(f"check_equal compares plain data; the expected value is a {type(expected).__name__}")


def check_accuracy(what: str, actual: Any, expected: Any, *, at_least: float, hint: str = "") -> float:
    """Fail unless the predicted labels ``actual`` match the true labels ``expected`` often enough.

    The message gives the share and the count right, never the labels.

    Parameters
    ----------
    what : str
        What is checked, as the message names it.
    actual : array of int, shape (n,)
        The predicted labels.
    expected : array of int, shape (n,)
        The true labels.
    at_least : float
        The smallest share of right predictions that passes, between 0 and 1.
    hint : str
        Added to the message to point at the likely mistake.

    Returns
    -------
    float
        The share of right predictions.

    Raises
    ------
    CheckFailed
        If the shapes differ or the share right is below ``at_least``.
    """
    labels = np.asarray(expected)
    predicted = check_shape(what, actual, labels.shape, hint=hint)
    right = int(np.sum(predicted == labels))
    share = right / max(labels.size, 1)
    if not share >= at_least:
        raise CheckFailed(with_hint(f"{what}: expected at least {at_least:.1%} right, got {share:.1%} "
                                     f"({right:,} of {labels.size:,})", hint))
    return share


#: The syntax that makes a Python-level loop.
LOOP_NODES = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
#: Calls that run a Python function once per element: loops in disguise (``np.vectorize``, ``map``, ...).
LOOP_CALLS = frozenset({"vectorize", "frompyfunc", "apply_along_axis", "apply_over_axes", "map"})
#: The same from ``functools``, ``itertools`` and ``math`` (``fsum`` adds the elements one by one), counted when
#: called by their bare name or through their module:
#: ``np.add.reduce`` and ``np.add.accumulate`` are NumPy's own (ufunc methods), not loops.
LOOP_FUNCTIONS = {"reduce": "functools", "accumulate": "itertools", "starmap": "itertools", "fsum": "math"}
#: Built-ins that iterate over their argument in Python, counted when called by their bare name (``sum(G)`` adds the
#: rows of an array one by one; ``G.sum()`` and ``np.sum`` are NumPy's). Over a comprehension, the comprehension counts.
LOOP_BUILTINS = frozenset({"sum"})


#: Modules whose loop functions are counted when reached through the module (``functools.reduce``, ``builtins.sum``).
LOOP_MODULES = {"functools": frozenset({"reduce"}), "itertools": frozenset({"accumulate", "starmap"}),
                "math": frozenset({"fsum"}), "builtins": LOOP_BUILTINS | {"map"}, "__builtins__": LOOP_BUILTINS | {"map"}}
LOOP_NAMES = LOOP_CALLS | LOOP_FUNCTIONS.keys() | LOOP_BUILTINS
#: Names that pick what code reaches only when it runs (``getattr(builtins, "sum")``, ``__builtins__["sum"]``,
#: ``globals()["total"]``, ``eval``): the loop behind them cannot be read, so each mention counts as one, as do the
#: hidden attributes (``builtins.__dict__["sum"]``). ``builtins.sum`` itself is read by its name (``LOOP_MODULES``).
PICKED_AT_RUN_TIME = reach.DYNAMIC - {"builtins"}
#: The same through the standard library, reached through the module or imported from it:
#: ``operator.attrgetter("sum")(builtins)``, ``sys.modules["builtins"].sum``.
PICKING_MODULES = {"operator": frozenset({"attrgetter", "methodcaller"}), "sys": frozenset({"modules"})}
#: The same as objects, to know them under another name in the kernel.
LOOP_OBJECTS = (builtins.sum, builtins.map, functools.reduce, itertools.accumulate, itertools.starmap, math.fsum, np.vectorize,
                np.frompyfunc, np.apply_along_axis, np.apply_over_axes)


def _bound_in(tree: ast.AST) -> set[str]:
    """The names ``tree`` binds itself (assigned, parameters, imported, defined): there they are not the built-in."""
    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
    return bound


def module_names(tree: ast.AST) -> dict[str, str]:
    """The modules ``tree`` imports, by the name it binds them to (``{"ft": "functools"}`` for ``import functools as ft``)."""
    return {alias.asname or alias.name.split(".")[0]: alias.name if alias.asname else alias.name.split(".")[0]
            for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}


def _loop_reference(node: ast.AST, bound: set[str], modules: dict[str, str], over_comprehension: set[int]) -> str | None:
    """The loop in disguise that ``node`` names (called or not: ``total = sum`` then ``total(G)`` is ``sum(G)``), or None."""
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
        return node.id if node.id in LOOP_NAMES and node.id not in bound and id(node) not in over_comprehension else None
    if isinstance(node, ast.Attribute):
        owner = node.value.id if isinstance(node.value, ast.Name) else None
        if node.attr in LOOP_CALLS or node.attr in LOOP_MODULES.get(modules.get(owner, owner), ()):
            return node.attr
    if isinstance(node, ast.ImportFrom) and node.module:
        names = LOOP_CALLS if node.module.split(".")[0] == "numpy" else LOOP_MODULES.get(node.module, ())
        return next((alias.name for alias in node.names if alias.name in names), None)
    return None


def loops_in_tree(tree: ast.AST, modules: dict[str, str] | None = None) -> list[str]:
    """The Python loops in ``tree``: one name per ``for``, ``while``, comprehension or loop in disguise (each mention of
    ``np.vectorize``, ``map``, built-in ``sum``, ..., called or bound to another name). ``modules`` names the modules
    imported elsewhere (see `module_names`)."""
    modules = {**(modules or {}), **module_names(tree)}
    bound = _bound_in(tree)
    # ``sum(g * g for g in G)``: the comprehension is the loop, the sum only adds what it makes
    over_comprehension = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                          and n.func.id in LOOP_BUILTINS and n.args and isinstance(n.args[0], LOOP_NODES)}
    loops = []
    for node in ast.walk(tree):
        if isinstance(node, LOOP_NODES):
            loops.append(type(node).__name__)
        elif called := _loop_reference(node, bound, modules, over_comprehension):
            loops.append(called)
    loops += _recursive_definitions(tree)
    loops += [f"name picked at run time ({n.id})" for n in ast.walk(tree)
              if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in PICKED_AT_RUN_TIME and n.id not in bound]
    loops += [f"name picked at run time (.{n.attr})" for n in ast.walk(tree)
              if isinstance(n, ast.Attribute) and n.attr in reach.HIDDEN_DUNDERS]
    for n in ast.walk(tree):
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name):
            module = modules.get(n.value.id, n.value.id)
            if n.attr in PICKING_MODULES.get(module, ()):
                loops.append(f"name picked at run time ({module}.{n.attr})")
        elif isinstance(n, ast.ImportFrom) and n.module in PICKING_MODULES:
            loops += [f"name picked at run time ({n.module}.{a.name})" for a in n.names if a.name in PICKING_MODULES[n.module]]
    return loops


def count_loops(source: str) -> list[str]:
    """The Python loops in ``source`` (one name per ``for``, ``while``, comprehension or mention of ``np.vectorize``,
    ``np.frompyfunc``, ``np.apply_along_axis``, ``np.apply_over_axes``, ``map``, ``functools.reduce``,
    ``itertools.accumulate``, ``itertools.starmap``, ``math.fsum`` or built-in ``sum``)."""
    return loops_in_tree(ast.parse(textwrap.dedent(source)))


def _called_names(tree: ast.AST) -> set[str]:
    return {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}


def _recursive_definitions(tree: ast.AST) -> list[str]:
    """One "recursive call (name)" per function defined in ``tree`` (``def``, or ``name = lambda``) that calls itself:
    recursion repeats the body once per element, a loop in disguise."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            name, body = node.name, node
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name):
            name, body = node.targets[0].id, node.value
        else:
            continue
        if name in _called_names(body):
            found.append(f"recursive call ({name})")
    return found


def recursion_cycles(calls: dict, order: list, names: dict) -> list[str]:
    """One "recursive call (name)" per cycle of ``calls`` (``{function: functions it calls}``, keys and values of any
    hashable kind): functions that call one another round a loop, or one that calls itself under another name (an
    alias); a function calling its own name is left out of ``calls``, `loops_in_tree` counts it. A cycle is named by
    the checked function (``order[0]``) when it is in the cycle, else by its first name in alphabetical order (the
    kernel and the grader find functions in different orders); ``names`` gives each function's name."""
    index: dict = {}
    low: dict = {}
    stack: list = []
    cycles: list[list] = []

    def visit(node):  # Tarjan's strongly connected components; the graphs are a notebook's few functions
        index[node] = low[node] = len(index)
        stack.append(node)
        for callee in calls.get(node, ()):
            if callee not in calls:
                continue
            if callee not in index:
                visit(callee)
                low[node] = min(low[node], low[callee])
            elif callee in stack:
                low[node] = min(low[node], index[callee])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in calls.get(node, ()):
                cycles.append(component)

    for node in order:
        if node in calls and node not in index:
            visit(node)
    first = order[0] if order else None
    return [f"recursive call ({min((n != first, names[n]) for n in cycle)[1]})" for cycle in cycles]


def check_loops(what: str, function: Any, *, at_most: int = 0, hint: str = "") -> None:
    """Fail if ``function`` uses more than ``at_most`` Python loops: the exercise asks for array operations.

    Loops are ``for``, ``while``, comprehensions and loops in disguise (``np.vectorize``, ``np.frompyfunc``,
    ``np.apply_along_axis``, ``np.apply_over_axes``, ``map``, ``functools.reduce``, ``itertools.accumulate``,
    ``starmap``, ``math.fsum`` and built-in ``sum``, also under another name) and recursion (a function that calls
    itself, directly or through another), counted in the source of ``function`` and of the notebook's own functions it
    calls. A name picked only when the code runs (``getattr``, ``eval``,
    ``globals()[...]``, ``__builtins__[...]``) counts as a loop too: what it picks cannot be read.

    Parameters
    ----------
    what : str
        What is checked, as the message names it.
    function : callable
        The student's function (its source is read; it is not called).
    at_most : int
        How many loops are allowed.
    hint : str
        Added to the message to point at the likely mistake.

    Raises
    ------
    CheckFailed
        If there are more than ``at_most`` loops: the message counts them by kind.
    """
    loops, seen, todo = [], set(), [function]
    calls: dict[int, set[int]] = {}  # function -> the notebook's functions it calls, by id, for recursion_cycles
    order, names = [], {}
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        order.append(id(current))
        names[id(current)] = getattr(current, "__name__", repr(current))
        try:
            source = inspect.getsource(current)
        except (OSError, TypeError):
            if current is function:
                raise CheckFailed(with_hint(f"{what}: the source of {getattr(function, '__name__', function)!r} cannot be "
                                            "read, so its loops cannot be counted",
                                            "define the function with def in a cell of this notebook (not through exec "
                                            "or a file written while the notebook runs)")) from None
            continue
        tree = ast.parse(textwrap.dedent(source))
        space = getattr(current, "__globals__", {})
        loops += loops_in_tree(tree, {k: v.__name__ for k, v in space.items() if inspect.ismodule(v)})
        calls[id(current)] = set()
        for name in _called_names(tree) - _bound_in(tree):
            called = space.get(name)
            if inspect.isfunction(called) and called.__module__ == "__main__":
                if not (called is current and name == current.__name__):  # its own name: loops_in_tree counts it
                    calls[id(current)].add(id(called))
                todo.append(called)  # a helper the notebook defines: its loops count too
            elif name not in LOOP_NAMES and any(called is loop for loop in LOOP_OBJECTS):
                loops.append(called.__name__)  # ``total = sum`` in another cell
    # recursion through other functions of the notebook, or through an alias (``again = predict``), anywhere below
    # ``function``: a cycle need not pass through ``function`` itself
    loops += recursion_cycles(calls, order, names)
    fail_on_loops(what, loops, at_most, hint)


_LOOP_WORDS = {"For": "for loop", "AsyncFor": "async for loop", "While": "while loop", "ListComp": "list comprehension",
               "SetComp": "set comprehension", "DictComp": "dict comprehension", "GeneratorExp": "generator expression"}


def _loop_words(kind: str, count: int) -> str:
    # "2 list comprehensions", "1 call of map": the loop as a student would name it, not as Python's parser does
    if kind in _LOOP_WORDS:
        return f"{count} {_LOOP_WORDS[kind]}{'s' * (count > 1)}"
    if kind in LOOP_NAMES:
        return f"{count} call{'s' * (count > 1)} of {kind}"
    return f"{count} {kind}"


def fail_on_loops(what: str, loops: list[str], at_most: int, hint: str) -> None:
    """Raise `CheckFailed` if ``loops`` (as `loops_in_tree` names them) are more than ``at_most``: the one message of
    the loop rule, in the kernel and where the grader judges the submitted source."""
    if len(loops) > at_most:
        allowed = "no Python loops" if at_most == 0 else f"at most {at_most} Python loop{'s' * (at_most > 1)}"
        found = ", ".join(_loop_words(k, loops.count(k)) for k in sorted(set(loops)))
        if any(k.startswith("name picked at run time") for k in loops):  # counted as a loop: say why
            found += (" (a name picked at run time hides what the code calls, so the rule counts it as a loop: name what "
                      "the code uses directly, and keep no state on the function or in globals)")
        raise CheckFailed(with_hint(f"{what}: expected {allowed}, found {found}", hint))


def check_libraries(what: str, function: Any, *, allowed: Sequence[str] = ("numpy",), refused: Sequence[str] = (),
                    skip: Sequence[str] = (), hint: str = "") -> None:
    """Fail if ``function`` reaches a module outside ``allowed``, or names a word of ``refused``: the exercise asks
    for the computation written out, not a library's.

    Read from the source of ``function``, of the notebook's own functions and classes it uses, and from where the
    values it reads come from (a function imported from scikit-learn is scikit-learn's). Code that picks what it
    reaches only when it runs (``getattr`` of a computed name, ``__import__``, ``globals()``, ``__dict__``, ...) cannot
    be read, so it fails too; ``getattr(x, "bias", None)``, whose name is in the code, reads as ``x.bias`` does. Where
    submissions are graded, the same rule is applied to the submitted cells, outside the kernel.

    Parameters
    ----------
    what : str
        What is checked, as the message names it.
    function : callable
        The student's function (its source is read; it is not called).
    allowed : sequence of str
        The top-level modules the function may reach, besides Python's built-ins, e.g. ``("numpy", "math")``.
    refused : sequence of str
        Words the function may not name, even inside an allowed module, e.g. ``("optim",)`` or ``("imag",)``.
    skip : sequence of str
        Names of the notebook's own functions that are not read: functions of an earlier exercise, which its own test
        checks, so that a mistake there costs only that exercise (e.g. ``("add", "mul")``, reached as methods of a class).
        A function of that name defined in the cell of ``function`` itself is read all the same.
    hint : str
        Added to the message to point at the likely mistake.

    Raises
    ------
    CheckFailed
        If anything is reached that the rule refuses: the message names each, and where it was found.
    """
    import helpers

    allowed, refused, api_names = tuple(allowed), tuple(refused), set(helpers.__all__)
    found, seen, todo = [], set(), [function]
    while todo:
        current = todo.pop()
        if id(current) in seen or (inspect.isfunction(current) and current is not function and current.__name__ in skip
                                   and current.__module__ == function.__module__
                                   and current.__code__.co_filename != getattr(getattr(function, "__code__", None),
                                                                               "co_filename", None)):
            continue  # an earlier exercise's function, defined in another cell (one defined beside `function` is read)
        seen.add(id(current))
        label = getattr(current, "__name__", type(current).__name__)
        if inspect.isclass(current):  # a class of the notebook: its methods are what runs
            todo += [value for value in vars(current).values() if inspect.isfunction(value)]
            continue
        tree = _source_tree(current)
        if tree is None:
            found.append(f"{label}, whose source cannot be read")
            continue
        local = reach.read(tree, label)
        found += reach.problems(local, allowed, refused)
        values = {**getattr(current, "__globals__", {}), **inspect.getclosurevars(current).nonlocals}
        for name in sorted(local.loads - local.stores):
            if name in values:
                pending = [(values[name], 0)]
                while pending:  # the value, and what a list, tuple, set or dict of them holds
                    value, depth = pending.pop()
                    if isinstance(value, (list, tuple, set, frozenset, dict, functools.partial)) and depth < 3:
                        if isinstance(value, functools.partial):  # the function it calls, and what it passes
                            items = [value.func, *value.args, *value.keywords.values()]
                        else:
                            items = value.values() if isinstance(value, dict) else value
                        pending += [(item, depth + 1) for item in list(items)[:1000]]
                        continue
                    found += _reached_value(value, f"{name} in {label}", function, todo, allowed, refused, api_names)
    if found:
        raise CheckFailed(with_hint(reach.message(what, found, allowed, refused), hint))


def _source_tree(function: Any) -> ast.Module | None:
    """The syntax tree of ``function``'s source, or None when it cannot be read. A lambda written inside a longer
    statement (a dict of them over several lines) is found in the whole cell or file it was written in."""
    try:
        return ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        pass
    code = getattr(function, "__code__", None)
    if code is None or code.co_name != "<lambda>":
        return None
    try:
        whole = ast.parse("".join(linecache.getlines(code.co_filename)))
    except SyntaxError:
        return None
    arguments = list(code.co_varnames[:code.co_argcount])
    found = [node for node in ast.walk(whole) if isinstance(node, ast.Lambda) and node.lineno == code.co_firstlineno
             and [a.arg for a in node.args.args] == arguments]
    return ast.Module(body=[ast.Expr(node) for node in found], type_ignores=[]) if found else None


def _reached_value(value: Any, where: str, function: Any, todo: list, allowed: tuple[str, ...], refused: tuple[str, ...],
                   api_names: set[str]) -> list[str]:
    """Why ``value``, read by the code ``check_libraries`` follows, breaks its rule; the notebook's own functions and
    classes are put on ``todo`` to be read in turn."""
    if inspect.ismodule(value):
        return reach.module_problems(value.__name__, where, allowed, refused)
    if (inspect.isfunction(value) or inspect.isclass(value)) and value.__module__ == function.__module__:
        todo.append(value)  # the notebook's own code: read it too
        return []
    module = getattr(value, "__module__", None) if callable(value) else type(value).__module__
    name = getattr(value, "__name__", None) if callable(value) else None
    if isinstance(name, str) and reach.is_refused(name, refused):  # a refused function held in a value, e.g. a dict
        return [f"`{name}` (in {where})"]
    own = module in ("__main__", function.__module__)  # an object of a class the notebook defines
    api = str(module).startswith("helpers") and name in api_names
    return reach.module_problems(module, where, allowed, refused) if isinstance(module, str) and not own and not api else []


def is_close(a: float, b: float, *, rel_tol: float = 1e-9, abs_tol: float = 0.0) -> bool:
    """``math.isclose`` for two plain numbers (exposed so test cells need no extra import)."""
    return math.isclose(float(a), float(b), rel_tol=rel_tol, abs_tol=abs_tol)
