"""What a piece of code reaches, read from its syntax: the modules it imports, the words it names, and the
constructs that pick a name only when they run.

``check_libraries`` (in the student's kernel) and the grader's judge (outside it, on the submitted cells)
both read code with :func:`read`, and word their verdicts with :func:`problems`, so a failure reads the
same in JupyterLab and in the feedback.
"""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass, field

__all__ = ["ALWAYS_ALLOWED", "DYNAMIC", "READING_ONLY", "Reach", "message", "module_problems", "problems", "read"]

#: Built-ins and modules that look up, create or change names at run time: code that uses them cannot be read
#: for what it reaches (``getattr(module, "na" + "me")``, ``__import__(...)``, ``globals()[...] = ...``).
DYNAMIC = frozenset({"__import__", "eval", "exec", "compile", "globals", "locals", "vars", "getattr", "setattr", "delattr",
                     "importlib", "builtins", "__builtins__", "get_ipython", "breakpoint"})
#: Of those, the ones that only read: elsewhere in a notebook they change nothing the checked code reaches.
READING_ONLY = frozenset({"getattr", "breakpoint"})
#: Modules any code may reach: the course's own helpers hold no exercise's solution.
ALWAYS_ALLOWED = ("builtins", "__main__", "helpers")
#: The double-underscore attributes ordinary code uses (``super().__init__()``); any other one (``__dict__``,
#: ``__globals__``, ``__subclasses__``, ...) leads to objects the code does not name.
PLAIN_DUNDERS = frozenset({"__init__", "__name__", "__doc__", "__call__", "__len__"})
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


def read(node: ast.AST, where: str, into: Reach | None = None) -> Reach:
    """Add to ``into`` (or a new :class:`Reach`) what ``node`` names; ``where`` labels it in messages."""
    reach = into if into is not None else Reach()
    # a string that is a statement of its own (a docstring) does nothing: its words are not reached
    inert = {id(s.value) for s in ast.walk(node) if isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)}
    for child in ast.walk(node):
        if isinstance(child, ast.Import):
            for alias in child.names:
                reach.imports.setdefault(alias.name, where)
                reach.stores.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(child, ast.ImportFrom):
            module = "." * child.level + (child.module or "")
            reach.imports.setdefault(module, where)
            for alias in child.names:
                reach.words.setdefault(alias.name, where)
                reach.stores.add(alias.asname or alias.name)
        elif isinstance(child, ast.Name):
            reach.words.setdefault(child.id, where)
            (reach.loads if isinstance(child.ctx, ast.Load) else reach.stores).add(child.id)
            if child.id in DYNAMIC and isinstance(child.ctx, ast.Load):
                reach.dynamic.setdefault(child.id, where)
        elif isinstance(child, ast.Attribute):
            reach.words.setdefault(child.attr, where)
            if child.attr.startswith("__") and child.attr.endswith("__") and child.attr not in PLAIN_DUNDERS:
                reach.dynamic.setdefault(f".{child.attr}", where)
            elif child.attr == "modules" and isinstance(child.value, ast.Name) and child.value.id == "sys":
                reach.dynamic.setdefault("sys.modules", where)  # the table every import reads
        elif isinstance(child, ast.arg):
            reach.stores.add(child.arg)
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            reach.stores.add(child.name)
        elif isinstance(child, ast.ExceptHandler) and child.name:
            reach.stores.add(child.name)
        elif isinstance(child, ast.Constant) and id(child) not in inert:
            if isinstance(child.value, complex):
                reach.words.setdefault("complex", where)
            elif isinstance(child.value, (str, bytes)):
                text = child.value if isinstance(child.value, str) else child.value.decode("latin-1")
                for word in _WORD.findall(text):
                    reach.words.setdefault(word, where)
    return reach


def module_problems(module: str, where: str, allowed: tuple[str, ...], refused: tuple[str, ...]) -> list[str]:
    """Why reaching ``module`` (e.g. ``sklearn.metrics``) is refused: outside ``allowed``, or a refused part."""
    parts = module.split(".")
    if module.startswith(".") or parts[0] not in (*allowed, *ALWAYS_ALLOWED):
        return [f"the module {module} (in {where})"]
    return [f"{module} (in {where})"] if set(parts) & set(refused) else []


def problems(reach: Reach, allowed: tuple[str, ...], refused: tuple[str, ...], *, unknown: set[str] = frozenset()) -> list[str]:
    """The reasons ``reach`` breaks the rule "only the modules ``allowed``, no word of ``refused``", one per thing.

    ``unknown`` are names the code reads that nothing readable defines (reported as such).
    """
    found = []
    for module, where in reach.imports.items():
        found += module_problems(module, where, allowed, refused)
    found += [f"`{word}` (in {where})" for word, where in reach.words.items() if word in refused]
    found += [f"`{construct}` (in {where}), which picks what it reaches only when it runs"
              for construct, where in reach.dynamic.items()]
    found += [f"`{name}`, which no cell defines" for name in sorted(unknown - set(dir(builtins)))]
    return found


def message(what: str, found: list[str], allowed: tuple[str, ...], refused: tuple[str, ...], hint: str) -> str:
    """The failure message of ``check_libraries`` for the reasons ``found`` (the first six, each once)."""
    refusing = f", naming none of {', '.join(refused)}" if refused else ""
    return (f"{what}: expected code that reaches only {', '.join(allowed)} and Python's built-ins{refusing}, "
            f"found {'; '.join(list(dict.fromkeys(found))[:6])}" + (f". Hint: {hint}" if hint else ""))
