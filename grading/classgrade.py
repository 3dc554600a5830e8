"""Grade a whole class in parallel: ``python -m grading LESSON [--submissions DIR] [-j N]``.

Run it from the course folder (where ``nbgrader_config.py`` is). It takes submissions in the layout that
``nbgrader collect`` and ``nbgrader zip_collect`` produce (``<submissions>/<student>/<lesson>/<lesson>.ipynb``,
by default the course's own submitted folder), checks every student's files first (a missing, corrupt,
extra or wrongly named notebook is reported by name), then runs ``nbgrader autograde LESSON --student S``
for N students at a time (default: one per core) with a progress bar, and writes a report per student
and a summary table (``<grading>/reports/<lesson>/``). The gradebook is SQLite: each worker's writes are
short transactions that wait for each other, so no grade is lost when two workers finish at once.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from . import run_nbgrader
from .course import CourseFolders, course_folders, full_name, labelled, load_config
from .summary import write_summary_plot

__all__ = [
    "PROBLEMS", "UNSANDBOXED", "ClassSetup", "Recorded", "StudentReport", "adopt_newest", "adopt_renamed",
    "check_files", "errors_in_ungraded_cells", "gradable", "grade_class", "keep_finished_manual_grades", "main",
    "manual_answers", "near_name", "prepare", "problems_in_graded", "recorded", "student_names", "summary_table",
    "write_reports"
]

#: Markers that the hardened Execute step writes into graded notebooks, and what they mean.
PROBLEMS = {
    "the grader rejected data": "not plain data: a test cell sent values the grader does not accept",
    "KernelRestarted": "crash or hang: the kernel died or ignored the interrupt and was restarted",
    "CellTimeoutError": "timeout: a cell ran past the time limit and was interrupted",
    "dropped this cell's output": "output flood: output beyond the limit was dropped",
}


#: File problems that are only notes: the lesson's notebook was graded as it should be (a near name), or a file
#: beside it was left alone. A report with nothing else has the status "note", not "problems".
NOTES = ("renamed notebook ", "extra notebook ", "older version ", "an error in cell ")


@dataclass
class StudentReport:
    student: str
    files: list[str] = field(default_factory=list)  # problems with the submitted files
    problems: list[str] = field(default_factory=list)  # problems found while grading
    graded: bool = False
    score: float | None = None
    max_score: float | None = None
    seconds: float = 0.0
    unsandboxed: bool = False  # graded, but the submission ran without the sandbox
    kept: bool = False  # graded by an earlier run with the same files; not graded again
    by_hand: list[str] = field(default_factory=list)  # answers waiting to be graded by hand (their cells' grade ids)
    lost: list[str] = field(default_factory=list)  # test cells that lost points: "test_x (0 of 2)"
    name: str = ""  # first and last name, as the gradebook has them (from the roster)
    absent: bool = False  # nothing submitted for this lesson (the student's folder holds other lessons only)

    @property
    def status(self) -> str:
        if self.absent:
            return "no submission"
        if not self.graded:
            return "NOT GRADED"
        if self.unsandboxed:
            return "UNSANDBOXED"
        if self.problems or any(not p.startswith(NOTES) for p in self.files):
            return "problems"
        return "note" if self.files else "ok"


def check_files(folder: Path, lesson: str, expected: list[str]) -> list[str]:
    """Problems with one student's submitted files: missing, corrupt, extra or wrongly named notebooks."""
    problems = []
    present = sorted(p.name for p in folder.glob("*.ipynb")) if folder.is_dir() else []
    for name in expected:
        path = folder / name
        if not path.exists():
            problems.append(f"missing notebook {name}" + (f" (found {', '.join(present)})" if present else ""))
            continue
        try:
            text = path.read_text(encoding="utf-8")
            if not text.strip():
                problems.append(f"empty notebook {name}: the file holds nothing (0 bytes or only spaces): ask for it again")
                continue
            notebook = json.loads(text)
            if not isinstance(notebook, dict) or "cells" not in notebook:
                raise ValueError("no cells")
        except (ValueError, UnicodeDecodeError) as error:
            problems.append(f"corrupt notebook {name}: not a valid notebook ({str(error)[:80]})")
        except OSError as error:
            problems.append(f"unreadable notebook {name}: {error.strerror or error} (expected a notebook file)")
    for name in present:
        if name not in expected:
            copy_of = [e for e in expected if near_name(name, e) and _same_bytes(folder / name, folder / e)]
            version_of = [e for e in expected if near_name(name, e) and e in present]
            if copy_of:
                problems.append(f"renamed notebook {name} graded as {copy_of[0]}")
            elif version_of and _dated(folder / name) < _dated(folder / version_of[0]) - SAME_TIME:
                problems.append(f"older version {name} ({_day(folder / name)}) not graded: {version_of[0]} "
                                f"({_day(folder / version_of[0])}), the newer, was graded")
            elif version_of:  # two versions the download's dates do not tell apart: which one is the submission?
                graded = folder / version_of[0]
                problems.append(f"another version of {version_of[0]}: {name}, {_which_is_newer(folder / name, graded)}; "
                                f"{version_of[0]} was graded: if {name} is the submission, delete {graded} and run the "
                                f"class command again (it grades only this student)")
            else:
                problems.append(f"extra notebook {name} (not graded)")
    for name in expected:
        if (folder / f"{name}.older").is_file():
            problems.append(f"older version of {name} ({_day(folder / f'{name}.older')}), handed in under its name, "
                            f"kept as {name}.older and not graded: the newer one ({_day(folder / name)}) was graded")
    return problems


