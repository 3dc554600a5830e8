"""The public API of ``helpers``: lessons import only from its root, ``__all__`` is one screen, every name in it
resolves, and every public function and class has a numpydoc docstring.

The docstring check is this file's own small numpydoc reader (the ``numpydoc`` package would bring Sphinx and a
dozen packages into the environment every student's Binder installs, for one test): a summary line; a
``Parameters`` section naming exactly the parameters of the signature; ``Returns`` (``Yields`` for a context
manager) unless the function returns ``None``; a ``Raises`` section naming every exception class the function
raises itself (``raise ValueError(...)`` in its body). Classes document their constructor's parameters, or
their fields under ``Attributes``.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
import textwrap
from typing import Any

import pytest

import helpers
from course import lessons, read, source_notebook

PUBLIC = sorted(helpers.__all__)


# ----------------------------------------------------------------------------------- lessons' imports


def _helpers_imports(source: str) -> list[tuple[int, str, list[str]]]:
    """``(line, statement, names)`` for every statement of ``source`` that imports from or reads ``helpers``."""
    code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    found = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.ImportFrom) and node.module and (node.module == "helpers" or node.module.startswith("helpers.")):
            found.append((node.lineno, f"from {node.module} import ...", [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "helpers" or alias.name.startswith("helpers."):
                    found.append((node.lineno, f"import {alias.name}", []))
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "helpers":
            found.append((node.lineno, f"helpers.{node.attr}", [node.attr]))
    return found


def _import_problems(source: str) -> list[str]:
    problems = []
    for line, statement, names in _helpers_imports(source):
        if statement.startswith("from helpers.") or statement.startswith("import helpers."):
            problems.append(f"line {line}: `{statement}` imports a submodule; write `from helpers import {', '.join(names) or '...'}`")
            continue
        missing = [name for name in names if name not in PUBLIC]
        if missing:
            problems.append(f"line {line}: {', '.join(missing)} not in helpers.__all__ ({statement})")
    return problems


def test_the_import_rule_reader_flags_submodules_and_private_names():
    source = (
        "import helpers\nfrom helpers import check_close, plot_fit\n%matplotlib inline\n"
        "from helpers.checks import check_close\nimport helpers.mnist\nfrom helpers import _style\nhelpers.plotting.plot_fit\n"
    )
    assert _import_problems(source) == [
        "line 4: `from helpers.checks import ...` imports a submodule; write `from helpers import check_close`",
        "line 5: `import helpers.mnist` imports a submodule; write `from helpers import ...`",
        "line 6: _style not in helpers.__all__ (from helpers import ...)",
        "line 7: plotting not in helpers.__all__ (helpers.plotting)",
    ]


@pytest.mark.parametrize("lesson", lessons())
def test_lessons_import_only_from_the_helpers_root(lesson: str):
    """Every import of ``helpers`` in a lesson is ``from helpers import <names in __all__>`` (or the setup cell's
    plain ``import helpers``, which only checks that the course is installed)."""
    problems = []
    for index, cell in enumerate(read(source_notebook(lesson)).cells):
        if cell.cell_type == "code":
            problems += [f"cell {index}, {problem}" for problem in _import_problems(cell.source)]
    assert not problems, f"{lesson} imports helpers other than from its root:\n" + "\n".join(problems)


# ----------------------------------------------------------------------------------- __all__


def test_all_is_one_screen_of_public_names_that_resolve():
    assert PUBLIC == helpers.__all__, "__all__ is kept sorted"
    assert len(PUBLIC) <= 50, f"__all__ should fit one screen (at most 50 names), has {len(PUBLIC)}"
    assert not [name for name in PUBLIC if name.startswith("_")]
    for name in PUBLIC:
        value = getattr(helpers, name)
        module = helpers._EXPORTS[name]
        assert not module.startswith("_") or name in ("PALETTE", "course_style"), f"{name} comes from private {module}"
        assert getattr(value, "__module__", f"helpers.{module}") in (f"helpers.{module}", "typing"), name
    with pytest.raises(TypeError):  # no hidden global state: a lesson cannot recolour every plot of the course
        helpers.PALETTE["blue"] = "red"  # type: ignore[index]
    with pytest.raises(AttributeError, match="no attribute 'plotting_helpers'"):
        helpers.plotting_helpers  # noqa: B018


# ----------------------------------------------------------------------------------- numpydoc


_HEADER = re.compile(r"^(?P<title>[A-Z][A-Za-z ]+)\n-{3,}$", re.MULTILINE)


def sections(doc: str) -> dict[str, str]:
    """``{section title: body}`` of a numpydoc docstring (the text before the first section under "")."""
    parts: dict[str, str] = {}
    matches = list(_HEADER.finditer(doc))
    parts[""] = doc[: matches[0].start()] if matches else doc
    for match, following in zip(matches, [*matches[1:], None]):
        parts[match["title"]] = doc[match.end() : following.start() if following else len(doc)]
    return parts


def documented_names(body: str) -> list[str]:
    """The names a Parameters / Attributes section documents: its unindented ``name : type`` lines."""
    names = []
    for line in body.splitlines():
        if line and not line[0].isspace():
            names += [name.strip().lstrip("*") for name in line.split(" : ")[0].split(",")]
    return names


def _raised_here(function: Any) -> set[str]:
    """The exception classes ``function`` raises by name in its own body (not in nested functions)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError):
        return set()
    (definition,) = tree.body
    raised, todo = set(), list(definition.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Raise) and node.exc is not None:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(target, ast.Name) and target.id[0].isupper():
                raised.add(target.id)
        todo += list(ast.iter_child_nodes(node))
    return raised


