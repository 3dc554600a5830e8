"""What a submission's cells define and reach, read from their source (never run): the facts behind the checks
that are decided from the submitted code, ``check_loops`` and ``check_libraries``.

A cell is read as the Python it runs: IPython's syntax (``%time f(x)``, ``!ls``) is translated by IPython's own
transformer. A cell that is not Python even so is skipped, as the kernel would fail on it.
"""

from __future__ import annotations

import ast
import re
import symtable

from IPython.core.inputtransformer2 import TransformerManager

from helpers import checks, reach

__all__ = ["PYTHON_MAGICS", "libraries_in_definition", "loops_in_definition", "python_cell"]

#: IPython magics whose argument is Python that runs in the notebook (``%time f(x)``, ``%%capture``).
PYTHON_MAGICS = frozenset({"time", "timeit", "capture", "prun"})
#: Magics that run or bring in code the notebook does not show (``%run file.py``, ``%load``, ``%store -r``): they stay
#: in the code read as ``get_ipython()`` calls, which a library rule refuses.
HIDDEN_CODE_MAGICS = frozenset({"run", "load", "store", "macro", "rerun", "recall", "autocall", "alias", "load_ext",
                                "reload_ext", "edit", "paste", "cpaste", "autoreload", "aimport", "reset", "psource", "debug"})
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
                and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            magic = node.args[0].value if function.attr.startswith("run_") else "!"
            if magic in HIDDEN_CODE_MAGICS:
                return self.generic_visit(node)
            if magic in PYTHON_MAGICS:
                if not (isinstance(node.args[-1], ast.Constant) and isinstance(node.args[-1].value, str)):
                    return self.generic_visit(node)
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
    modules: dict[str, str] = {}
    for statement in (s for source in cells if (tree := python_cell(source)) for s in _simple_statements(tree.body)):
        for bound in _bound_names(statement):
            last[bound] = statement
            modules.pop(bound, None)
        modules.update(checks.module_names(statement) if isinstance(statement, ast.Import) else {})
    if not isinstance(last.get(name), (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    loops, seen, todo = [], set(), [name]
    calls: dict[str, set[str]] = {}  # name -> the names it reaches, for checks.recursion_cycles
    order: list[str] = []
    while todo:
        current = todo.pop()
        node = last.get(current)
        if current in seen or node is None:
            continue
        seen.add(current)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            loops += checks.loops_in_tree(node, modules)
            reached = [n.func.id for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
        elif isinstance(node, (ast.Import, ast.ImportFrom)) or isinstance(node, ast.Assign) and isinstance(
                node.value, (ast.Name, ast.Attribute, ast.Lambda, ast.Call, ast.Subscript)):
            # a name the function calls, bound elsewhere to a loop in disguise (``total = sum``), to a lambda, or to
            # what a call or a subscript gives (``functools.partial(sum)``, ``getattr(builtins, "sum")``)
            loops += checks.loops_in_tree(node, modules)
            reached = [n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)]
        else:
            continue
        order.append(current)
        calls[current] = set(reached) - {current}  # a definition calling its own name: loops_in_tree counts it
        todo += reached
    # recursion through other functions of the notebook, or an alias (``again = predict``), anywhere below ``name``
    return loops + checks.recursion_cycles(calls, order, {n: n for n in order})


def _simple_statements(body: list[ast.stmt]):
    """The statements of a cell that bind or change something, one by one: compound statements (``if``, ``for``,
    ``with``, ``try``) are opened, their headers given as assignments (``for a in xs`` as ``a = xs[0]``); an import of
    several names, and ``a, b = x, y``, as one statement per name; definitions stay whole."""
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)) and len(node.names) > 1:
            yield from (ast.copy_location(type(node)(**{**{f: getattr(node, f) for f in node._fields}, "names": [alias]}), node)
                        for alias in node.names)
            continue
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Tuple)
                and isinstance(node.value, ast.Tuple) and len(node.targets[0].elts) == len(node.value.elts)
                and not any(isinstance(e, ast.Starred) for e in (*node.targets[0].elts, *node.value.elts))):
            yield from (ast.copy_location(ast.Assign(targets=[t], value=v), node)
                        for t, v in zip(node.targets[0].elts, node.value.elts, strict=True))
            continue
        if isinstance(node, _DEFINITIONS) or not any(isinstance(getattr(node, f, None), list) and getattr(node, f)
                                                     and isinstance(getattr(node, f)[0], ast.stmt)
                                                     for f in ("body", "orelse", "finalbody")):
            yield node
            continue
        if isinstance(node, (ast.For, ast.AsyncFor)):  # `for a in xs` as `a = xs[0]`: a is an element of xs
            yield ast.copy_location(ast.Assign(targets=[node.target], value=ast.Subscript(node.iter, ast.Constant(0))), node)
        for item in getattr(node, "items", []):  # with ... as ...
            yield ast.copy_location(ast.Assign(targets=[item.optional_vars or ast.Name("_", ast.Store())],
                                               value=item.context_expr), node)
        if isinstance(node, (ast.If, ast.While)):
            yield ast.copy_location(ast.Expr(node.test), node)
        for field in ("body", "orelse", "finalbody"):
            yield from _simple_statements(getattr(node, field, []) or [])
        for handler in getattr(node, "handlers", []):
            if handler.name:  # except E as name
                yield ast.copy_location(ast.Assign(targets=[ast.Name(handler.name, ast.Store())],
                                                   value=handler.type or ast.Constant(None)), handler)
            yield from _simple_statements(handler.body)


