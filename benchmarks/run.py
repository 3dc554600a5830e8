"""Benchmark the course: per lesson, execute the solution and autograde one correct submission.

    python benchmarks/run.py [--lessons 01_gradient_descent ...] [--json results.json]

Prints a table and then the same figures as JSON. Targets (from the course blueprint): every solution
under 60 s, the course under 4 min, and autograding a whole course (trusted comparison included) within
1.15x the time of executing the same notebooks without nbgrader. The reference records a lesson needs for the
trusted comparison are built once per lesson, before the autograding is timed; that one-off cost is printed
separately.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _report import emit  # noqa: E402

import course  # noqa: E402
from grading.reference import load_reference  # noqa: E402


def build_reference(root: Path, lesson: str) -> float:
    """Wall time to record the lesson's reference (once per lesson; autograding then reuses it)."""
    start = time.perf_counter()
    load_reference(root / "solutions" / lesson / f"{lesson}.ipynb", root / ".grading" / "reference")
    return time.perf_counter() - start


def execute_seconds(nb, cwd: Path) -> float:
    """Wall time to execute ``nb`` in a fresh kernel with ``cwd`` as working directory."""
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(cwd)}})
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def benchmark_lesson(lesson: str, workdir: Path) -> dict:
    root = course.make_course(workdir / lesson, [lesson])
    course.nbgrader(root, "generate_assignment", lesson, "--force")
    student_nb = course.read(root / "notebooks" / lesson / f"{lesson}.ipynb")
    source_nb = course.read(course.source_notebook(lesson))
    submission = course.fill_answers(student_nb, source_nb)

    solution_s = execute_seconds(nbformat.from_dict(source_nb), root / "solutions" / lesson)
    plain_s = execute_seconds(nbformat.from_dict(submission), root / "notebooks" / lesson)
    course.submit(root, lesson, "benchmark", submission)
    reference_s = build_reference(root, lesson)
    start = time.perf_counter()
    course.nbgrader(root, "autograde", lesson, "--student", "benchmark", "--force")
    autograde_s = time.perf_counter() - start
    got = course.scores(root, lesson)["benchmark"]
    cells = course.graded_cells(lesson)
    full = all(got[c][0] == p for c, p in cells.tests.items())
    return {
        "lesson": lesson,
        "solution_execute_s": round(solution_s, 2),
        "submission_execute_s": round(plain_s, 2),
        "reference_build_s": round(reference_s, 2),
        "autograde_s": round(autograde_s, 2),
        "autograde_overhead": round(autograde_s / plain_s, 2),
        "full_marks": full,
    }


def autograde_course_in_one_process(lessons: list[str], workdir: Path) -> float:
    """Wall time to autograde one student's whole course through nbgrader's API in a single process
    (how a script or the formgrader grades: nbgrader's start-up is paid once, not once per lesson)."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config, PyFileConfigLoader

    root = course.make_course(workdir / "whole-course", lessons)
    for lesson in lessons:
        course.nbgrader(root, "generate_assignment", lesson, "--force")
        student_nb = course.read(root / "notebooks" / lesson / f"{lesson}.ipynb")
        course.submit(root, lesson, "benchmark", course.fill_answers(student_nb, course.read(course.source_notebook(lesson))))
        build_reference(root, lesson)
    config = Config()
    config.merge(PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config())
    start = time.perf_counter()
    api = NbGraderAPI(config=config)
    for lesson in lessons:
        result = api.autograde(lesson, "benchmark", force=True)
        if not result["success"]:
            raise RuntimeError(f"autograding {lesson} failed: {result['error']}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", nargs="*", default=course.lessons())
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        rows = [benchmark_lesson(lesson, Path(tmp)) for lesson in args.lessons]
        total_solution = sum(r["solution_execute_s"] for r in rows)
        total_plain = sum(r["submission_execute_s"] for r in rows)
        total_autograde = sum(r["autograde_s"] for r in rows)
        cwd = os.getcwd()
        try:
            whole_course = autograde_course_in_one_process(args.lessons, Path(tmp))
        finally:
            os.chdir(cwd)
    summary = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "lessons": rows,
        "course_solution_execute_s": round(total_solution, 2),
        "course_submission_execute_s": round(total_plain, 2),
        "course_autograde_s_one_command_per_lesson": round(total_autograde, 2),
        "course_autograde_overhead_one_command_per_lesson": round(total_autograde / total_plain, 2),
        "course_autograde_s_one_process": round(whole_course, 2),
        "course_autograde_overhead_one_process": round(whole_course / total_plain, 2),
    }

    header = (f"{'lesson':28} {'solution (s)':>13} {'plain run (s)':>14} {'autograde (s)':>14} {'overhead':>9} {'full marks':>11}"
              f" {'reference, once (s)':>20}")
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['lesson']:28} {r['solution_execute_s']:13.1f} {r['submission_execute_s']:14.1f} "
              f"{r['autograde_s']:14.1f} {r['autograde_overhead']:8.2f}x {str(r['full_marks']):>11} {r['reference_build_s']:20.1f}")
    print("-" * len(header))
    print(f"{'course':28} {total_solution:13.1f} {total_plain:14.1f} {total_autograde:14.1f} "
          f"{summary['course_autograde_overhead_one_command_per_lesson']:8.2f}x")
    print(f"{'course, one grading process':28} {'':13} {total_plain:14.1f} {whole_course:14.1f} "
          f"{summary['course_autograde_overhead_one_process']:8.2f}x")
    emit(summary, args.json)


if __name__ == "__main__":
    main()
