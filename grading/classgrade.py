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
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

__all__ = [
    "PROBLEMS", "StudentReport", "check_files", "grade_class", "main", "problems_in_graded", "summary_table",
    "write_reports",
]

#: Markers that the hardened Execute step writes into graded notebooks, and what they mean.
PROBLEMS = {
    "the grader rejected data": "not plain data: a test cell sent values the grader does not accept",
    "KernelRestarted": "crash or hang: the kernel died or ignored the interrupt and was restarted",
    "CellTimeoutError": "timeout: a cell ran past the time limit and was interrupted",
    "dropped this cell's output": "output flood: output beyond the limit was dropped",
}


@dataclass
class StudentReport:
    student: str
    files: list[str] = field(default_factory=list)  # problems with the submitted files
    problems: list[str] = field(default_factory=list)  # problems found while grading
    graded: bool = False
    score: float | None = None
    max_score: float | None = None
    seconds: float = 0.0

    @property
    def status(self) -> str:
        if not self.graded:
            return "NOT GRADED"
        return "problems" if self.files or self.problems else "ok"


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
            notebook = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(notebook, dict) or "cells" not in notebook:
                raise ValueError("no cells")
        except (ValueError, UnicodeDecodeError) as error:
            problems.append(f"corrupt notebook {name}: not a valid notebook ({str(error)[:80]})")
        except OSError as error:
            problems.append(f"unreadable notebook {name}: {error.strerror or error} (expected a notebook file)")
    for name in present:
        if name not in expected:
            problems.append(f"extra notebook {name} (not graded)")
    return problems


def problems_in_graded(folder: Path) -> list[str]:
    """Problems recorded in the outputs of a student's autograded notebooks."""
    found = []
    for path in sorted(folder.glob("*.ipynb")):
        try:
            notebook = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for index, cell in enumerate(notebook.get("cells", [])):
            for output in cell.get("outputs", []):
                text = output.get("ename", "") + " " + output.get("evalue", "") + " " + "".join(output.get("text", ""))
                for marker, meaning in PROBLEMS.items():
                    if marker in text:
                        detail = output.get("evalue", "").strip()[:200]
                        found.append(f"{path.name} cell {index}: {meaning}" + (f" ({detail})" if detail else ""))
    return found


def _scores(db_url: str, lesson: str) -> dict[str, tuple[float, float]]:
    from nbgrader.api import Gradebook, MissingEntry

    result = {}
    with Gradebook(db_url) as gb:
        try:
            submissions = gb.assignment_submissions(lesson)
        except MissingEntry:
            return result
        for submission in submissions:
            result[submission.student.id] = (float(submission.code_score), float(submission.max_code_score))
    return result