def _bound_names(statement: ast.stmt) -> set[str]:
    """The names a statement binds in the notebook: its own (``match`` captures included), and those its functions
    declare ``global``."""
    if isinstance(statement, _DEFINITIONS):
        names = {statement.name}
    else:
        names = {n.id for n in _outside_scopes(statement) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
        names |= {(a.asname or a.name).split(".")[0] for n in _outside_scopes(statement)
                  if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
        names |= {n.name for n in _outside_scopes(statement) if isinstance(n, (ast.MatchAs, ast.MatchStar)) and n.name}
        names |= {n.rest for n in _outside_scopes(statement) if isinstance(n, ast.MatchMapping) and n.rest}
    return names | _declared_global(statement)


def _declared_global(statement: ast.stmt) -> set[str]:
    return {name for node in ast.walk(statement) if isinstance(node, ast.Global) for name in node.names}


def _outside_scopes(node: ast.AST):
    """``node`` and the nodes under it, without entering the functions, classes and lambdas it defines."""
    todo = [node]
    while todo:
        current = todo.pop()
        yield current
        todo += [child for child in ast.iter_child_nodes(current) if not isinstance(child, _SCOPES)]


def _globals_read(node: ast.AST) -> set[str]:
    """The global names a definition or lambda reads when it is defined or runs (Python's own scoping, from
    ``symtable``: a comprehension's variable or an inner function's parameter does not hide a global of its name)."""
    try:
        top = symtable.symtable(ast.unparse(node), "<cell>", "exec")
    except SyntaxError:
        return reach.read(node, "").loads
    names, tables = set(), [(top, 0)]
    while tables:
        table, depth = tables.pop()
        for symbol in table.get_symbols():
            if symbol.is_referenced() and (depth == 0 or symbol.is_global()):
                names.add(symbol.get_name())  # decorators, defaults and bases are read where the definition is
        tables += [(child, depth + 1) for child in table.get_children()]
    return names


def _base(target: ast.AST) -> ast.AST | None:
    """The object an assignment to ``target`` changes: ``np`` for ``np.mean = ...``, ``t[i]`` for ``t[i].x = ...``."""
    return target.value if isinstance(target, (ast.Attribute, ast.Subscript)) else None


def _targets(node: ast.AST) -> list[ast.AST]:
    """Every attribute or item an assignment stores into, tuples unpacked."""
    found, todo = [], list(node.targets if isinstance(node, ast.Assign) else [node.target])
    while todo:
        target = todo.pop()
        if isinstance(target, (ast.Tuple, ast.List)):
            todo += target.elts
        elif isinstance(target, ast.Starred):
            todo.append(target.value)
        elif isinstance(target, (ast.Attribute, ast.Subscript)):
            found.append(target)
    return found


def _mutations(statement: ast.stmt) -> list[tuple[ast.AST, ast.AST, frozenset[str], frozenset[str], str | None]]:
    """What a statement stores into attributes or items of objects (``np.mean = f``, ``table["mse"] = f``), also in the
    functions and classes it defines: ``(the object changed, the value stored, the names local where it happens, the
    parameters of the function it happens in, that function's name)``."""
    found = []
    scopes = [(statement, frozenset(), None)] if not isinstance(statement, _SCOPES) else []
    scopes += [(node, frozenset(reach.read(node, "").stores), getattr(node, "name", None))
               for node in ast.walk(statement) if isinstance(node, _SCOPES)]
    for scope, local, owner in scopes:
        parameters = frozenset(a.arg for a in ast.walk(scope.args) if isinstance(a, ast.arg)) if hasattr(scope, "args") else frozenset()
        for node in (_outside_scopes(scope) if not isinstance(scope, _SCOPES) else
                     (n for child in ast.iter_child_nodes(scope) for n in _outside_scopes(child))):
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and node.value is not None:
                found += [(_base(target), node.value, local, parameters, owner) for target in _targets(node)]
    return found


def _is(value: ast.AST, objects: set[str], holders: set[str]) -> bool:
    """Whether ``value`` may be one of the objects named ``objects`` or a part of one (``np``, ``np.linalg``,
    ``tools[0]``), or an element of a container named in ``holders`` (``holder[0]`` for ``holder = [np]``)."""
    if isinstance(value, ast.Name):
        return value.id in objects
    if isinstance(value, ast.Subscript) and (isinstance(value.value, ast.Name) and value.value.id in holders
                                             or _holds(value.value, objects, holders)):
        return True
    if isinstance(value, (ast.Attribute, ast.Subscript, ast.Starred)):
        return _is(value.value, objects, holders)
    if isinstance(value, (ast.IfExp, ast.BoolOp, ast.NamedExpr)):
        return any(_is(v, objects, holders) for v in ast.iter_child_nodes(value) if isinstance(v, ast.expr))
    return False


def _holds(value: ast.AST, objects: set[str], holders: set[str]) -> bool:
    """Whether ``value`` is a container display holding one of those objects (``[np]``, ``{"k": mse}``)."""
    if isinstance(value, (ast.List, ast.Tuple, ast.Set)):
        return any(_is(e, objects, holders) or _holds(e, objects, holders) for e in value.elts)
    if isinstance(value, ast.Dict):
        return any(_is(v, objects, holders) or _holds(v, objects, holders) for v in value.values)
    return False


def _calls_passing(calls: list[tuple[ast.Call, frozenset[str]]], function: str | None, objects: set[str],
                   holders: set[str]) -> list[tuple[ast.Call, frozenset[str]]]:
    """The calls of ``function`` (by name, or as a method) that pass it one of ``objects``."""
    return [(c, local) for c, local in calls
            if (isinstance(c.func, ast.Name) and c.func.id == function or isinstance(c.func, ast.Attribute) and c.func.attr == function)
            and any(_is(a, objects, holders) for a in [*c.args, *(k.value for k in c.keywords)])]


def _aliases(seed: set[str], values: list[tuple[ast.stmt, ast.AST]]) -> tuple[set[str], set[str]]:
    """``(objects, holders)``: the names that may refer to an object named in ``seed`` or a part of one (``a = np``,
    ``a = np.linalg``), and the names of containers holding one (``a = [np]``)."""
    objects, holders, grew = set(seed), set(), True
    while grew:
        grew = False
        for statement, value in values:
            for bound in _bound_names(statement):
                kind = objects if _is(value, objects, holders) else holders if _holds(value, objects, holders) else None
                if kind is not None and bound not in kind:
                    kind.add(bound)
                    grew = True
    return objects, holders


def _calls(statement: ast.stmt) -> list[tuple[ast.Call, frozenset[str]]]:
    """Every call ``statement`` makes, with the names local where it is made: none outside functions; inside one, the
    names it and the functions around it bind (a nested function reads its enclosing function's names), less those
    declared ``global``."""
    found, todo = [], [(statement, frozenset())]
    while todo:
        node, local = todo.pop()
        if isinstance(node, _SCOPES):
            local = local | (frozenset(reach.read(node, "").stores) - _declared_global(node))
        elif isinstance(node, ast.Call):
            found.append((node, local))
        todo += [(child, local) for child in ast.iter_child_nodes(node)]
    return found


def _label(statement: ast.AST) -> str:
    if isinstance(statement, _DEFINITIONS):
        return statement.name
    line = ast.unparse(statement).splitlines()[0] if not isinstance(statement, ast.expr) else ast.unparse(statement)
    return f"the line `{line[:60]}{'...' if len(line) > 60 else ''}`"


def _through(label: str, via: str | None) -> str:
    """``label``, with the global name through which the checked function reached it when the label does not name it."""
    return f"{label}, reached through the global `{via}`" if via and via not in re.findall(r"\w+", label) else label


def _first_via(via_of: dict[str, str | None], nodes: list[ast.AST | None]) -> str | None:
    """The global name through which the checked function reached the first name of ``nodes`` it reached."""
    names = sorted({n.id for node in nodes if node is not None for n in ast.walk(node) if isinstance(n, ast.Name)})
    return next((via_of[n] for n in names if via_of.get(n)), None)


def libraries_in_definition(cells: list[str], name: str, skip: tuple[str, ...] = ()) -> tuple[reach.Reach, set[str]] | None:
    """What the function ``name``, as the notebook's cells last define it, reaches, read from the cells' source.

    Followed from its source (with Python's scoping): every statement that binds a name it reads (every binding of
    it), every value stored into an object it may reach (``np.mean = f``, also through another name for it, and by a
    function into an argument given such an object), every statement that mentions a data object it reads (a list
    it takes functions from may be filled by a call), and every statement anywhere that changes names at run time
    (``globals()[...] = ...``, ``setattr(np, ...)``, ``%run``). The names of ``skip`` (an earlier exercise's functions,
    which its own test checks) are not followed where every binding of them is in a cell before the checked function's.
    Returns the :class:`helpers.reach.Reach` and the names read that no cell defines; None when ``name`` is not defined
    by a ``def``.
    """
    statements, total, cell_of = [], reach.Reach(), {}
    for index, source in enumerate(cells):
        tree = python_cell(source)
        if tree is not None:
            for statement in _simple_statements(tree.body):
                statements.append(statement)
                cell_of[id(statement)] = index
            continue
        # a cell that is not Python runs nothing, unless IPython reads a line of it as a magic written without % (`run x.py`)
        for line in source.splitlines():
            if line.split(" ", 1)[0] in HIDDEN_CODE_MAGICS:
                total.dynamic.setdefault(f"{line.split(' ', 1)[0]} (a magic)", f"the line `{line[:60]}`")
    binding: dict[str, list[ast.stmt]] = {}
    for statement in statements:
        for bound in _bound_names(statement):
            binding.setdefault(bound, []).append(statement)
        if any(isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names) for n in ast.walk(statement)):
            binding.setdefault("*", []).append(statement)  # binds names nobody can list
    last = binding.get(name, [None])[-1]
    if not isinstance(last, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    # a name of `skip` is not followed when every binding of it is in a cell before the checked function's (an earlier
    # exercise's answer, which its own test checks); one bound again in that cell or after it (or where a star import
    # there may bind it) is followed
    skip = {n for n in skip if n != name and all(cell_of[id(s)] < cell_of[id(last)]
                                                 for s in [*binding.get(n, []), *binding.get("*", [])])}
    definitions = (*_DEFINITIONS, ast.Import, ast.ImportFrom)
    data = {n for n, bound in binding.items() if any(not isinstance(s, definitions) for s in bound)}
    values = [(s, s.value) for s in statements if isinstance(s, (ast.Assign, ast.AnnAssign)) and s.value is not None]
    mutations = [(*mutation, _label(s)) for s in statements for mutation in _mutations(s)]
    calls, enclosing = [], {}  # every call, and the statement it is made in
    for s in statements:
        for call in _calls(s):
            calls.append(call)
            enclosing[id(call[0])] = s
    mentions = {id(s): reach.read(s, "").loads for s in statements}
    unknown, reached, via_of = set(), {name}, {name: None}
    # (node, label, names local there, whether to follow the names it reads, the global name of the notebook through
    # which the function reaches it: named in the label, so that a message says why a line of another cell counts)
    todo: list[tuple[ast.AST, str, frozenset[str], bool, str | None]] = [(last, name, frozenset(), True, None)]
    todo += [(s, _label(s), frozenset(), True, None) for s in binding[name] if s is not last and name in _declared_global(s)]
    # code that changes names at run time, wherever it is: refused, not followed (what it names is not the point)
    todo += [(s, _label(s), frozenset(), False, None) for s in statements if set(reach.read(s, "").dynamic) - reach.READING_ONLY]
    seen: set[int] = set()
    while todo:
        while todo:
            node, label, local, follow, via = todo.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            reach.read(node, _through(label, via), into=total)
            if not follow:
                continue
            own = reach.read(node, label)
            read = _globals_read(node) if isinstance(node, _SCOPES) else own.loads - local
            for read_name in read - local:
                if read_name in skip:
                    continue
                if read_name in binding or "*" in binding:
                    reached.add(read_name)
                    via_of.setdefault(read_name, via or (read_name if node is last else None))
                    todo += [(s, _label(s), frozenset(), True, via_of[read_name])
                             for s in binding.get(read_name, binding.get("*", []))]
                elif read_name not in own.stores:
                    unknown.add(read_name)
        objects, holders = _aliases(reached, values)
        # what is stored into an object reached; by a function into an argument given such an object (with what its
        # calls pass it); and whatever mentions a data object reached (a call may fill it)
        for base, value, local, parameters, owner, label in mutations:
            passing = (_calls_passing(calls, owner, objects, holders)
                       if isinstance(base, ast.Name) and base.id in parameters else [])
            if base is not None and _is(base, objects - local, holders - local) or passing:
                via = _first_via(via_of, [base, *(call for call, _ in passing)])
                todo += [(node, label, scope, True, via) for node, scope in [(value, local), *passing] if id(node) not in seen]
                # a call made inside a function passes what that function made: its whole definition is followed
                todo += [(enclosing[id(call)], _label(enclosing[id(call)]), frozenset(), True, via)
                         for call, scope in passing if scope and id(enclosing[id(call)]) not in seen]
        watched = set().union(*_aliases(reached & data - {name}, values)) & data
        todo += [(s, _label(s), frozenset(), True, _first_via(via_of, [s])) for s in statements
                 if mentions[id(s)] & watched and id(s) not in seen]
    return total, unknown
