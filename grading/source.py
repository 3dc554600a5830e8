"""What a submission's cells define and reach, read from their source (never run): the facts behind the checks
that are decided from the submitted code, ``check_loops`` and ``check_libraries``.

A cell is read as the Python it runs: IPython's syntax (``%time f(x)``, ``!ls``) is translated by IPython's own
transformer. A cell that is not Python even so is skipped, as the kernel would fail on it.
"""

from __future__ import annotations

import ast

from IPython.core.inputtransformer2 import TransformerManager

from helpers import checks, reach

__all__ = ["PYTHON_MAGICS", "libraries_in_definition", "loops_in_definition", "python_cell"]

#: IPython magics whose argument is Python that runs in the notebook (``%time f(x)``, ``%%capture``).
PYTHON_MAGICS = frozenset({"time", "timeit", "capture", "prun"})
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_SCOPES = (*_DEFINITIONS, ast.Lambda)


class _Magics(ast.NodeTransformer):
    """Replaces IPython's magic and shell calls by ``None``, keeping the Python a magic runs as statements of its own."""

    def __init__(self):
        self.code: list[ast.stmt] = []

    def visit_Call(self, node: ast.Call) -> ast.AST:
        function = node.func
        if (isinstance(function, ast.Attribute) and isinstance(function.value, ast.Call)
                and isinstance(function.value.func, ast.Name) and function.value.func.id == "get_ipython"
                and function.attr in {"run_line_magic", "run_cell_magic", "system", "getoutput"}
                and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args)):
            if function.attr.startswith("run_") and node.args and node.args[0].value in PYTHON_MAGICS:
                self.code += _magic_code(node.args[-1].value)
            return ast.copy_location(ast.Constant(None), node)
        return self.generic_visit(node)


def _magic_code(text: str) -> list[ast.stmt]:
    """The statements of a magic's Python argument, its leading options (``-n 3``) dropped."""
    words = text.split(" ")
    for start in range(min(len(words), 8)):
        try:
            return ast.parse(" ".join(words[start:])).body
        except SyntaxError:
            continue
    return []


def python_cell(source: str) -> ast.Module | None:
    """A notebook cell as a Python module: IPython's syntax (``%time f(x)``, ``!ls``) read as the Python it runs, the
    magics themselves as ``None``. None if the cell is not Python even so."""
    try:
        tree = ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError):
        return None
    magics = _Magics()
    tree = magics.visit(tree)
    tree.body += magics.code
    return tree