#: Files the download dates less than a minute apart were handed in together: their dates do not say which is newer.
SAME_TIME = 60


def _dated(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _day(path: Path) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(_dated(path)))


def _which_is_newer(other: Path, graded: Path) -> str:
    """Which of two files the download dates later (collect keeps the dates the LMS's zip holds)."""
    if abs(_dated(other) - _dated(graded)) < SAME_TIME:
        return f"handed in at the same time as {graded.name} ({_day(graded)}): the dates do not tell which is newer"
    return f"{'newer' if _dated(other) > _dated(graded) else 'older'} ({_day(other)}) than {graded.name} ({_day(graded)})"


def near_name(name: str, expected: str) -> bool:
    """Whether ``name`` is the notebook ``expected`` saved under another name (``X-Copy1``, ``X (1)``,
    ``Copy of X``, ``X-2`` as an LMS numbers a resubmission): its letters and digits hold the expected ones."""
    def key(n: str) -> str:
        return re.sub(r"[^a-z0-9]", "", Path(n).stem.lower())

    return name != expected and name.endswith(".ipynb") and key(expected) in key(name)


def _same_bytes(a: Path, b: Path) -> bool:
    try:
        return a.read_bytes() == b.read_bytes()
    except OSError:
        return False


def adopt_renamed(folder: Path, expected: list[str]) -> list[str]:
    """Grade a notebook saved under a near name as the student's: where an expected notebook is missing and
    exactly one notebook of the folder has a near name of it, copy that one to the expected name (the
    original stays, and :func:`check_files` reports it as renamed). Return the names adopted."""
    present = sorted(p.name for p in folder.glob("*.ipynb")) if folder.is_dir() else []
    adopted = []
    for name in expected:
        candidates = [p for p in present if p not in expected and near_name(p, name)]
        if name not in present and len(candidates) == 1:
            shutil.copy2(folder / candidates[0], folder / name)
            adopted.append(candidates[0])
    return adopted


