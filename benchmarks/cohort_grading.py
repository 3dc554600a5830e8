"""Benchmark grading the adversarial cohort (tests/cohort.py) with 1 and with 2 workers.

    python benchmarks/cohort_grading.py [--lessons 01_gradient_descent ...] [--json results.json]

For each lesson, in a throw-away course, the cohort is graded by ``python -m grading`` twice
(``-j 1``, then ``-j 2``); the wall times are printed as a table and as JSON.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _report import emit  # noqa: E402

import cohort  # noqa: E402
import course  # noqa: E402
from grading.classgrade import grade_class  # noqa: E402
from grading.sandbox import sandbox_status  # noqa: E402


def collect(lesson: str, root: Path) -> Path:
    student_nb = course.read(root / "notebooks" / lesson / f"{lesson}.ipynb")
    source_nb = course.read(course.source_notebook(lesson))
    collection = root / "collected"
    for sub in cohort.cohort(lesson, student_nb, source_nb):
        cohort.place(collection, lesson, sub)
    return collection


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", nargs="*", default=course.lessons())
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for lesson in args.lessons:
            row = {"lesson": lesson}
            for jobs in (1, 2):
                root = course.make_course(Path(tmp) / f"{lesson}-j{jobs}", [lesson])
                course.nbgrader(root, "generate_assignment", lesson, "--force")
                collection = collect(lesson, root)
                start = time.perf_counter()
                reports = grade_class(lesson, submissions=collection, jobs=jobs, course=root, progress=False)
                row[f"wall_s_{jobs}_worker{'s' if jobs > 1 else ''}"] = round(time.perf_counter() - start, 1)
                row["submissions"] = len(reports)
                if jobs == 1:  # each submission's own time, graded alone: bounds what more workers can gain
                    slowest = max(reports, key=lambda r: r.seconds)
                    row["slowest_submission"] = slowest.student
                    row["slowest_submission_s"] = round(slowest.seconds, 1)
                    row["sum_of_submissions_s"] = round(sum(r.seconds for r in reports), 1)
                shutil.rmtree(root, ignore_errors=True)
            rows.append(row)
    summary = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "sandbox": sandbox_status().reason,
        "lessons": rows,
        "total_wall_s_1_worker": round(sum(r["wall_s_1_worker"] for r in rows), 1),
        "total_wall_s_2_workers": round(sum(r["wall_s_2_workers"] for r in rows), 1),
    }
    print(f"{'lesson':28} {'submissions':>11} {'1 worker (s)':>13} {'2 workers (s)':>14}  slowest submission (s)")
    for r in rows:
        slowest = f"{r['slowest_submission_s']:.1f} ({r['slowest_submission']})"
        print(f"{r['lesson']:28} {r['submissions']:11d} {r['wall_s_1_worker']:13.1f} {r['wall_s_2_workers']:14.1f}  {slowest}")
    print(f"{'cohort':28} {'':11} {summary['total_wall_s_1_worker']:13.1f} {summary['total_wall_s_2_workers']:14.1f}")
    print("2 workers cannot finish a lesson sooner than its slowest submission, nor than half the 1-worker time.")
    emit(summary, args.json)


if __name__ == "__main__":
    main()
