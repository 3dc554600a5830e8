"""A test cell, split in two: the probe that runs in the student's kernel and the record that runs trusted.

Test cells are ordinary nbgrader test cells that call the checks of :mod:`helpers.checks`. Each check
has one argument that the student's code produced (``actual``; for ``check_true``, the condition) and
arguments that say what is right (``expected``, ``shape``, tolerances, the hint). At grading time:

* :func:`probe_program` is what the student's kernel runs instead of the cell: every check call becomes
  ``__probe__(check_id, actual)``, which sends the actual value out as plain data, and every statement
  that only computes what is right (and is not needed to compute an actual value) is left out, so that
  the expected values of hidden tests never enter the student's kernel;
* :func:`record_program` is what a trusted kernel runs, once per lesson, with the reference solution:
  every check call becomes ``__record__(check_id, check, *args)``, which records the arguments that say
  what is right and then runs the check itself (the reference must pass its own tests).

The grader then compares the two, outside the student's kernel (:mod:`grading.judge`).

Rules for test cells (checked by :func:`check_calls`): checks are called by their plain names, as
statements of the cell (also inside ``for``/``while``/``if``/``with``/``try``), never inside a function
or lambda defined in the cell; ``check_loops`` names the student's function directly.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass

__all__ = ["CHECKS", "SOURCE_CHECKS", "Check", "TestCellError", "check_calls", "hidden_lines", "leaks", "probe_program", "record_program"]

#: The checks of helpers.checks, and the position of the argument the student's code produced.
CHECKS = {
    "check_close": 1, "check_shape": 1, "check_type": 1, "check_finite": 1, "check_equal": 1,
    "check_true": 0, "check_loops": 1, "check_accuracy": 1, "check_libraries": 1,
}
#: The checks decided from the submitted source, not from the kernel: their function is named, never called.
SOURCE_CHECKS = frozenset({"check_loops", "check_libraries"})
_BUILTINS = set(dir(builtins))
_BEGIN_HIDDEN, _END_HIDDEN = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"


class TestCellError(ValueError):
    """A test cell that the trusted comparison cannot split; the message names the line and the fix."""


@dataclass(frozen=True)
class Check:
    """One check call of a test cell: its id (order in the source), name, line and whether it is hidden."""

    id: int
    kind: str
    line: int
    hidden: bool
    function: str | None = None  # check_loops, check_libraries: the name of the student's function


def hidden_lines(source: str) -> set[int]:
    """The 1-based line numbers between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``."""
    hidden, inside = set(), False
    for number, line in enumerate(source.splitlines(), start=1):
        if _BEGIN_HIDDEN in line:
            inside = True
        elif _END_HIDDEN in line:
            inside = False
        elif inside:
            hidden.add(number)
    return hidden


def _parse(source: str) -> ast.Module:
    try:
        return ast.parse(source)
    except SyntaxError as error:
        raise TestCellError(f"the test cell does not parse: {error}") from None


def _is_check(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in CHECKS


def _check_nodes(tree: ast.Module) -> list[ast.Call]:
    return sorted((n for n in ast.walk(tree) if _is_check(n)), key=lambda n: (n.lineno, n.col_offset))


def check_calls(source: str) -> list[Check]:
    """The check calls of a test cell, in source order.

    Raises
    ------
    TestCellError
        A check inside a function or lambda of the cell, a check without its ``actual`` argument, or a
        ``check_loops`` whose function is not a plain name.
    """
    tree = _parse(source)
    for scope in ast.walk(tree):
        if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            for node in ast.walk(scope):
                if _is_check(node):
                    raise TestCellError(f"line {node.lineno}: `{node.func.id}` is called inside a function defined in the "
                                        "test cell; call checks in the cell itself (a loop is fine)")
    calls = {id(n.func) for n in ast.walk(tree) if _is_check(n)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in CHECKS and id(node) not in calls:
            raise TestCellError(f"line {node.lineno}: `{node.id}` is used other than by calling it by name; "
                                f"call `{node.id}(...)` directly so that the grader can find it")
        if isinstance(node, ast.Attribute) and node.attr in CHECKS:
            raise TestCellError(f"line {node.lineno}: call `{node.attr}(...)` by its plain name, imported from helpers.checks")
    hidden = hidden_lines(source)
    checks = []
    for index, node in enumerate(_check_nodes(tree)):
        position = CHECKS[node.func.id]
        if len(node.args) <= position or any(isinstance(a, ast.Starred) for a in node.args[: position + 1]):
            raise TestCellError(f"line {node.lineno}: `{node.func.id}` needs its arguments written out positionally "
                                f"(the value to check is argument {position + 1})")
        function = None
        if node.func.id in SOURCE_CHECKS:
            if not isinstance(node.args[1], ast.Name):
                raise TestCellError(f"line {node.lineno}: `{node.func.id}` must name the student's function directly")
            function = node.args[1].id
        checks.append(Check(index, node.func.id, node.lineno, node.lineno in hidden, function))
    return checks


# ---- the record: runs trusted, with the reference solution ----------------------------------------------
class _ToRecord(ast.NodeTransformer):
    def __init__(self) -> None:
        self.ids = {}

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if node in self.ids:
            call = ast.Call(func=ast.Name("__record__", ast.Load()),
                            args=[ast.Constant(self.ids[node]), node.func, *node.args], keywords=node.keywords)
            return ast.copy_location(call, node)
        return node


def record_program(source: str) -> str:
    """The test cell with each check call ``check_x(args)`` turned into ``__record__(check_id, check_x, args)``."""
    tree = _parse(source)
    check_calls(source)
    transformer = _ToRecord()
    transformer.ids = {node: index for index, node in enumerate(_check_nodes(tree))}
    return ast.unparse(ast.fix_missing_locations(transformer.visit(tree)))


# ---- the probe: runs in the student's kernel ---------------------------------------------------------------
def _reads(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _root(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _target_names(target: ast.AST) -> set[str]:
    """Names a target binds or changes (``x``, ``x.a``, ``x[i]`` and unpacking all count ``x``)."""
    if isinstance(target, (ast.Tuple, ast.List)):
        return set().union(*(_target_names(t) for t in target.elts)) if target.elts else set()
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    root = _root(target)
    return {root} if root else set()


#: Calls that draw from or reset a random generator: a statement making one changes what later draws give.
_RANDOM_CALLS = {"rand", "randn", "randint", "randperm", "normal", "uniform", "manual_seed", "seed", "shuffle",
                 "permutation", "choice", "bernoulli", "multinomial", "random", "integers", "standard_normal",
                 "rand_like", "randn_like", "randint_like", "dropout"}


def _dotted(node: ast.AST) -> list[str]:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return parts[::-1]


class _Slicer:
    """Which statements the probe needs: those that bind or change a name an actual value depends on,
    those with effects beyond the cell's names (a module's state, a function called for its effect), and
    those holding checks. Names are followed through the whole cell until nothing changes (a name bound
    twice keeps both bindings: more than needed, never less)."""

    def __init__(self, tree: ast.Module, checks: dict[ast.Call, int], modules: set[str]):
        self.checks = checks
        self.modules = modules
        # functions the test cell defines itself: test code, which changes only what it is given
        self.own = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        self.needed: set[str] = set()
        for node in checks:
            position = CHECKS[node.func.id]
            if node.func.id in SOURCE_CHECKS:
                continue  # judged from the submitted source, not from the kernel
            self.needed |= _reads(node.args[position])
            if node.func.id == "check_true" and len(node.args) > 1:
                self.needed |= _reads(node.args[1])  # its message is written by the student's kernel
        self.tree = tree

    def solve(self) -> None:
        while True:
            before = set(self.needed)
            self._keep_body(self.tree.body)
            if self.needed == before:
                return

    # what one statement binds or changes, and whether it must stay regardless
    def _effects(self, stmt: ast.stmt) -> tuple[set[str], bool]:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            return set(), True
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return {stmt.name}, False
        if isinstance(stmt, ast.Assign):
            return set().union(*(_target_names(t) for t in stmt.targets)), False
        if isinstance(stmt, (ast.AugAssign, ast.AnnAssign)):
            return _target_names(stmt.target), False
        if isinstance(stmt, ast.Delete):
            return set().union(*(_target_names(t) for t in stmt.targets)), False
        if isinstance(stmt, ast.Expr):
            value = stmt.value
            if isinstance(value, ast.Constant):
                return set(), False
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "print":
                return set(), False
            if isinstance(value, ast.Call):
                root = _root(value.func)
                if isinstance(value.func, ast.Name) and root in self.own:
                    return set().union(*(_reads(a) for a in [*value.args, *(k.value for k in value.keywords)])), False
                if root in self.modules or (isinstance(value.func, ast.Name) and root not in _BUILTINS):
                    return set(), True  # a module's function, or the student's called for its effect
                if root is None:  # `(a * b).sum().backward()`: changes what the expression's graph reaches, taken as nothing
                    return set(), False
                return {root}, False  # a method may change its object
            return _reads(value), False
        if isinstance(stmt, (ast.Pass, ast.Break, ast.Continue)):
            return set(), True
        if isinstance(stmt, ast.Assert):
            return set(), False  # the test's check of its own data: it runs in the trusted run
        if isinstance(stmt, (ast.Raise, ast.Return, ast.Global, ast.Nonlocal)):
            return set(), True
        return set(), True

    def _keep_body(self, body: list[ast.stmt]) -> list[bool]:
        return [self._keep(stmt) for stmt in body]

    def _aliases(self, stmt: ast.stmt) -> None:
        """Names that may refer to (part of) an object the probe needs become needed too: a loop over a needed
        object's items (``for p in net.parameters()``), or a part of it (``w = net.bias``)."""
        owners = self.needed - self.modules - _BUILTINS
        if isinstance(stmt, (ast.For, ast.AsyncFor)) and isinstance(stmt.iter, (ast.Call, ast.Attribute)) \
                and _root(stmt.iter) in owners:
            self.needed |= _target_names(stmt.target)
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, (ast.Attribute, ast.Subscript)):
            if _root(stmt.value) in owners:
                for target in stmt.targets:
                    self.needed |= _target_names(target)

    def _keep(self, stmt: ast.stmt) -> bool:
        self._aliases(stmt)
        compound = isinstance(stmt, (ast.For, ast.AsyncFor, ast.While, ast.If, ast.With, ast.AsyncWith, ast.Try))
        if compound:
            keep = False
            for body in self._bodies(stmt):
                keep |= any(self._keep_body(body))
            if isinstance(stmt, (ast.For, ast.AsyncFor)) and _target_names(stmt.target) & self.needed:
                keep = True
            if isinstance(stmt, ast.Try):
                for handler in stmt.handlers:
                    if handler.name and handler.name in self.needed:
                        keep = True
            if keep:
                self.needed |= _reads(self._header(stmt))
            return keep
        if any(node in self.checks for node in ast.walk(stmt)):
            self.needed |= self._actual_reads(stmt)  # e.g. `x = check_shape(...)`: the rest of it runs too
            return True
        bound, always = self._effects(stmt)
        if always or bound & self.needed or self._changes_state(stmt):
            self.needed |= _reads(stmt)
            return True
        return False

    def _changes_state(self, stmt: ast.stmt) -> bool:
        """Whether ``stmt`` calls a method of an object the probe needs (``_rng.normal()``), draws random
        numbers from a module (``torch.randn``, ``np.random.normal``) or builds a layer (which draws its
        initial weights): leaving it out would change the inputs the probe makes after it."""
        for node in ast.walk(stmt):
            if not isinstance(node, ast.Call):
                continue
            path = _dotted(node.func)
            if not path:
                continue
            if len(path) > 1 and path[0] in self.needed and path[0] not in self.modules and path[-1] in _RANDOM_CALLS:
                return True
            if path[0] in self.modules and len(path) > 1 and (path[-1] in _RANDOM_CALLS or "random" in path[1:-1]
                                                              or (path[-2:-1] == ["nn"] or path[0] == "nn") and path[-1][:1].isupper()):
                return True
        return False

    def _actual_reads(self, node: ast.AST) -> set[str]:
        """Names read by ``node`` once its checks are probes (only their actual values are computed)."""
        if node in self.checks:
            position = CHECKS[node.func.id]
            if node.func.id in SOURCE_CHECKS:
                return set()
            return self._actual_reads(node.args[position]) | (self._actual_reads(node.args[1]) if node.func.id == "check_true"
                                                              and len(node.args) > 1 else set())
        names = {node.id} if isinstance(node, ast.Name) else set()
        for child in ast.iter_child_nodes(node):
            names |= self._actual_reads(child)
        return names

    @staticmethod
    def _bodies(stmt: ast.stmt) -> list[list[ast.stmt]]:
        if isinstance(stmt, ast.Try):
            return [stmt.body, *(h.body for h in stmt.handlers), stmt.orelse, stmt.finalbody]
        return [stmt.body, getattr(stmt, "orelse", [])]

    @staticmethod
    def _header(stmt: ast.stmt) -> ast.AST:
        if isinstance(stmt, (ast.For, ast.AsyncFor)):
            return ast.Tuple([stmt.target, stmt.iter], ast.Load())
        if isinstance(stmt, (ast.While, ast.If)):
            return stmt.test
        if isinstance(stmt, (ast.With, ast.AsyncWith)):
            return ast.Tuple([i.context_expr for i in stmt.items], ast.Load())
        if isinstance(stmt, ast.Try):
            return ast.Tuple([h.type for h in stmt.handlers if h.type is not None], ast.Load())
        return ast.Constant(None)