def docstring_problems(obj: Any) -> list[str]:
    doc = inspect.getdoc(obj) or ""
    if not doc.strip():
        return ["no docstring"]
    parts = sections(doc)
    problems = [] if parts[""].strip().splitlines()[0].strip() else ["no summary line"]
    if inspect.isclass(obj):
        if issubclass(obj, Exception):
            return problems
        if dataclasses.is_dataclass(obj) or hasattr(obj, "_fields"):
            fields = [f.name for f in dataclasses.fields(obj)] if dataclasses.is_dataclass(obj) else list(obj._fields)
            if documented_names(parts.get("Attributes", "")) != fields:
                problems.append(f"Attributes section must list the fields {fields}, lists {documented_names(parts.get('Attributes', ''))}")
            return problems
        function, skip = obj.__init__, 1
    else:
        function, skip = obj, 0
    signature = inspect.signature(function)
    expected = list(signature.parameters)[skip:]
    listed = documented_names(parts.get("Parameters", ""))
    if expected != listed:
        problems.append(f"Parameters section must name {expected} in order, names {listed}")
    if not inspect.isclass(obj):
        returns_none = signature.return_annotation in (None, "None")
        is_generator = "Iterator" in str(signature.return_annotation) or hasattr(obj, "__wrapped__")
        section = "Yields" if is_generator else "Returns"
        if not returns_none and not parts.get(section, "").strip():
            problems.append(f"no {section} section")
    raised = _raised_here(function)
    missing = sorted(name for name in raised if name not in parts.get("Raises", ""))
    if missing:
        problems.append(f"raises {missing} without a Raises section naming them")
    return problems


def test_the_docstring_reader_finds_what_is_missing():
    def scale(x, factor=2.0, *, check=True):
        """Multiply.

        Parameters
        ----------
        x, factor : float
            The number and the factor.

        Returns
        -------
        float
        """
        if not check:
            raise ValueError("no")
        return x * factor

    assert docstring_problems(scale) == [
        "Parameters section must name ['x', 'factor', 'check'] in order, names ['x', 'factor']",
        "raises ['ValueError'] without a Raises section naming them",
    ]


CALLABLES = [name for name in PUBLIC if callable(getattr(helpers, name))]


@pytest.mark.parametrize("name", CALLABLES)
def test_every_public_callable_has_a_numpydoc_docstring(name: str):
    problems = docstring_problems(getattr(helpers, name))
    assert not problems, f"helpers.{name}: " + "; ".join(problems)
