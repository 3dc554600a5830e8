"""An adversarial cohort, generated from each lesson's solution: every kind of hostile or broken
submission that the grader must survive, and what must come of it.

Code attacks are placed at the top of an exercise's answer cell (before the correct solution), so the
expected outcome is uniform: that exercise (and the exercises that depend on it, as listed in
``tests/wrong_answers/<lesson>.toml``) scores 0, and every other exercise keeps full marks.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

import course

# ---- the attacks ------------------------------------------------------------------------------------
# Each is code put at the top of an answer cell. `lost`: the exercise loses its points.
KILLS_ITSELF = "import os\nos._exit(1)\n"
SEGFAULT = "import faulthandler\nfaulthandler._sigsegv()\n"
MEMORY_BOMB = "_hog = []\nwhile True:\n    _hog.append(bytearray(256 * 2**20))\n"
SYS_EXIT = "raise SystemExit(3)\n"
INFINITE_LOOP = "while True:\n    pass\n"
SWALLOWS_INTERRUPT = "while True:\n    try:\n        while True:\n            pass\n    except KeyboardInterrupt:\n        pass\n"
PATCH_NUMPY_AND_HELPERS = (
    "import numpy\nimport helpers.checks\n"
    "numpy.testing.assert_allclose = lambda *a, **k: None\n"
    "numpy.allclose = lambda *a, **k: True\n"
    "helpers.checks.check_close = lambda *a, **k: None\n"
)
PATCH_BUILTINS = "import builtins\nbuiltins.isinstance = lambda *a: True\nbuiltins.abs = lambda x: 0\n"
PATCH_TORCH_AND_MATH = "import math\nimport torch\nmath.isclose = lambda *a, **k: True\ntorch.allclose = lambda *a, **k: True\n"
REBIND_NAMES = "np = None\ncheck_close = lambda *a, **k: None\n"
EQUALS_EVERYTHING = (
    "class _Anything(float):\n"
    "    def __eq__(self, other):\n        return True\n"
    "    def __array__(self, *a, **k):\n        raise TypeError\n"
)

#: Code put in a cell of its own: it must see nothing of the course, write nothing outside its folder,
#: reach no network, and leave the exercises alone.
SNOOP = '''
import json, os, socket
_root = os.path.abspath(os.path.join(os.getcwd(), "..", "..", "..", ".."))
_seen = {}
for _name in ["solutions", "notebooks", "tests", ".grading/gradebook.db", ".grading/submitted", ".grading/autograded/solution"]:
    _seen[_name] = os.path.exists(os.path.join(_root, _name))
_damage = {}
for _name in [".grading/gradebook.db", ".grading/autograded/solution/hacked.txt"]:
    try:
        with open(os.path.join(_root, _name), "w") as _f:
            _f.write("overwritten")
        _damage[_name] = "written"
    except OSError as _error:
        _damage[_name] = type(_error).__name__
try:
    socket.create_connection(("pypi.org", 443), timeout=3).close()
    _network = "reached pypi.org"
except OSError as _error:
    _network = type(_error).__name__
print("SNOOP " + json.dumps({"root": _root, "seen": _seen, "damage": _damage, "network": _network}))
'''.strip()
FLOOD = 'print("x" * 30_000_000)'


@dataclass
class Submission:
    student: str
    notebook: nbformat.NotebookNode | None  # None: no notebook at all
    raw: str | None = None  # written verbatim instead of a notebook (a corrupt file)
    filename: str | None = None  # a name other than the lesson's
    extra: dict[str, str] = field(default_factory=dict)  # further files {name: text}
    lost: set[str] = field(default_factory=set)  # test cells that must score 0
    graded: bool = True  # nbgrader must grade it (else: reported by name)
    kinds: list[str] = field(default_factory=list)


def _attack(student_nb, source_nb, lesson: str, attacks: dict[str, str]):
    """The solution, with ``attacks[answer]`` put above the solution of each attacked answer cell."""
    solved = {c.metadata["nbgrader"]["grade_id"]: c.source for c in course.fill_answers(student_nb, source_nb).cells
              if course.nbgrader_meta(c).get("solution")}
    replace = {answer: code + solved[answer] for answer, code in attacks.items()}
    return course.fill_answers(student_nb, source_nb, replace=replace)


def _assigned(node: ast.AST) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _lost(lesson: str, answers: list[str]) -> set[str]:
    """Test cells lost when the given answer cells define nothing: their own (from the wrong-answer file),
    and every test cell that then fails, following the notebook statement by statement: a definition that
    uses a missing name is missing, and a statement that uses one stops its cell."""
    wrong = course.wrong_answers(lesson)
    tests = set(course.graded_cells(lesson).tests)
    lost = set().union(*(set(wrong[a]["fails"]) for a in answers)) if answers else set()
    missing: set[str] = set()
    for cell in course.read(course.source_notebook(lesson)).cells:
        if cell.cell_type != "code":
            continue
        grade_id = course.nbgrader_meta(cell).get("grade_id")
        code = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        tree = ast.parse(code)
        if grade_id in answers:
            missing |= set().union(*(_assigned(node) for node in tree.body)) if tree.body else set()
            continue
        stopped = False
        for node in tree.body:
            # names read from outside the statement (its own locals, loop and comprehension variables excluded)
            local = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            local |= {a.arg for n in ast.walk(node) if isinstance(n, ast.arguments) for a in n.args + n.kwonlyargs}
            used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - local
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not stopped:
                if used & missing:
                    missing.add(node.name)
                else:
                    missing.discard(node.name)
                continue
            if stopped or used & missing:
                stopped = True
                missing |= _assigned(node)
            else:
                missing -= _assigned(node)
        if stopped and grade_id in tests:
            lost.add(grade_id)
    return lost


def cohort(lesson: str, student_nb, source_nb) -> list[Submission]:
    """The adversarial submissions for one lesson (it needs at least four exercises)."""
    answers = course.graded_cells(lesson).answers
    tests = list(course.graded_cells(lesson).tests)
    e = answers  # exercises in notebook order
    subs: list[Submission] = []

    crashes = {e[0]: KILLS_ITSELF, e[1]: SEGFAULT, e[2]: MEMORY_BOMB, e[3]: SYS_EXIT}
    subs.append(Submission("crashes", _attack(student_nb, source_nb, lesson, crashes), lost=_lost(lesson, list(crashes)),
                           kinds=["kernel kills itself (os._exit)", "native crash (segfault)", "memory bomb", "sys.exit"]))

    loops = {e[0]: INFINITE_LOOP, e[1]: SWALLOWS_INTERRUPT}
    nb = _attack(student_nb, source_nb, lesson, loops)
    flood_at = next(i for i, c in enumerate(nb.cells) if course.nbgrader_meta(c).get("grade_id") == e[2])
    nb.cells.insert(flood_at, nbformat.v4.new_code_cell(FLOOD))
    subs.append(Submission("loops-and-flood", nb, lost=_lost(lesson, list(loops)),
                           kinds=["infinite loop", "loop that swallows the interrupt", "flood of output"]))

    wrong = course.wrong_answers(lesson)
    tampered = {e[0]: PATCH_NUMPY_AND_HELPERS, e[1]: EQUALS_EVERYTHING, e[2]: PATCH_BUILTINS, e[3]: PATCH_TORCH_AND_MATH}
    solved = course.fill_answers(student_nb, source_nb,
                                 replace={a: code + wrong[a]["source"] for a, code in tampered.items()})
    rebind_at = next(i for i, c in enumerate(solved.cells) if course.nbgrader_meta(c).get("grade_id") == tests[-1])
    solved.cells.insert(rebind_at, nbformat.v4.new_code_cell(REBIND_NAMES))
    solved.metadata["kernelspec"] = {"name": "evil", "display_name": "Not the course's kernel", "language": "python"}
    subs.append(Submission("tampering", solved, lost=_lost(lesson, list(tampered)),
                           kinds=["comparison functions patched (numpy, helpers)", "object equal to everything",
                                  "builtins patched", "torch and math patched", "names the tests use rebound",
                                  "notebook names another kernel"]))

    edited = course.fill_answers(student_nb, source_nb, replace={e[0]: wrong[e[0]]["source"], e[1]: wrong[e[1]]["source"]})
    first_test = next(c for c in edited.cells if course.nbgrader_meta(c).get("grade_id") in wrong[e[0]]["fails"])
    first_test.source = "print('all tests passed')"
    second_test = next(c for c in edited.cells if course.nbgrader_meta(c).get("grade_id") in wrong[e[1]]["fails"]
                       and c is not first_test)
    edited.cells.remove(second_test)
    snoop_at = next(i for i, c in enumerate(edited.cells) if course.nbgrader_meta(c).get("grade_id") == e[2])
    edited.cells.insert(snoop_at, nbformat.v4.new_code_cell(SNOOP))
    # the answers here are wrong but defined: exactly the wrong answers' own failures
    subs.append(Submission("tests-edited-and-snooping", edited, lost=set(wrong[e[0]]["fails"]) | set(wrong[e[1]]["fails"]),
                           kinds=["test cell edited", "test cell deleted", "reads solutions and hidden tests",
                                  "writes the gradebook and another student's files", "reaches the network"]))

    solution = course.fill_answers(student_nb, source_nb)
    subs.append(Submission("corrupt", None, raw='{"cells": [ this is not json', graded=False, kinds=["corrupt notebook"]))
    subs.append(Submission("missing", None, graded=False, kinds=["missing notebook"]))
    subs.append(Submission("extra-notebook", solution, extra={"scratch.ipynb": json.dumps(nbformat.v4.new_notebook())},
                           kinds=["extra notebook"]))
    subs.append(Submission("wrong-name", None, filename="my_homework.ipynb", extra={"my_homework.ipynb": nbformat.writes(solution)},
                           graded=False, kinds=["notebook under the wrong name"]))
    return subs


def place(collection: Path, lesson: str, sub: Submission) -> None:
    """Write a submission into a collection folder laid out as ``<collection>/<student>/<lesson>/``."""
    folder = collection / sub.student / lesson
    folder.mkdir(parents=True, exist_ok=True)
    if sub.notebook is not None:
        nbformat.write(sub.notebook, str(folder / f"{lesson}.ipynb"))
    if sub.raw is not None:
        (folder / f"{lesson}.ipynb").write_text(sub.raw)
    for name, text in sub.extra.items():
        (folder / name).write_text(text)