def grade_class(lesson: str, submissions: Path | None = None, jobs: int | None = None, course: Path | None = None,
                extra_args: list[str] | None = None, progress: bool = True) -> list[StudentReport]:
    """Autograde every student of ``lesson``; return one report per student (sorted by id)."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config, PyFileConfigLoader

    course = (course or Path.cwd()).resolve()
    # nbgrader's gradebook runs `alembic` from the environment's scripts, activated or not
    scripts = str(Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = f"{scripts}{os.pathsep}{os.environ.get('PATH', '')}"
    config_path = course / "nbgrader_config.py"
    if not config_path.exists():
        raise FileNotFoundError(f"no nbgrader_config.py in {course}: run this from the course folder or pass --course")
    config = Config()
    config.merge(PyFileConfigLoader(config_path.name, path=str(course)).load_config())
    api = NbGraderAPI(config=config)
    coursedir = api.coursedir
    submitted = Path(coursedir.root) / coursedir.submitted_directory
    submissions = (submissions or submitted).resolve()
    if not submissions.is_dir():
        raise FileNotFoundError(f"no submissions folder {submissions}")
    release = Path(coursedir.root) / coursedir.release_directory / lesson
    expected = sorted(p.name for p in release.glob("*.ipynb"))
    if not expected:
        raise FileNotFoundError(f"{release} holds no notebooks: run `nbgrader generate_assignment {lesson}` first")

    # The reference records are built once here, not by the first workers at the same time
    execute = config.get("SandboxedExecute", {})
    if execute.get("source_directory"):
        from .reference import load_reference

        default = Path(coursedir.root) / ".grading" / "reference"
        load_reference(Path(execute.source_directory) / lesson / f"{expected[0]}",
                       Path(execute.get("reference_directory") or default))

    students = sorted(p.name for p in submissions.iterdir() if p.is_dir())
    reports = {s: StudentReport(s, files=check_files(submissions / s / lesson, lesson, expected)) for s in students}
    if submissions != submitted:  # bring an external collection into the course's submitted folder
        import shutil

        for student in students:
            source = submissions / student / lesson
            if source.is_dir():
                shutil.copytree(source, submitted / student / lesson, dirs_exist_ok=True)

    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    autograded = Path(coursedir.root) / coursedir.autograded_directory

    def grade(student: str) -> tuple[str, subprocess.CompletedProcess, float]:
        import time

        start = time.perf_counter()
        command = [sys.executable, "-m", "nbgrader", "autograde", lesson, "--student", student, "--force", *(extra_args or [])]
        result = subprocess.run(command, cwd=course, env=env, capture_output=True, text=True)
        return student, result, time.perf_counter() - start

    jobs = max(1, jobs or os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(grade, s) for s in students if (submissions / s / lesson).is_dir()]
        for s in students:
            if not (submissions / s / lesson).is_dir():
                reports[s].files.append(f"no {lesson} folder in {submissions / s}")
        bar = tqdm(as_completed(futures), total=len(futures), desc=f"grading {lesson}", unit="student", disable=not progress)
        for future in bar:
            student, result, seconds = future.result()
            report = reports[student]
            report.seconds = seconds
            folder = autograded / student / lesson
            report.graded = result.returncode == 0 and folder.is_dir()
            if not report.graded:
                errors = [line for line in result.stderr.splitlines() if "ERROR" in line or "Error" in line]
                report.problems.append("grading failed: " + (" | ".join(errors[-3:]) or f"exit code {result.returncode}"))
            report.problems += problems_in_graded(folder)

    for student, (score, max_score) in _scores(coursedir.db_url, lesson).items():
        if student in reports:
            reports[student].score, reports[student].max_score = score, max_score
    write_reports(Path(coursedir.root) / Path(coursedir.submitted_directory).parent / "reports" / lesson, list(reports.values()))
    return [reports[s] for s in sorted(reports)]


def write_reports(folder: Path, reports: list[StudentReport]) -> Path:
    """One text file per student, and ``summary.csv``; return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for report in reports:
        lines = [f"student: {report.student}", f"status: {report.status}", f"code score: {report.score} / {report.max_score}"]
        lines += [f"file problem: {p}" for p in report.files] + [f"grading problem: {p}" for p in report.problems]
        (folder / f"{report.student}.txt").write_text("\n".join(lines) + "\n")
    with (folder / "summary.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "status", "code_score", "max_code_score", "seconds", "problems"])
        for r in reports:
            writer.writerow([r.student, r.status, r.score, r.max_score, round(r.seconds, 1), " | ".join(r.files + r.problems)])
    return folder


def summary_table(reports: list[StudentReport]) -> str:
    rows = [f"{'student':24} {'status':11} {'score':>12}  problems"]
    for r in reports:
        score = "-" if r.score is None else f"{r.score:g}/{r.max_score:g}"
        rows.append(f"{r.student:24} {r.status:11} {score:>12}  {'; '.join(r.files + r.problems)[:160]}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grading", description=__doc__.splitlines()[0])
    parser.add_argument("lesson", help="the lesson (nbgrader assignment) to grade, e.g. 01_gradient_descent")
    parser.add_argument("--submissions", type=Path, help="folder of collected submissions (<student>/<lesson>/...)")
    parser.add_argument("-j", "--jobs", type=int, default=None, help="students graded at once (default: number of cores)")
    parser.add_argument("--course", type=Path, default=None, help="course folder (default: the current folder)")
    args, extra = parser.parse_known_args(argv)
    reports = grade_class(args.lesson, args.submissions, args.jobs, args.course, extra_args=extra)
    print(summary_table(reports))
    from .similarity import class_report  # similar answers in the class: similarity.html and .csv beside the reports

    class_report(args.lesson, args.course or Path.cwd())
    return 0 if all(r.graded for r in reports) else 1