def adopt_newest(folder: Path, expected: list[str]) -> list[str]:
    """Of two versions an LMS's download holds (a draft handed in first, the finished work later: Moodle keeps
    every file), grade the newer by the download's dates: where a notebook under a near name of an expected one, with
    other content, is newer than it by a minute or more, the newest takes the expected name and the one that had it is
    kept as ``<name>.older``, not graded. ``collect`` calls it, after giving each file the date its zip holds (the same
    download collected again gives the same choice); a folder collected otherwise (a JupyterHub's, where a copy may be
    an experiment) is left for :func:`check_files` to report. Return the names adopted."""
    present = sorted(p.name for p in folder.glob("*.ipynb")) if folder.is_dir() else []
    adopted = []
    for name in expected:
        if name not in present:
            continue
        newer = [p for p in present if p not in expected and near_name(p, name)
                 and _dated(folder / p) >= _dated(folder / name) + SAME_TIME and not _same_bytes(folder / p, folder / name)]
        if newer:
            newest = max(newer, key=lambda p: _dated(folder / p))
            shutil.copy2(folder / name, folder / f"{name}.older")
            shutil.copy2(folder / newest, folder / name)
            adopted.append(newest)
    return adopted


def gradable(folder: Path, expected: list[str]) -> bool:
    """Whether the folder holds at least one of the lesson's notebooks that nbgrader can read: grading a
    folder without one would record a 0 that cannot be told from an empty submission."""
    for name in expected:
        try:
            notebook = json.loads((folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            continue
        if isinstance(notebook, dict) and "cells" in notebook:
            return True
    return False


def problems_in_graded(folder: Path) -> list[str]:
    """Problems recorded in the outputs of a student's autograded notebooks."""
    found = []
    for path in sorted(folder.glob("*.ipynb")):
        try:
            notebook = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        answers = [c for c in notebook.get("cells", []) if c.get("cell_type") == "code"
                   and c.get("metadata", {}).get("nbgrader", {}).get("solution")]
        if answers and all("raise NotImplementedError()" in "".join(c.get("source", "")) for c in answers):
            found.append(f"{path.name}: no answer written (every exercise as released)")
        for index, cell in enumerate(notebook.get("cells", [])):
            for output in cell.get("outputs", []):
                text = output.get("ename", "") + " " + output.get("evalue", "") + " " + "".join(output.get("text", ""))
                for marker, meaning in PROBLEMS.items():
                    if marker in text:
                        detail = output.get("evalue", "").strip()[:200]
                        found.append(f"{path.name} cell {index}: {meaning}" + (f" ({detail})" if detail else ""))
    return found


def errors_in_ungraded_cells(folder: Path, most: int = 3) -> list[str]:
    """Errors a student's graded notebooks show in cells that are neither answers nor tests (a cell of their own left
    raising, a demonstration that met a wrong answer above): they cost no points, and the feedback page shows them."""
    found = []
    for path in sorted(folder.glob("*.ipynb")):
        try:
            cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        except (OSError, ValueError, AttributeError):
            continue
        for index, cell in enumerate(cells, start=1):
            flags = cell.get("metadata", {}).get("nbgrader", {})
            if cell.get("cell_type") != "code" or flags.get("grade") or flags.get("solution"):
                continue
            source = "".join(cell.get("source", "")).strip().splitlines()
            starting = f", the one starting {source[0][:50]!r}" if source else ""
            for output in cell.get("outputs", []):
                text = f"{output.get('ename', '')}: {output.get('evalue', '')}".strip()[:160]
                if (output.get("output_type") == "error" and output.get("ename") != "NotImplementedError"  # a stub: its test says so
                        and not any(marker in text for marker in PROBLEMS)):
                    found.append(f"an error in cell {index} of {path.name} (counting from 1{starting}), which is not graded "
                                 f"(no points lost; the feedback page shows it): {text}")
    more = len(found) - most
    return found[:most] + [f"an error in cells not graded, {more} more (the feedback page shows them)"] * (more > 0)


@dataclass
class Recorded:
    """What the gradebook holds for one student's submission of a lesson."""

    score: float  # code score
    max_score: float  # max code score
    waiting: list[str]  # grade ids of the answers flagged for grading by hand (written answers not graded yet)
    finished: dict[tuple[str, str], float]  # {(notebook, grade_id): manual score} a grader finished (no flag)
    lost: list[str] = field(default_factory=list)  # auto-graded test cells below full marks: "test_x (0 of 2)"


def recorded(db_url: str, lesson: str) -> dict[str, Recorded]:
    """``{student: Recorded}`` for every submission of the lesson in the gradebook at ``db_url``, read in one pass."""
    from nbgrader.api import Gradebook, MissingEntry

    result = {}
    with Gradebook(db_url) as gb:
        try:
            submissions = gb.assignment_submissions(lesson)
        except MissingEntry:
            return result
        for submission in submissions:
            grades = [(notebook.name, grade) for notebook in submission.notebooks for grade in notebook.grades]
            result[submission.student.id] = Recorded(
                float(submission.code_score), float(submission.max_code_score),
                waiting=[grade.name for _, grade in grades if grade.needs_manual_grade],
                finished={(notebook, grade.name): grade.manual_score for notebook, grade in grades
                          if grade.manual_score is not None and not grade.needs_manual_grade},
                lost=[f"{grade.name} ({grade.score:g} of {grade.max_score:g})" for _, grade in grades
                      if grade.cell.cell_type == "code" and grade.score < grade.max_score])
    return result


@dataclass
class ClassSetup:
    """What grading a lesson's class needs, found and checked before any student is graded."""

    config: object  # the course's nbgrader configuration (traitlets Config)
    coursedir: object  # nbgrader's CourseDirectory
    expected: list[str]  # the lesson's notebook names
    submissions: Path  # where the collected submissions are read
    submitted: Path  # the course's submitted folder (external collections are copied there)
    students: list[str]
    reference: Path | None  # the lesson's reference records (None without the trusted comparison)
    reports: Path  # where the reports go


def prepare(lesson: str, submissions: Path | None = None, course: Path | None = None) -> ClassSetup:
    """Read the course's configuration, check the lesson is released, build its reference records once, find
    the students, and bring an external collection into the course's submitted folder."""
    from nbgrader.coursedir import CourseDirectory

    course, config = load_config(course)
    # nbgrader's gradebook runs `alembic` from the environment's scripts, activated or not
    scripts = str(Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = f"{scripts}{os.pathsep}{os.environ.get('PATH', '')}"
    coursedir = CourseDirectory(config=config)
    submitted = Path(coursedir.root) / coursedir.submitted_directory
    submissions = (submissions or submitted).resolve()
    if not submissions.is_dir():
        raise FileNotFoundError(f"no submissions folder {submissions}")
    release = Path(coursedir.root) / coursedir.release_directory / lesson
    expected = sorted(p.name for p in release.glob("*.ipynb"))
    if not expected:
        from .collect import no_release

        raise FileNotFoundError(no_release(coursedir, lesson))

    # The reference records are built once here, not by the first workers at the same time
    reference = None
    execute = config.get("SandboxedExecute", {})
    if execute.get("source_directory"):
        from .reference import load_reference

        folder = Path(execute.get("reference_directory") or Path(coursedir.root) / ".grading" / "reference")
        load_reference(Path(execute.source_directory) / lesson / f"{expected[0]}", folder,
                       announce=lambda message: print(message, file=sys.stderr))
        reference = folder / f"{lesson}.json"

    students = sorted(p.name for p in submissions.iterdir() if p.is_dir())
    if submissions != submitted:  # bring an external collection into the course's submitted folder
        import shutil

        for student in students:
            source = submissions / student / lesson
            if source.is_dir():
                shutil.copytree(source, submitted / student / lesson, dirs_exist_ok=True)
    for student in students:  # a notebook under a near name (X-Copy1.ipynb) is graded as the student's
        adopt_renamed(submitted / student / lesson, expected)
    reports = CourseFolders.of(coursedir).reports / lesson
    return ClassSetup(config, coursedir, expected, submissions, submitted, students, reference, reports)


def manual_answers(folder: Path) -> dict[tuple[str, str], str]:
    """``{(notebook, grade_id): source}`` of the cells graded by hand (written answers, tasks) in a student's
    autograded notebooks."""
    answers = {}
    for path in sorted(folder.glob("*.ipynb")):
        try:
            cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        except (OSError, ValueError, AttributeError):
            continue
        for cell in cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("task") or (meta.get("grade") and meta.get("solution")):
                source = cell.get("source", "")
                answers[(path.stem, meta.get("grade_id"))] = "".join(source) if isinstance(source, list) else source
    return answers


def keep_finished_manual_grades(db_url: str, lesson: str, finished: dict[str, dict[tuple[str, str], float]],
                                before: dict[str, dict[tuple[str, str], str]], after: dict[str, dict[tuple[str, str], str]]) -> int:
    """``nbgrader autograde`` flags every manually graded cell again; clear the flag where the grader had
    finished (``finished[student]``) and the student's answer is the one that was graded (``before[student]``,
    the same as ``after[student]``). Return how many grades were kept."""
    from nbgrader.api import Gradebook, MissingEntry

    kept = 0
    with Gradebook(db_url) as gb:
        for student, grades in finished.items():
            for (notebook, grade_id), manual_score in grades.items():
                answer = before[student].get((notebook, grade_id))
                if answer is None or answer != after[student].get((notebook, grade_id)):
                    continue
                try:
                    grade = gb.find_grade(grade_id, notebook, lesson, student)
                except MissingEntry:
                    continue
                if grade.manual_score == manual_score and grade.needs_manual_grade:
                    grade.needs_manual_grade = False
                    kept += 1
        gb.db.commit()
    return kept


#: What the course's Execute step writes to its log when it grades without a sandbox.
UNSANDBOXED = "GRADING WITHOUT A SANDBOX"


def _sandbox_mode(config, extra_args: list[str]) -> str | None:
    """The sandbox setting autograde will use (``auto``, ``require``, ``off``), None without the course's Execute."""
    mode = config.SandboxedExecute.get("sandbox", "auto") if "SandboxedExecute" in config else None
    for arg in extra_args:
        if arg.startswith("--SandboxedExecute.sandbox="):
            mode = arg.split("=", 1)[1].strip("'\"")
    return mode


@dataclass
class Outcome:
    """How one student's grading ended: ``nbgrader autograde``'s exit code and log, and a problem if known."""

    returncode: int
    log: str
    seconds: float
    problem: str = ""


def _grade_locally(course: Path, lesson: str, students: list[str], extra_args: list[str], jobs: int, progress: bool):
    """``nbgrader autograde`` for each student, ``jobs`` at a time, in this course folder; yields ``(student, Outcome)``."""
    import time

    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}

    def grade(student: str) -> tuple[str, Outcome]:
        start = time.perf_counter()
        command = run_nbgrader.command("autograde", lesson, "--student", student, "--force", *extra_args)
        result = subprocess.run(command, cwd=course, env=env, capture_output=True, text=True)
        return student, Outcome(result.returncode, result.stderr, time.perf_counter() - start)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(grade, s) for s in students]
        bar = tqdm(as_completed(futures), total=len(futures), desc=f"grading {lesson}", unit="student", disable=not progress or not futures)
        for future in bar:
            yield future.result()


def grade_class(lesson: str, submissions: Path | None = None, jobs: int | None = None, course: Path | None = None,
                extra_args: list[str] | None = None, progress: bool = True, dask: bool = True,
                scheduler: str | None = None, regrade: bool = False) -> list[StudentReport]:
    """Autograde every student of ``lesson``; return one report per student (sorted by id).

    With ``dask`` (the default) students are graded on Dask: a ``LocalCluster`` of ``jobs`` processes, or the
    cluster whose scheduler is at ``scheduler``; students graded before with the same files are kept unless
    ``regrade`` (see :mod:`grading.cluster`). Without, ``jobs`` local ``nbgrader autograde`` processes.

    Students without a readable notebook of the lesson are not graded (nothing is recorded for them); grades a
    grader finished stay finished where the student's answer is unchanged; a run without a sandbox is said
    (``StudentReport.unsandboxed``); a run that requires one and has none grades nobody."""
    from . import sandbox as sb

    extra_args = list(extra_args or [])
    setup = prepare(lesson, submissions, course)
    coursedir, submissions, students = setup.coursedir, setup.submissions, setup.students
    mode = _sandbox_mode(setup.config, extra_args)
    if mode is not None:
        status = sb.sandbox_status() if mode != "off" else sb.SandboxStatus(False, "switched off by configuration")
        if not status.available and mode == "require":
            raise RuntimeError(f"grading sandbox required but unavailable: {status.reason}. Nobody was graded.")
        if not status.available:
            print(f"\n{'!' * 78}\n!! {UNSANDBOXED}: {status.reason}\n!! Submissions run as you, with access to your "
                  f"files and the network.\n{'!' * 78}", file=sys.stderr)
    course = Path(coursedir.root)
    lesson_folder = {s: setup.submitted / s / lesson for s in students}
    reports = {s: StudentReport(s, files=check_files(lesson_folder[s], lesson, setup.expected)) for s in students}

    autograded = Path(coursedir.root) / coursedir.autograded_directory

    to_grade = []
    for s in students:
        if not (submissions / s / lesson).is_dir() and not any((submissions / s).glob("*.ipynb")):
            reports[s].absent = True  # a student of other lessons who handed in nothing for this one
            reports[s].files = [f"nothing submitted for {lesson} (no {lesson} folder in {submissions / s})"]
        elif not (submissions / s / lesson).is_dir():
            reports[s].files.append(f"no {lesson} folder in {submissions / s}")
        elif not gradable(lesson_folder[s], setup.expected):
            reports[s].problems.append("nothing to grade: no readable notebook under the lesson's name; nothing recorded")
        else:
            to_grade.append(s)
    if progress and len(to_grade) < len(students):
        print(f"{len(students)} students: {len(to_grade)} with a notebook to grade, {len(students) - len(to_grade)} without "
              f"(named in the table at the end)", file=sys.stderr)
    recorded_before = recorded(coursedir.db_url, lesson)
    finished = {s: recorded_before[s].finished for s in to_grade if s in recorded_before and recorded_before[s].finished}
    answers = {s: manual_answers(autograded / s / lesson) for s in to_grade}
    jobs = max(1, jobs or os.cpu_count() or 1)
    if dask:
        from .cluster import DaskGrader

        grader = DaskGrader(setup, lesson, extra_args, scheduler=scheduler, workers=jobs, regrade=regrade)
        kept = grader.unchanged(to_grade)
        for student in kept:  # graded before with these very files: its grades and report stand
            reports[student].graded = reports[student].kept = True
            reports[student].problems += problems_in_graded(autograded / student / lesson)
            reports[student].files += errors_in_ungraded_cells(autograded / student / lesson)
        if kept and progress:
            print(f"{len(kept)} of {len(students)} students were graded before with the same files: kept "
                  f"(--regrade grades them again)", file=sys.stderr)
        to_grade = [s for s in to_grade if s not in kept]
        outcomes = grader.grade(to_grade, progress=progress)
    else:
        outcomes = _grade_locally(course, lesson, to_grade, extra_args, jobs, progress)
    for student, outcome in outcomes:
        report = reports[student]
        report.seconds = outcome.seconds
        folder = autograded / student / lesson
        report.graded = outcome.returncode == 0 and not outcome.problem and folder.is_dir()
        report.unsandboxed = UNSANDBOXED in outcome.log
        setup.reports.mkdir(parents=True, exist_ok=True)
        (setup.reports / f"{student}.log").write_text(outcome.log)  # nbgrader's log of this student's grading
        if not report.graded:
            errors = [line for line in outcome.log.splitlines() if "ERROR" in line or "Error" in line]
            report.problems.append(outcome.problem or "grading failed: " + (" | ".join(errors[-3:]) or f"exit code {outcome.returncode}"))
        report.problems += problems_in_graded(folder)
        report.files += errors_in_ungraded_cells(folder)

    regraded = [s for s in finished if reports[s].graded and not reports[s].kept]  # graded again in this run
    if regraded:
        keep_finished_manual_grades(coursedir.db_url, lesson, {s: finished[s] for s in regraded}, answers,
                                    {s: manual_answers(autograded / s / lesson) for s in regraded})
    for student, record in recorded(coursedir.db_url, lesson).items():
        if student in reports and reports[student].graded:  # never an earlier run's score beside NOT GRADED
            reports[student].score, reports[student].max_score = record.score, record.max_score
            reports[student].by_hand = record.waiting
            reports[student].lost = record.lost
    names = student_names(coursedir.db_url)
    for report in reports.values():
        report.name = names.get(report.student, "")
    write_reports(setup.reports, list(reports.values()))
    write_summary_plot(coursedir.db_url, lesson, setup.reports)
    return [reports[s] for s in sorted(reports)]


def write_reports(folder: Path, reports: list[StudentReport]) -> Path:
    """One text file per student, and ``summary.csv``; return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for report in reports:
        score = "not graded" if report.score is None else f"{report.score:g} / {report.max_score:g}"
        lines = [f"student: {labelled(report.student, report.name)}", f"status: {report.status}", f"code score: {score}"]
        if report.lost:
            lines.append(f"points lost in: {', '.join(report.lost)} (the feedback page says what each test expected)")
        if report.by_hand:
            lines.append(f"answers to grade by hand: {len(report.by_hand)}, {', '.join(report.by_hand)} (Formgrader, Manual Grading)")
        if report.kept:
            lines.append("graded by an earlier run with the same files: kept")
        lines += [f"{'note' if p.startswith(NOTES) else 'no submission' if report.absent else 'file problem'}: {p}"
                  for p in report.files]  # a note: graded anyway; no submission: nothing to grade
        lines += [f"grading problem: {p}" for p in report.problems]
        (folder / f"{report.student}.txt").write_text("\n".join(lines) + "\n")
    with (folder / "summary.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "status", "code_score", "max_code_score", "seconds", "problems"])
        for r in reports:
            seconds = "" if r.kept else round(r.seconds, 1)  # a kept grading was timed by the run that made it
            writer.writerow([r.student, r.status, r.score, r.max_score, seconds, " | ".join(r.files + r.problems)])
    return folder


def student_names(db_url: str) -> dict[str, str]:
    """``{student id: "First Last"}`` for the gradebook's students with a name ({} when it cannot be read)."""
    from nbgrader.api import Gradebook

    try:
        with Gradebook(db_url) as gb:
            names = {s.id: full_name(s.first_name, s.last_name) for s in gb.students}
    except Exception:  # the table is still worth printing without the names
        return {}
    return {student: name for student, name in names.items() if name}


def summary_table(reports: list[StudentReport]) -> str:
    """The class command's table: a row per student (id, name when the gradebook has one, status, score, problems)."""
    longest = max((len(r.name) for r in reports), default=0)
    width = min(max(longest, len("name")), 28) if longest else 0

    def named(text: str) -> str:  # the name column, when some student has a name
        return f" {(text if len(text) <= width else text[:width - 1] + '…'):{width}}" if width else ""
    rows = [f"{'student':24}{named('name')} {'status':11} {'score':>12}  problems"]
    for r in reports:
        score = "-" if r.score is None else f"{r.score:g}/{r.max_score:g}"
        # what the status says first (file problems, then grading problems), the notes after them
        problems = "; ".join([f for f in r.files if not f.startswith(NOTES)] + r.problems + [f for f in r.files if f.startswith(NOTES)])
        shown = problems if len(problems) <= 160 else problems[:159].rstrip() + "…"
        rows.append(f"{r.student:24}{named(r.name)} {r.status:11} {score:>12}  {shown}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m grading", description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="the other commands (each with its own --help):\n"
               "  python -m grading collect LESSON DOWNLOAD.zip ...    collect the LMS's download of a lesson\n"
               "  python -m grading roster EXPORT.csv                  make .grading/roster.csv from the LMS's gradebook\n"
               "  python -m grading lms-grades LESSON EXPORT.csv       put the lesson's grades into the LMS's gradebook\n"
               "  python -m grading lms-feedback LESSON WORKSHEET.csv  pack the lesson's feedback pages for Moodle")
    parser.add_argument("lesson", help="the lesson (nbgrader assignment) to grade, e.g. 01_gradient_descent")
    parser.add_argument("--submissions", type=Path, help="folder of collected submissions (<student>/<lesson>/...)")
    parser.add_argument("-j", "--jobs", type=int, default=None, help="students graded at once (default: number of cores)")
    parser.add_argument("--course", type=Path, default=None, help="course folder (default: the current folder)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="grade on the Dask cluster whose scheduler is at ADDRESS (tcp://host:8786); "
                             "default: a Dask LocalCluster of -j processes on this machine")
    parser.add_argument("--regrade", action="store_true",
                        help="grade again the students already graded with the same files")
    parser.add_argument("--without-dask", action="store_true",
                        help="grade with -j plain nbgrader processes here instead of Dask")
    args, extra = parser.parse_known_args(argv)
    try:
        reports = grade_class(args.lesson, args.submissions, args.jobs, args.course, extra_args=extra,
                              dask=not args.without_dask, scheduler=args.scheduler, regrade=args.regrade)
    except (RuntimeError, FileNotFoundError) as error:  # the sandbox required and missing, or no such lesson or folder
        print(f"python -m grading: {error}", file=sys.stderr)
        return 1
    print(summary_table(reports))
    from .similarity import class_report  # similar answers: similarity.html and .csv beside the reports

    if reports:
        print(f"reports (per student a .txt and nbgrader's .log; summary.csv, summary.png): "
              f"{course_folders(args.course).reports / args.lesson}")

    class_report(args.lesson, args.course or Path.cwd())
    by_hand = [r for r in reports if r.by_hand]
    if by_hand:
        print(f"{len(by_hand)} of {len(reports)} students have written answers to grade by hand ({sum(len(r.by_hand) for r in by_hand)} "
              f"in all): jupyter lab, then Nbgrader → Formgrader → Manual Grading. The scores above are the code alone; "
              f"until then the export counts those answers as 0.")
    versions = [labelled(r.student, r.name) for r in reports if any(f.startswith("another version of ") for f in r.files)]
    if versions:
        print(f"{len(versions)} of {len(reports)} students handed in two versions of the lesson's notebook that the "
              f"download dates alike ({', '.join(versions)}): the one under the lesson's name was graded; their reports "
              f"say how to grade the other instead")
    absent = [labelled(r.student, r.name) for r in reports if r.absent]
    if absent:
        print(f"{len(absent)} of {len(reports)} students submitted nothing for {args.lesson} ({', '.join(absent)}): nothing "
              f"is recorded for them and the export shows 0, as for every student without a submission")
    ungraded = [labelled(r.student, r.name) for r in reports if not r.graded and not r.absent]
    if ungraded:
        print(f"{len(ungraded)} of {len(reports)} students NOT GRADED ({', '.join(ungraded)}): nothing is recorded for them "
              f"and the export shows 0. Remove the cause the table gives; for a notebook that cannot be read, ask for it "
              f"again, collect the new file alone (python -m grading collect {args.lesson} THEIR_DOWNLOAD.zip) and run "
              f"this command again: it grades only what is missing.")
    unsandboxed = [r.student for r in reports if r.unsandboxed]
    if unsandboxed:
        print(f"{'!' * 78}\n!! {len(unsandboxed)} of {len(reports)} submissions were graded WITHOUT A SANDBOX: they ran as you, "
              f"with your files and the network.\n!! Install bubblewrap, or set COURSE_GRADING_SANDBOX=require to refuse.\n{'!' * 78}")
    return 1 if ungraded else 3 if unsandboxed else 0