class _ToProbe(ast.NodeTransformer):
    """Drops the statements the slicer did not keep and turns each check into ``__probe__``."""

    def __init__(self, slicer: _Slicer):
        self.slicer = slicer

    def prune(self, body: list[ast.stmt]) -> list[ast.stmt]:
        return [self.statement(stmt) for stmt in body if self.slicer._keep(stmt)]

    def statement(self, stmt: ast.stmt) -> ast.stmt:
        if isinstance(stmt, (ast.For, ast.AsyncFor, ast.While, ast.If, ast.With, ast.AsyncWith, ast.Try)):
            stmt.body = self.prune(stmt.body) or [ast.Pass()]
            if hasattr(stmt, "orelse"):
                stmt.orelse = self.prune(stmt.orelse)
            if isinstance(stmt, ast.Try):
                stmt.finalbody = self.prune(stmt.finalbody)
                for handler in stmt.handlers:
                    handler.body = self.prune(handler.body) or [ast.Pass()]
            return stmt
        return self.visit(stmt)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        if node in self.slicer.checks:
            check_id = self.slicer.checks[node]
            position = CHECKS[node.func.id]
            if node.func.id in SOURCE_CHECKS:
                args = [ast.Constant(check_id), ast.Constant(None)]
            else:
                args = [ast.Constant(check_id), self.visit(node.args[position])]
                if node.func.id == "check_true" and len(node.args) > 1:
                    args.append(self.visit(node.args[1]))
            return ast.copy_location(ast.Call(ast.Name("__probe__", ast.Load()), args, []), node)
        return self.generic_visit(node)


