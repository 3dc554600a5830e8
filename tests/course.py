"""What the tests know about the course: its lessons, their cells, and how to grade a submission.

Lessons are discovered from ``solutions/``: a new lesson is tested as soon as its folder exists.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import nbformat

from grading import run_nbgrader

REPO = Path(__file__).resolve().parents[1]
SOLUTIONS = REPO / "solutions"
NOTEBOOKS = REPO / "notebooks"
WRONG_ANSWERS = Path(__file__).resolve().parent / "wrong_answers"
RIGHT_ANSWERS = Path(__file__).resolve().parent / "right_answers"

_SOLUTION_MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")


def lessons() -> list[str]:
    """The lesson ids, e.g. ``01_gradient_descent``, in course order."""
    return sorted(p.name for p in SOLUTIONS.iterdir() if p.is_dir() and (p / f"{p.name}.ipynb").exists())


def source_notebook(lesson: str) -> Path:
    return SOLUTIONS / lesson / f"{lesson}.ipynb"


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(str(path), as_version=4)


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


@dataclass(frozen=True)
class Cells:
    """The graded cells of a lesson's source notebook, by grade_id."""

    answers: list[str]  # auto-graded answer cells (code, solution, not grade)
    tests: dict[str, float]  # auto-graded test cells → points
    written: dict[str, float]  # manually graded answer cells → points


def graded_cells(lesson: str) -> Cells:
    answers, tests, written = [], {}, {}
    for cell in read(source_notebook(lesson)).cells:
        meta = nbgrader_meta(cell)
        if not meta:
            continue
        if meta.get("solution") and not meta.get("grade") and cell.cell_type == "code":
            answers.append(meta["grade_id"])
        elif meta.get("grade") and not meta.get("solution"):
            tests[meta["grade_id"]] = float(meta["points"])
        elif meta.get("grade") and meta.get("solution"):
            written[meta["grade_id"]] = float(meta["points"])
    return Cells(answers, tests, written)


def hidden_test_lines(lesson: str) -> list[str]:
    """Every line of the lesson's hidden tests that a student never sees (not in any cell of the student
    notebook, nor in an answer they would write), stripped; the markers themselves excluded."""
    source = read(source_notebook(lesson))
    answers = [c.source for c in source.cells if nbgrader_meta(c).get("solution")]
    visible = "\n".join([*(c.source for c in read(NOTEBOOKS / lesson / f"{lesson}.ipynb").cells), *answers])
    lines, inside = [], False
    for cell in source.cells:
        for line in cell.source.splitlines():
            if "BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "END HIDDEN TESTS" in line:
                inside = False
            elif inside and len(line.strip()) >= 12 and line.strip() not in visible:
                lines.append(line.strip())
    return lines


def wrong_answers(lesson: str) -> dict[str, dict]:
    """The plausible wrong answers kept for the lesson's exercises: ``{key: {"source", "fails", "exercise"}}``.

    A key is an answer cell's grade_id (the exercise's main wrong answer) or ``<grade_id>--<variant>`` for
    more wrong answers to the same exercise (e.g. ``two_layer_backward--autograd``); ``exercise`` is the
    grade_id either way.
    """
    return _kept_answers(WRONG_ANSWERS / f"{lesson}.toml")


def _kept_answers(path: Path) -> dict[str, dict]:
    """The entries of a kept answers' file (``{}`` when there is none), each with its exercise's grade_id."""
    if not path.exists():
        return {}
    with path.open("rb") as f:
        entries = tomllib.load(f)
    return {key: {**entry, "exercise": key.split("--")[0]} for key, entry in entries.items()}


def right_answers(lesson: str) -> dict[str, dict]:
    """Answers kept for the lesson's exercises that are right although a test once failed them (a choice the text
    allows): ``{key: {"source", "why", "exercise"}}``, keyed ``<grade_id>--<variant>`` as the wrong answers are."""
    return _kept_answers(RIGHT_ANSWERS / f"{lesson}.toml")


def main_wrong_answers(lesson: str) -> dict[str, str]:
    """``{exercise grade_id: source}``: the main wrong answer of every exercise (the variants left out)."""
    return {key: entry["source"] for key, entry in wrong_answers(lesson).items() if "--" not in key}


def solution_source(source: str) -> str:
    """An answer cell's source as a student who solved it would leave it: the solution, without markers."""
    return "\n".join(line for line in source.splitlines() if not _SOLUTION_MARKER.match(line))


def fill_answers(student_nb, source_nb, replace: dict[str, str] | None = None):
    """Return a copy of the student notebook with every answer filled in from the source notebook.

    ``replace`` maps answer grade_ids to the source to put there instead (a wrong answer).
    """
    replace = replace or {}
    by_id = {nbgrader_meta(c).get("grade_id"): c for c in source_nb.cells if nbgrader_meta(c).get("solution")}
    filled = nbformat.from_dict(json.loads(json.dumps(student_nb)))
    for cell in filled.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id in replace:
            cell.source = replace[grade_id].strip("\n")
        elif grade_id in by_id:
            cell.source = solution_source(by_id[grade_id].source)
    return filled


def nbgrader(root: Path, *args: str, check: bool = True, timeout: float = 1800) -> subprocess.CompletedProcess:
    """Run an nbgrader command in the course folder ``root`` (where its nbgrader_config.py is)."""
    # nbgrader runs `alembic` to create a new gradebook: the environment's scripts must be on PATH.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {**os.environ, "PYTHONHASHSEED": "0", "PATH": path}
    env.pop("MPLBACKEND", None)
    result = subprocess.run(
        run_nbgrader.command(*args),
        cwd=root, env=env, capture_output=True, text=True, timeout=timeout,
    )
    if check and result.returncode != 0:
        command = " ".join(args)
        output = f"{result.stdout[-4000:]}\n{result.stderr[-8000:]}"
        raise AssertionError(f"nbgrader {command} failed ({result.returncode}):\n{output}")
    return result


