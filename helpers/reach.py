"""What a piece of code reaches, read from its syntax: the modules it imports, the words it names, and the
constructs that create, change or pick names only when they run.

``check_libraries`` (in the student's kernel) and the grader's judge (outside it, on the submitted cells)
both read code with :func:`read`, and word their verdicts with :func:`problems` and :func:`message`, so a
failure reads the same in JupyterLab and in the feedback.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections import deque
from dataclasses import dataclass, field

__all__ = ["ALWAYS_ALLOWED", "DYNAMIC", "HIDDEN_DUNDERS", "KERNEL_NAMES", "READING_ONLY", "Reach", "is_refused",
           "message", "module_problems", "problems", "read"]

#: The built-ins that show or change a namespace (``globals()[name] = ...``): dynamic, except where they are only read.
NAMESPACES = frozenset({"globals", "vars", "locals"})
#: Built-ins and modules that create, run, change or pick names at run time: code that uses them cannot be read for
#: what it reaches (``getattr(module, "na" + "me")``, ``__import__(...)``, ``exec(...)``).
DYNAMIC = frozenset({"__import__", "eval", "exec", "compile", "getattr", "setattr", "delattr", "importlib", "builtins",
                     "__builtins__", "get_ipython", "breakpoint", *NAMESPACES})
#: Of those, the ones that only read: elsewhere in a notebook they change nothing the checked code reaches.
READING_ONLY = frozenset({"getattr", "breakpoint"})
#: Double-underscore attributes that lead to objects the code does not name, or change what code does
#: (``np.__dict__``, ``f.__code__``, ``().__class__.__base__.__subclasses__()``). Others (``__version__``,
#: ``__name__``, ``__class__`` read, ``Value.__add__ = add``) are ordinary code.
HIDDEN_DUNDERS = frozenset({"__dict__", "__globals__", "__code__", "__closure__", "__builtins__", "__subclasses__", "__base__",
                            "__bases__", "__mro__", "__func__", "__self__", "__getattribute__", "__import__", "__loader__",
                            "__spec__", "__defaults__", "__kwdefaults__"})
#: Modules any code may reach: they compute nothing an exercise asks for. The course's ``helpers`` may be reached
#: through the names of its public API only (it holds no exercise's solution).
ALWAYS_ALLOWED = ("builtins", "typing", "warnings", "__future__", "dataclasses", "collections", "itertools", "functools",
                  "operator", "numbers", "abc", "enum", "time", "random", "copy")
#: Names the kernel defines for every notebook.
KERNEL_NAMES = frozenset({"display", "In", "Out", "_", "__", "___", "exit", "quit", "get_ipython"})
_READING_CALLS = frozenset({"print", "len", "sorted", "list", "repr", "str", "set", "dict", "type", "id", "pprint"})
_READING_METHODS = frozenset({"get", "keys", "items", "values", "copy", "__contains__"})
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class Reach:
    """What some code names: modules imported, words (names, attributes, words in strings), dynamic constructs.

    Each maps to where it was seen (a short label such as ``mse`` or ``the line m = sk.mean_squared_error``).
    """

    imports: dict[str, str] = field(default_factory=dict)
    words: dict[str, str] = field(default_factory=dict)
    dynamic: dict[str, str] = field(default_factory=dict)
    loads: set[str] = field(default_factory=set)
    stores: set[str] = field(default_factory=set)


def _api() -> frozenset[str]:
    import helpers

    return frozenset(helpers.__all__)


def _nodes(node: ast.AST):
    """``node`` and everything under it, without type annotations (stored, never run as code)."""
    todo = deque([node])
    while todo:
        current = todo.popleft()
        yield current
        for name, value in ast.iter_fields(current):
            if name in ("annotation", "returns"):
                continue
            todo += [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, ast.AST)]


def _only_read(namespace: ast.Name, parents: dict[int, ast.AST]) -> bool:
    """Whether ``globals()`` (or ``vars(x)``, ``locals()``) is called only to be read: ``"x" in globals()``,
    ``print(vars(x))``, ``globals().get("x")``."""
    call = parents.get(id(namespace))
    if not isinstance(call, ast.Call) or call.func is not namespace:
        return False
    user = parents.get(id(call))
    if isinstance(user, ast.Compare):
        return True
    if isinstance(user, ast.Call) and call in user.args and isinstance(user.func, ast.Name):
        return user.func.id in _READING_CALLS
    return isinstance(user, ast.Attribute) and user.attr in _READING_METHODS and isinstance(parents.get(id(user)), ast.Call)


def read(node: ast.AST, where: str, into: Reach | None = None) -> Reach:
    """Add to ``into`` (or a new :class:`Reach`) what ``node`` names; ``where`` labels it in messages."""
    reach = into if into is not None else Reach()
    nodes = list(_nodes(node))
    parents = {id(child): parent for parent in nodes for child in ast.iter_child_nodes(parent)}
    # a string that is a statement of its own (a docstring) does nothing: its words are not reached
    inert = {id(s.value) for s in nodes if isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)}
    for child in nodes:
        if isinstance(child, ast.Import):
            for alias in child.names:
                reach.imports.setdefault(alias.name, where)
                reach.stores.add((alias.asname or alias.name).split(".")[0])
                if alias.name.split(".")[0] in ("builtins", "importlib"):
                    reach.dynamic.setdefault(f"import {alias.name}", where)
        elif isinstance(child, ast.ImportFrom):
            module = "." * child.level + (child.module or "")
            for alias in child.names:
                reach.words.setdefault(alias.name, where)
                reach.stores.add(alias.asname or alias.name)
                if module == "helpers":  # the public API only: helpers' own imports (torch, sys...) are not it
                    if alias.name not in _api():
                        reach.imports.setdefault(f"helpers.{alias.name}", where)
                else:
                    reach.imports.setdefault(module, where)
            if module.split(".")[0] in ("builtins", "importlib"):
                reach.dynamic.setdefault(f"from {module} import", where)
        elif isinstance(child, ast.Name):
            reach.words.setdefault(child.id, where)
            (reach.loads if isinstance(child.ctx, ast.Load) else reach.stores).add(child.id)
            if child.id in DYNAMIC and isinstance(child.ctx, ast.Load) and not (
                    child.id in NAMESPACES and _only_read(child, parents)
                    or child.id == "setattr" and _sets_own_attribute(child, parents)
                    or child.id == "getattr" and _reads_a_named_attribute(child, parents)):
                reach.dynamic.setdefault(child.id, where)
        elif isinstance(child, ast.Attribute):
            reach.words.setdefault(child.attr, where)
            if child.attr in HIDDEN_DUNDERS or child.attr == "__class__" and not isinstance(child.ctx, ast.Load):
                reach.dynamic.setdefault(f".{child.attr}", where)
        elif isinstance(child, ast.keyword) and child.arg == "allow_pickle":
            reach.dynamic.setdefault("allow_pickle", where)  # unpickling imports whatever the file names
        elif isinstance(child, ast.arg):
            reach.stores.add(child.arg)
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            reach.stores.add(child.name)
        elif isinstance(child, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and child.name:
            reach.stores.add(child.name)
        elif isinstance(child, ast.MatchMapping) and child.rest:
            reach.stores.add(child.rest)
        elif isinstance(child, ast.Constant) and id(child) not in inert:
            if isinstance(child.value, complex):
                reach.words.setdefault("complex", where)
            elif isinstance(child.value, (str, bytes)):
                text = child.value if isinstance(child.value, str) else child.value.decode("latin-1")
                for word in _WORD.findall(text):
                    reach.words.setdefault(word, where)
    return reach


def _reads_a_named_attribute(name: ast.Name, parents: dict[int, ast.AST]) -> bool:
    """``getattr(x, "bias", None)``: one attribute, named by a constant in the code, read as ``x.bias`` would be (the
    constant's words are read as words); a name computed when the code runs, or a hidden double-underscore one, is not."""
    call = parents.get(id(name))
    if not (isinstance(call, ast.Call) and call.func is name and len(call.args) in (2, 3) and not call.keywords):
        return False
    attribute = call.args[1]
    return (isinstance(attribute, ast.Constant) and isinstance(attribute.value, str) and attribute.value.isidentifier()
            and attribute.value not in HIDDEN_DUNDERS)


def _sets_own_attribute(name: ast.Name, parents: dict[int, ast.AST]) -> bool:
    """``setattr(self, ...)``: an object setting its own attributes (as a configuration class does)."""
    call = parents.get(id(name))
    return (isinstance(call, ast.Call) and call.func is name and bool(call.args) and isinstance(call.args[0], ast.Name)
            and call.args[0].id == "self")


def is_refused(word: str, refused: tuple[str, ...]) -> bool:
    """``word`` matches an entry of ``refused``: the same word, or for an entry ending in ``*``, any word it starts."""
    return any(word == r or r.endswith("*") and word.startswith(r[:-1]) for r in refused)


def module_problems(module: str, where: str, allowed: tuple[str, ...], refused: tuple[str, ...]) -> list[str]:
    """Why reaching ``module`` (e.g. ``sklearn.metrics``) is refused: outside ``allowed``, or a refused part."""
    parts = module.split(".")
    if module.startswith(".") or parts[0] not in (*allowed, *ALWAYS_ALLOWED):
        return [f"the module {module} (in {where})"]
    return [f"{module} (in {where})"] if any(is_refused(part, refused) for part in parts) else []


def problems(reach: Reach, allowed: tuple[str, ...], refused: tuple[str, ...], *, unknown: set[str] = frozenset()) -> list[str]:
    """The reasons ``reach`` breaks the rule "only the modules ``allowed``, no word of ``refused``", one per thing.

    ``unknown`` are names the code reads that nothing readable defines (reported as such). A word of ``refused``
    ending in ``*`` refuses every word it starts (``complex*``: ``complex128`` too).
    """
    found = []
    for module, where in reach.imports.items():
        found += module_problems(module, where, allowed, refused)
    found += [f"`{word}` (in {where})" for word, where in reach.words.items() if is_refused(word, refused)]
    found += [f"`{construct}` (in {where}), which picks what it reaches only when it runs (so the rule cannot read it: "
              "name what the code uses directly)" for construct, where in reach.dynamic.items()]
    found += [f"`{name}`, which no cell defines" for name in sorted(unknown - set(dir(builtins)) - KERNEL_NAMES)]
    return found


def message(what: str, found: list[str], allowed: tuple[str, ...], refused: tuple[str, ...]) -> str:
    """The failure message of ``check_libraries`` for the reasons ``found`` (the first six, each once), before its hint."""
    refusing = f", naming none of {', '.join(refused)}" if refused else ""
    return (f"{what}: expected code that reaches only {', '.join(allowed)} and Python's built-ins{refusing}, "
            f"found {'; '.join(list(dict.fromkeys(found))[:6])}")