def probe_program(source: str, modules: set[str] | frozenset[str] = frozenset()) -> str:
    """What the student's kernel runs in place of a test cell: the actual values, sent out as plain data.

    Parameters
    ----------
    source : str
        The test cell, hidden tests included (it never reaches the student's kernel as such).
    modules : set of str
        Names the lesson binds to modules (``np``, ``torch``, ...): calls on them change the modules'
        state (a random seed), so statements making them are kept.
    """
    tree = _parse(source)
    check_calls(source)
    checks = {node: index for index, node in enumerate(_check_nodes(tree))}
    slicer = _Slicer(tree, checks, set(modules))
    slicer.solve()
    body = _ToProbe(slicer).prune(tree.body)
    return ast.unparse(ast.fix_missing_locations(ast.Module(body=body, type_ignores=[])))


def _loop_pairs(loop: ast.For | ast.AsyncFor) -> list[tuple[ast.AST, ast.AST]]:
    """(target, what it iterates over) for a loop; ``for a, b in zip(x, y)`` pairs ``a`` with ``x``, ``b`` with ``y``."""
    it, target = loop.iter, loop.target
    if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "zip" and isinstance(target, ast.Tuple) \
            and len(target.elts) == len(it.args) and not it.keywords:
        return list(zip(target.elts, it.args))
    return [(target, it)]


