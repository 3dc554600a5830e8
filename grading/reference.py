"""What each check of a lesson expects, recorded once from the reference solution in a trusted kernel.

:func:`load_reference` runs ``solutions/<lesson>/<lesson>.ipynb`` (the instructor's notebook, which no
student code ever touches) with every test cell replaced by its record program (see
:mod:`grading.probes`): each check records the arguments that say what is right (expected values,
shapes, types, tolerances, hints), then runs as usual, so the reference must pass its own tests. The
records are kept in ``<reference_directory>/<lesson>.json`` and used again until the solution notebook
changes; a lock makes parallel graders build them once.
"""

from __future__ import annotations

import ast
import copy
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from . import probes
from .plain import KERNEL_ENCODER, MIME, decode

__all__ = ["Reference", "ReferenceError", "load_reference", "lesson_imports", "graded_test_cells", "source_hash"]

#: Changes whenever what a record holds changes: older files are rebuilt.
FORMAT = 4

_RECORDER = r'''
def __course_record_setup__():
    import inspect as _inspect, json as _json
    from IPython.display import publish_display_data as _publish
    _value_params = {"actual", "value", "condition", "function"}

    def record(check_id, check, *args, **kwargs):
        bound = _inspect.signature(check).bind(*args, **kwargs)
        bound.apply_defaults()
        # a check_true message is written by the student's kernel when graded: the reference's would mislead
        params = {k: v for k, v in bound.arguments.items() if k not in _value_params and k != "message"}
        if check.__name__ == "check_type":
            types = params["expected"] if isinstance(params["expected"], tuple) else (params["expected"],)
            params["expected"] = [f"{t.__module__}.{t.__qualname__}" for t in types]
        if check.__name__ == "check_shape":
            params["shape"] = [int(n) for n in params["shape"]]
        __probe__(-1 - check_id, params)
        return check(*args, **kwargs)

    return record


__record__ = __course_record_setup__()
del __course_record_setup__
'''


class ReferenceError(RuntimeError):
    """The reference solution could not be recorded; the message names the lesson, the cell and why."""


@dataclass
class Reference:
    """The records of one lesson: per test cell (by grade_id) its source's hash and its checks' records."""

    lesson: str
    cells: dict[str, dict]
    imports: str

    def records(self, grade_id: str) -> list[dict]:
        return self.cells[grade_id]["records"]


def source_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _is_test(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def graded_test_cells(nb) -> dict[str, str]:
    """``{grade_id: source}`` of a notebook's auto-graded test cells."""
    return {c["metadata"]["nbgrader"]["grade_id"]: c["source"] for c in nb.cells if _is_test(c)}


def lesson_imports(nb) -> str:
    """The import statements of the lesson's own code cells (not answers, not tests), one per line."""
    lines = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") != "code" or meta.get("solution") or meta.get("grade"):
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        lines += [ast.unparse(node) for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    return "\n".join(dict.fromkeys(lines))


def module_names(imports: str) -> set[str]:
    """The names that ``imports`` binds."""
    names = set()
    for node in ast.parse(imports).body:
        names |= {a.asname or a.name.split(".")[0] for a in node.names}
    return names


def load_reference(solution: Path, directory: Path, timeout: int = 600, announce=None) -> Reference:
    """The records of the lesson whose reference notebook is ``solution``, built when missing or stale
    (``announce(message)``, when given, is called first: building takes a minute or so).

    Raises
    ------
    ReferenceError
        When the solution notebook is missing or corrupt, a test cell breaks the rules of
        :mod:`grading.probes`, or the reference fails one of its own tests.
    """
    lesson = solution.stem
    try:
        raw = solution.read_bytes()
        nb = nbformat.reads(raw.decode(), as_version=4)
    except (OSError, ValueError) as error:
        raise ReferenceError(f"cannot read the reference solution {solution}: {error}") from None
    digest = hashlib.sha256(raw).hexdigest()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{lesson}.json"
    with open(directory / f"{lesson}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            stored = json.loads(path.read_text())
            if stored.get("format") == FORMAT and stored.get("solution_sha256") == digest:
                return _loaded(lesson, stored)
        except (OSError, ValueError):
            pass
        if announce is not None:
            announce(f"recording what the tests of {lesson} expect: the solution runs once (a minute or so; kept in "
                     f"{directory} for the next runs)")
        stored = {"format": FORMAT, "solution_sha256": digest, **_record(lesson, solution, nb, timeout)}
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(stored))
        os.replace(temporary, path)
    return _loaded(lesson, stored)


def _loaded(lesson: str, stored: dict) -> Reference:
    cells = {}
    for grade_id, cell in stored["cells"].items():
        records = [{**r, "args": decode(r["args"])} for r in cell["records"]]
        cells[grade_id] = {"source_sha256": cell["source_sha256"], "source": cell["source"], "records": records}
    return Reference(lesson, cells, stored["imports"])


def _record(lesson: str, solution: Path, nb, timeout: int) -> dict:
    nb = copy.deepcopy(nb)
    checks_of: dict[str, list[probes.Check]] = {}
    for cell in nb.cells:
        if _is_test(cell):
            grade_id = cell["metadata"]["nbgrader"]["grade_id"]
            try:
                checks_of[grade_id] = probes.check_calls(cell.source)
                cell["metadata"]["course_source"] = cell.source
                cell.source = probes.record_program(cell.source)
            except probes.TestCellError as error:
                raise ReferenceError(f"{lesson}, test cell {grade_id}: {error}") from None
    setup = nbformat.v4.new_code_cell(KERNEL_ENCODER + "\n" + _RECORDER)
    nb.cells.insert(0, setup)
    workdir = Path(tempfile.mkdtemp(prefix=f"reference-{lesson}-"))
    try:
        for item in solution.parent.iterdir():  # files the lesson ships beside its notebook
            if item.is_file() and item.suffix != ".ipynb":
                shutil.copy2(item, workdir / item.name)
        # the trusted solution's own kernel: its warning about an unencrypted local connection is only noise here
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=False,
                                resources={"metadata": {"path": str(workdir)}},
                                extra_arguments=["--IPKernelApp.log_level=ERROR"])
        try:
            client.execute()
        except CellExecutionError as error:
            failing = next((c for c in nb.cells if any(o.get("output_type") == "error" for o in c.get("outputs", []))), None)
            where = failing.get("metadata", {}).get("nbgrader", {}).get("grade_id", "a lesson cell") if failing else "?"
            raise ReferenceError(f"{lesson}: the reference solution fails in {where}: {str(error).strip().splitlines()[-1]}") from None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    cells = {}
    for cell in nb.cells:
        if not _is_test(cell):
            continue
        grade_id = cell["metadata"]["nbgrader"]["grade_id"]
        by_id = {c.id: c for c in checks_of[grade_id]}
        records = []
        for output in cell.get("outputs", []):
            data = output.get("data", {}).get(MIME) if output.get("output_type") == "display_data" else None
            if data is None:
                continue
            body = json.loads(data)
            check_id = -1 - body["check"]
            check = by_id[check_id]
            records.append({"check": check_id, "kind": check.kind, "hidden": check.hidden, "function": check.function,
                            "line": check.line,
                            "args": json.dumps(body["value"])})
        source = cell["metadata"]["course_source"]
        cells[grade_id] = {"source_sha256": source_hash(source), "source": source, "records": records}
    return {"cells": cells, "imports": lesson_imports(nb)}