def loops_in_definition(cells: list[str], name: str) -> list[str] | None:
    """The Python loops of the function ``name`` as the notebook's cells last define it, with the loops of
    the notebook's own functions it calls. None when ``name`` is not defined by a ``def``."""
    last: dict[str, ast.AST] = {}
    for statement in (s for source in cells if (tree := python_cell(source)) for s in _simple_statements(tree.body)):
        for bound in _bound_names(statement):
            last[bound] = statement
    if not isinstance(last.get(name), (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    loops, seen, todo = [], set(), [name]
    while todo:
        current = todo.pop()
        node = last.get(current)
        if current in seen or not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        seen.add(current)
        loops += checks.loops_in_tree(node)
        todo += [n.func.id for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
    return loops


def _simple_statements(body: list[ast.stmt]):
    """The statements of a cell that bind or change something, one by one: compound statements (``if``, ``for``,
    ``with``, ``try``) are opened, their headers given as assignments (``for a in xs`` as ``a = xs``);
    definitions stay whole."""
    for node in body:
        if isinstance(node, _DEFINITIONS) or not any(isinstance(getattr(node, f, None), list) and getattr(node, f)
                                                     and isinstance(getattr(node, f)[0], ast.stmt)
                                                     for f in ("body", "orelse", "finalbody")):
            yield node
            continue
        if isinstance(node, (ast.For, ast.AsyncFor)):
            yield ast.copy_location(ast.Assign(targets=[node.target], value=node.iter), node)
        for item in getattr(node, "items", []):  # with ... as ...
            yield ast.copy_location(ast.Assign(targets=[item.optional_vars or ast.Name("_", ast.Store())],
                                               value=item.context_expr), node)
        if isinstance(node, (ast.If, ast.While)):
            yield ast.copy_location(ast.Expr(node.test), node)
        for field in ("body", "orelse", "finalbody"):
            yield from _simple_statements(getattr(node, field, []) or [])
        for handler in getattr(node, "handlers", []):
            yield from _simple_statements(handler.body)


def _bound_names(statement: ast.stmt) -> set[str]:
    """The names a statement binds in the notebook: its own, and those its functions declare ``global``."""
    if isinstance(statement, _DEFINITIONS):
        names = {statement.name}
    else:
        names = {n.id for n in _outside_scopes(statement) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
        names |= {(a.asname or a.name).split(".")[0] for n in _outside_scopes(statement)
                  if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    return names | {name for node in ast.walk(statement) if isinstance(node, ast.Global) for name in node.names}


def _outside_scopes(node: ast.AST):
    """``node`` and the nodes under it, without entering the functions, classes and lambdas it defines."""
    todo = [node]
    while todo:
        current = todo.pop()
        yield current
        todo += [child for child in ast.iter_child_nodes(current) if not isinstance(child, _SCOPES)]


def _roots(target: ast.AST) -> set[str]:
    """The names whose objects an assignment to ``target`` changes: ``np`` for ``np.linalg.norm = ...``, ``t`` for
    ``t[i] = ...`` (not ``i``)."""
    if isinstance(target, (ast.Tuple, ast.List)):
        return set().union(*map(_roots, target.elts))
    if isinstance(target, ast.Starred):
        return _roots(target.value)
    if not isinstance(target, (ast.Attribute, ast.Subscript)):
        return set()
    base = target.value
    while isinstance(base, (ast.Attribute, ast.Subscript, ast.Call)):
        base = base.func if isinstance(base, ast.Call) else base.value
    return {base.id} if isinstance(base, ast.Name) else set()


def _mutations(statement: ast.stmt) -> list[tuple[set[str], ast.AST, frozenset[str], frozenset[str], str | None]]:
    """What a statement stores into attributes or items of objects (``np.mean = f``, ``table["mse"] = f``), also in the
    functions and classes it defines: ``(names of the objects changed, the value stored, the names local where it
    happens, the parameters of the function it happens in, that function's name)``."""
    found = []
    scopes = [(statement, frozenset(), None)] if not isinstance(statement, _SCOPES) else []
    scopes += [(node, frozenset(reach.read(node, "").stores), getattr(node, "name", None))
               for node in ast.walk(statement) if isinstance(node, _SCOPES)]
    for scope, local, owner in scopes:
        parameters = frozenset(a.arg for a in ast.walk(scope.args) if isinstance(a, ast.arg)) if hasattr(scope, "args") else frozenset()
        for node in (_outside_scopes(scope) if not isinstance(scope, _SCOPES) else
                     (n for child in ast.iter_child_nodes(scope) for n in _outside_scopes(child))):
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and node.value is not None:
                roots = set().union(*map(_roots, node.targets if isinstance(node, ast.Assign) else [node.target]))
                if roots:
                    found.append((roots, node.value, local, parameters, owner))
    return found


def _calls_passing(calls: list[tuple[ast.Call, frozenset[str]]], function: str | None,
                   aliases: set[str]) -> list[tuple[ast.Call, frozenset[str]]]:
    """The calls of ``function`` (by name, or as a method) that pass it something ``aliases`` may refer to."""
    return [(c, local) for c, local in calls
            if (isinstance(c.func, ast.Name) and c.func.id == function or isinstance(c.func, ast.Attribute) and c.func.attr == function)
            and any(_refers_to(a, aliases) for a in [*c.args, *(k.value for k in c.keywords)])]


def _refers_to(value: ast.AST, aliases: set[str]) -> bool:
    """Whether ``value`` may be one of the objects ``aliases`` name, or a part of one, or hold one (``a = np``,
    ``a = np.linalg``, ``a = [np]``, ``a = table[0]``); a call makes something new."""
    if isinstance(value, ast.Name):
        return value.id in aliases
    if isinstance(value, (ast.Attribute, ast.Subscript, ast.Starred)):
        return _refers_to(value.value, aliases)
    if isinstance(value, (ast.List, ast.Tuple, ast.Set)):
        return any(_refers_to(e, aliases) for e in value.elts)
    if isinstance(value, ast.Dict):
        return any(_refers_to(v, aliases) for v in value.values)
    if isinstance(value, (ast.IfExp, ast.BoolOp, ast.NamedExpr)):
        return any(_refers_to(v, aliases) for v in ast.iter_child_nodes(value) if isinstance(v, ast.expr))
    return False


def _label(statement: ast.AST) -> str:
    if isinstance(statement, _DEFINITIONS):
        return statement.name
    line = ast.unparse(statement).splitlines()[0]
    return f"the line `{line[:60]}{'...' if len(line) > 60 else ''}`"


def libraries_in_definition(cells: list[str], name: str) -> tuple[reach.Reach, set[str]] | None:
    """What the function ``name``, as the notebook's cells last define it, reaches, read from the cells' source.

    Followed from its source: every statement that binds a name it reads (a name bound several times: every
    binding), every value stored into an object it may reach (``np.mean = f``, also through another name for it,
    and by any function into its arguments), and every statement that picks or changes names at run time
    (``globals()[...] = ...``). Returns the :class:`helpers.reach.Reach` and the names read that no cell defines;
    None when ``name`` is not defined by a ``def``.
    """
    statements = [s for source in cells if (tree := python_cell(source)) for s in _simple_statements(tree.body)]
    binding: dict[str, list[ast.stmt]] = {}
    for statement in statements:
        for bound in _bound_names(statement):
            binding.setdefault(bound, []).append(statement)
        if any(isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names) for n in ast.walk(statement)):
            binding.setdefault("*", []).append(statement)  # binds names nobody can list
    defined = [s for s in binding.get(name, []) if name in _bound_names(s)]
    if not defined or not isinstance(defined[-1], (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    values = [(s, v) for s in statements if isinstance(s, (ast.Assign, ast.AnnAssign)) and (v := s.value) is not None]
    mutations = [(*mutation, _label(s)) for s in statements for mutation in _mutations(s)]
    calls = [(node, frozenset()) for s in statements for node in _outside_scopes(s) if isinstance(node, ast.Call)]
    calls += [(node, frozenset(reach.read(scope, "").stores)) for s in statements for scope in ast.walk(s) if isinstance(scope, _SCOPES)
              for child in ast.iter_child_nodes(scope) for node in _outside_scopes(child) if isinstance(node, ast.Call)]
    total, unknown, reached = reach.Reach(), set(), {name}
    todo: list[tuple[ast.AST, str, frozenset[str]]] = [(defined[-1], name, frozenset())]
    todo += [(s, _label(s), frozenset()) for s in statements if set(reach.read(s, "").dynamic) - reach.READING_ONLY]
    seen: set[int] = set()
    while todo:
        while todo:
            node, label, local = todo.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            own = reach.read(node, label)
            reach.read(node, label, into=total)
            inner = own.stores if isinstance(node, _SCOPES) else set()
            for read_name in own.loads - inner - local:
                if read_name in binding or "*" in binding:
                    reached.add(read_name)
                    todo += [(s, _label(s), frozenset()) for s in binding.get(read_name, binding.get("*", []))]
                elif read_name not in own.stores:
                    unknown.add(read_name)
        aliases, grew = set(reached), True
        while grew:  # the names that may refer to what is reached: `a = np` makes `a.mean = f` change numpy
            more = {n for s, value in values if _refers_to(value, aliases) for n in _bound_names(s)} - aliases
            aliases |= more
            grew = bool(more)
        # what is stored into an object reached; and by a function into its arguments, when it is given something
        # reached (then what its calls pass it is reached too)
        for roots, value, local, parameters, owner, label in mutations:
            passing = _calls_passing(calls, owner, aliases) if roots & parameters else []
            if roots - local & aliases or passing:
                todo += [(node, label, scope) for node, scope in [(value, local), *passing] if id(node) not in seen]
    return total, unknown