def leaks(source: str, modules: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """Statements the probe would run in the student's kernel that compute what an expected value reads.

    A name read by an expected argument (and by no actual value) must be computed only in the trusted run.
    It leaks when the probe needs it anyway, e.g. because a loop that holds a check iterates over it.
    """
    tree = _parse(source)
    check_calls(source)
    checks = {node: index for index, node in enumerate(_check_nodes(tree))}
    slicer = _Slicer(tree, checks, set(modules))
    slicer.solve()
    expected, actual = set(), set()
    for node in checks:
        position = CHECKS[node.func.id]
        for index, arg in enumerate(node.args):
            if index == position:
                actual |= _reads(arg)
            elif index > 0 and node.func.id != "check_true":
                expected |= _reads(arg)
        expected |= set().union(*(_reads(k.value) for k in node.keywords if k.arg != "hint")) if node.keywords else set()
    # Inputs: the names an actual value is computed from, followed back through assignments, loop targets and
    # definitions (not through calls that change an object: those do not make a value an input).
    inputs = set(actual)
    while True:
        before = len(inputs)
        for node in ast.walk(tree):
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if set().union(*(_target_names(t) for t in targets)) & inputs:
                    inputs |= _reads(node.value)
            elif isinstance(node, (ast.For, ast.AsyncFor)):
                for target, source in _loop_pairs(node):
                    if _target_names(target) & inputs:
                        inputs |= _reads(source)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in inputs:
                inputs |= _reads(node)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id not in set(CHECKS) | _BUILTINS:
                for arg in [*node.args, *(k.value for k in node.keywords)]:
                    inputs |= _reads(arg)  # handed to a function by name (the student's, or the test's own)
        if len(inputs) == before:
            break
    suspects = expected - inputs
    found = []

    def walk(body: list[ast.stmt]) -> None:
        for stmt in body:
            if not slicer._keep(stmt):
                continue
            if isinstance(stmt, (ast.For, ast.AsyncFor, ast.While, ast.If, ast.With, ast.AsyncWith, ast.Try)):
                header = _reads(stmt.iter if isinstance(stmt, (ast.For, ast.AsyncFor)) else _Slicer._header(stmt)) & suspects
                if isinstance(stmt, (ast.For, ast.AsyncFor)):
                    for target, source in _loop_pairs(stmt):  # a loop that hands expected values to the probe
                        if _target_names(target) & suspects and not (_reads(source) - _BUILTINS - set(modules)) <= inputs - suspects:
                            header |= _target_names(target) & suspects
                        elif _target_names(target) & suspects and not _reads(source) - _BUILTINS:
                            header |= _target_names(target) & suspects
                if header:
                    found.append(f"line {stmt.lineno}: the probe needs {sorted(header)} (read by this statement's header), "
                                 "which only expected values should read")
                for inner in _Slicer._bodies(stmt):
                    walk(inner)
                continue
            bound, _ = slicer._effects(stmt)
            if bound & suspects:
                found.append(f"line {stmt.lineno}: the probe computes {sorted(bound & suspects)}, which only expected values should read")

    walk(tree.body)
    return found
