"""Static checks on the code a student wrote: does it change what the tests rely on?

The tests compare with numpy, torch, math, Python's builtins and ``helpers.checks``. A submission that
redefines any of them (``np.allclose = lambda *a, **k: True``), rebinds a name the tests use
(``np = fake``), defines comparison dunders (an object equal to everything), or reaches for the tools
needed to do so indirectly (``setattr``, ``exec``, ``__dict__``, ``sys.modules``, ``gc``...), is not run:
the grader reports the line instead. Only cells the student wrote or changed are checked; the
lesson's own cells are trusted.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass

#: Calls that can change or reach any object indirectly.
FORBIDDEN_CALLS = frozenset({"setattr", "delattr", "exec", "eval", "compile", "__import__", "globals", "vars", "locals",
                             "breakpoint"})
#: Modules whose only use in an answer would be to reach into the interpreter or the tests.
FORBIDDEN_MODULES = frozenset({"builtins", "importlib", "ctypes", "gc", "inspect", "sys", "types", "unittest", "pytest",
                               "traceback", "code", "codeop", "pickle", "marshal", "dis", "atexit", "_thread", "threading",
                               "multiprocessing", "signal", "IPython", "ipykernel", "nbgrader", "helpers.grader"})
#: Dunder names an answer never needs: object internals, and the hooks that make an object compare equal.
FORBIDDEN_DUNDERS = frozenset({
    "__dict__", "__class__", "__code__", "__globals__", "__builtins__", "__closure__", "__defaults__", "__kwdefaults__",
    "__subclasses__", "__bases__", "__mro__", "__getattribute__", "__setattr__", "__delattr__", "__import__", "__loader__",
    "__spec__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__bool__", "__float__", "__int__", "__index__",
    "__complex__", "__array__", "__array_ufunc__", "__array_function__", "__array_interface__", "__array_priority__",
    "__torch_function__", "__torch_dispatch__", "__instancecheck__", "__subclasscheck__", "__abs__", "__hash__",
})
#: Module names the tests use, whatever the notebook imports.
KNOWN_MODULES = frozenset({"np", "numpy", "torch", "nn", "F", "optim", "math", "helpers", "plt", "matplotlib", "sklearn"})
BUILTIN_NAMES = frozenset(dir(builtins))


@dataclass(frozen=True)
class Finding:
    line: int
    code: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}: {self.code}"


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _names_in(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


class _Scanner(ast.NodeVisitor):
    def __init__(self, source: str, protected: set[str], modules: set[str]):
        self.lines = source.splitlines()
        self.protected = protected  # names the tests rely on (imports of the lesson, builtins)
        self.modules = set(modules)  # names bound to modules (and anything derived from them)
        self.findings: list[Finding] = []
        self.depth = 0  # > 0 inside a function or class body

    def flag(self, node: ast.AST, reason: str) -> None:
        line = getattr(node, "lineno", 0)
        code = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
        self.findings.append(Finding(line, code, reason))

    # --- imports -------------------------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._check_module(node, alias.name)
            bound = alias.asname or alias.name.split(".")[0]
            self._check_rebinding(node, bound, allow_same_module=alias.name)
            self.modules.add(bound)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        self._check_module(node, module)
        for alias in node.names:
            if alias.name == "*":
                self.flag(node, "`import *` can replace names the tests use")
                continue
            self._check_module(node, f"{module}.{alias.name}")
            bound = alias.asname or alias.name
            self._check_rebinding(node, bound, allow_same_module=f"{module}.{alias.name}")
            self.modules.add(bound)

    def _check_module(self, node: ast.AST, name: str) -> None:
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            if ".".join(parts[:i]) in FORBIDDEN_MODULES:
                self.flag(node, f"imports `{'.'.join(parts[:i])}`, which answers do not need")
                return

    def _check_rebinding(self, node: ast.AST, name: str, allow_same_module: str | None = None) -> None:
        if self.depth:
            return  # names inside a function or class body are local to it
        if allow_same_module is not None:
            # re-importing a module under its usual name is fine; importing something as a builtin is not
            if name in BUILTIN_NAMES:
                self.flag(node, f"imports something as `{name}`, a builtin the tests rely on")
        elif name in self.protected:
            self.flag(node, f"rebinds `{name}`, which the tests rely on")

    # --- definitions -------------------------------------------------------------------------------
    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        if node.name in FORBIDDEN_DUNDERS:
            self.flag(node, f"defines `{node.name}`, which can make a wrong answer compare as right")
        self._check_rebinding(node, node.name)
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = _visit_function
    visit_AsyncFunctionDef = _visit_function

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._check_rebinding(node, node.name)
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.generic_visit(node)

    # --- assignments -----------------------------------------------------------------------------
    def _check_target(self, node: ast.AST, target: ast.AST, value: ast.AST | None) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._check_target(node, element, None)
            return
        if isinstance(target, ast.Starred):
            self._check_target(node, target.value, None)
            return
        if isinstance(target, ast.Name):
            self._check_rebinding(node, target.id)
            if value is not None and _names_in(value) & self.modules:
                self.modules.add(target.id)  # an alias of a module is a module
            return
        if isinstance(target, ast.Attribute):
            root = _root_name(target)
            if root is None:
                self.flag(node, "assigns to an attribute of a computed object")
            elif root in self.modules or root in KNOWN_MODULES or root in BUILTIN_NAMES:
                self.flag(node, f"changes the module `{root}`, which the tests rely on")
            return
        if isinstance(target, ast.Subscript):
            root = _root_name(target)
            if root is None:
                self.flag(node, "assigns into a computed object")

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._check_target(node, target, node.value)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._check_target(node, node.target, None)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._check_target(node, node.target, node.value)
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self._check_target(node, target, None)
        self.generic_visit(node)

    def visit_Global(self, node: ast.Global) -> None:
        for name in node.names:
            if name in self.protected or name in self.modules:
                self.flag(node, f"declares `{name}` global in order to replace it")

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self._check_target(node, node.target, node.value)
        self.generic_visit(node)

    def visit_For(self, node: ast.For) -> None:
        self._check_target(node, node.target, None)
        self.generic_visit(node)

    def visit_With(self, node: ast.With) -> None:
        for item in node.items:
            if item.optional_vars is not None:
                self._check_target(node, item.optional_vars, None)
        self.generic_visit(node)

    # --- expressions -----------------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS:
            self.flag(node, f"calls `{node.func.id}`, which can change anything indirectly")
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in FORBIDDEN_DUNDERS:
            self.flag(node, f"uses `{node.attr}`, an object internal that answers do not need")
        elif node.attr == "modules" and _root_name(node) in {"sys"}:
            self.flag(node, "uses `sys.modules`")
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in FORBIDDEN_DUNDERS or node.id in {"__builtins__", "__loader__", "__spec__"}:
            self.flag(node, f"uses `{node.id}`, an interpreter internal")


def scan(source: str, protected: set[str] | frozenset[str] = frozenset(),
         modules: set[str] | frozenset[str] = frozenset()) -> list[Finding]:
    """Findings for one cell's code. ``protected``: names the tests use (besides builtins); ``modules``:
    names already bound to modules by the lesson's own cells. IPython magics are ignored."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return []  # the kernel reports the syntax error itself
    scanner = _Scanner("\n".join(lines), set(protected) | BUILTIN_NAMES, set(modules))
    scanner.visit(tree)
    return scanner.findings


def names_bound_by_imports(source: str) -> set[str]:
    """The names that the import statements of ``source`` bind."""
    try:
        tree = ast.parse("\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))))
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.asname or a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names |= {a.asname or a.name for a in node.names if a.name != "*"}
    return names