def make_course(root: Path, lesson_ids: list[str] | None = None) -> Path:
    """Copy the course (config, helpers are installed, solutions of the given lessons) into ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    for lesson in lesson_ids or lessons():
        shutil.copytree(SOLUTIONS / lesson, root / "solutions" / lesson, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return root


def submit(root: Path, lesson: str, student: str, nb) -> Path:
    """Place a notebook as ``student``'s submission of ``lesson``, as nbgrader collect would."""
    folder = root / ".grading" / "submitted" / student / lesson
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{lesson}.ipynb"
    nbformat.write(nb, str(path))
    return path


def scores(root: Path, lesson: str, url: str | None = None) -> dict[str, dict[str, tuple[float, float]]]:
    """Read the gradebook (the course's SQLite file, or ``url``): ``{student: {grade_id: (score, max_score)}}``."""
    from nbgrader.api import Gradebook

    result: dict[str, dict[str, tuple[float, float]]] = {}
    with Gradebook(url or f"sqlite:///{root / '.grading' / 'gradebook.db'}") as gb:
        for submission in gb.assignment_submissions(lesson):
            cells = {}
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    cells[grade.name] = (float(grade.score), float(grade.max_score))
            result[submission.student.id] = cells
    return result


_cohorts: dict[str, dict] = {}


def wrong_submissions(lesson: str) -> dict[str, list[str]]:
    """The whole submissions with main wrong answers that the round trip grades: ``{student: [exercise, ...]}``.

    Each ``wrong-<k>`` gets several exercises wrong at once, chosen so that every exercise is wrong in one of
    them, and for every exercise ``a`` and every exercise ``b`` after it, some submission has ``a`` wrong and
    ``b`` right: ``b`` keeping its marks there shows that its tests do not depend on ``a``.
    Exercise ``i`` (counted from 0) is wrong in ``wrong-<k>`` when bit ``k`` of ``i`` is 0: for ``i < j``, the
    highest bit where they differ is 0 in ``i`` and 1 in ``j``; and with as many bits as ``n`` has, every ``i < n``
    has a 0 among them. That is ``ceil(log2(n + 1))`` gradings for ``n`` exercises, where one submission per
    exercise took ``n``.
    """
    main = main_wrong_answers(lesson)
    exercises = [e for e in graded_cells(lesson).answers if e in main]  # in notebook order
    groups = {}
    for bit in range(max(1, len(exercises).bit_length())):
        groups[f"wrong-{bit + 1}"] = [e for i, e in enumerate(exercises) if not (i >> bit) & 1]
    return groups


def graded_cohort(lesson: str, tmp_path_factory) -> dict:
    """Generate, autograde and make the feedback pages of the lesson's cohort once per test process.

    In a throw-away copy of the course: ``nbgrader generate_assignment``; the cohort, made from the released
    student notebook: ``solution`` (every answer from the source notebook), ``blank`` (the student notebook
    untouched) and the submissions of :func:`wrong_submissions` (main wrong answers from ``tests/wrong_answers``,
    several at once);
    ``nbgrader autograde`` and ``generate_feedback``. Every wrong answer, the further ones
    (``<exercise>--<variant>``) included, is also judged in one run of the solution by the same grader
    (``tests/variants.py``). Returns the course's ``root``, the ``released`` notebook, the autograde ``run``,
    the gradebook's ``scores`` and the one-run verdicts (``one_kernel``). The round trip and the feedback pages
    of a lesson share it (one test class).
    """
    if lesson in _cohorts:
        return _cohorts[lesson]
    root = make_course(tmp_path_factory.mktemp(f"course-{lesson}"), [lesson])
    nbgrader(root, "generate_assignment", lesson, "--force")
    released = root / "notebooks" / lesson / f"{lesson}.ipynb"
    student_nb, source_nb = read(released), read(source_notebook(lesson))
    main = main_wrong_answers(lesson)
    cohort = {"solution": fill_answers(student_nb, source_nb), "blank": student_nb}
    for student, exercises in wrong_submissions(lesson).items():
        cohort[student] = fill_answers(student_nb, source_nb, replace={e: main[e] for e in exercises})
    for student, nb in cohort.items():
        submit(root, lesson, student, nb)
    run = nbgrader(root, "autograde", lesson, "--force", check=False)
    feedback = nbgrader(root, "generate_feedback", lesson, "--force", check=False)
    import variants

    _cohorts[lesson] = {"root": root, "released": released, "run": run, "feedback_run": feedback,
                        "scores": scores(root, lesson), "one_kernel": variants.judge_wrong_answers(lesson, root)}
    return _cohorts[lesson]


def class_per_lesson(namespace: dict, base: type, prefix: str, extra=None) -> None:
    """Put one subclass of ``base`` per lesson into a test module's ``namespace`` (``Test<prefix><Lesson>``),
    so that xdist's ``--dist loadscope`` grades lessons in parallel. ``extra(lesson)`` may add members."""
    for lesson in lessons():
        members = {"lesson": lesson, **(extra(lesson) if extra else {})}
        cls = type(f"Test{prefix}{lesson.title().replace('_', '')}", (base,), members)
        namespace[cls.__name__] = cls
