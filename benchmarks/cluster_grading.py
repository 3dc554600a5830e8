"""Benchmark the class command on Dask with a synthetic class, and project a class of thousands.

    python benchmarks/cluster_grading.py [--lesson 01_gradient_descent] [--students 200] [--workers 1 2] [--json out.json]

The class is made from the lesson's solution and its wrong answers (``tests/wrong_answers/``), cycled: one
student in five hands in the solution, the others one wrong answer each. It is graded by
``grading.classgrade.grade_class`` on a Dask ``LocalCluster`` with each number of workers, in a fresh
course each time. The scheduler's own cost per submission is measured with the same tasks and data, a task
that grades nothing. The projection for 5,000 students on 50 workers uses the measured cost per submission: the CPU-seconds
the whole machine spent per submission in the 1-worker run (from ``/proc/stat``: the coordinator, the Dask
workers and the sandboxed kernels; a process's own accounting misses the kernels, whose CPU time bubblewrap's
pid namespace never reports to their parent), and the scheduler's overhead; it assumes workers like this
machine's cores. Everything else the machine ran is counted too: run it on a quiet machine (the load average
each run saw is printed).
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _report import emit  # noqa: E402

import course  # noqa: E402
from grading import classgrade, cluster  # noqa: E402
from grading.sandbox import sandbox_status  # noqa: E402


def make_class(root: Path, lesson: str, students: int) -> Path:
    student_nb = course.read(root / "notebooks" / lesson / f"{lesson}.ipynb")
    source_nb = course.read(course.source_notebook(lesson))
    wrong = course.wrong_answers(lesson)
    variants = [None, *sorted(wrong)]
    folder = root / "collected"
    for i in range(students):
        variant = variants[i % 5] if i % 5 == 0 else variants[1 + i % (len(variants) - 1)]
        replace = {wrong[variant]["exercise"]: wrong[variant]["source"]} if variant else {}
        nb = course.fill_answers(student_nb, source_nb, replace=replace)
        target = folder / f"student{i:04d}" / lesson
        target.mkdir(parents=True)
        nbformat.write(nb, str(target / f"{lesson}.ipynb"))
    return folder


def nothing(bundle: cluster.LessonBundle, submission: cluster.Submission) -> cluster.Graded:
    """A task that grades nothing: what the scheduler costs per submission."""
    return cluster.Graded(submission.student, submission.digest, 0)


def overhead(root: Path, lesson: str, collected: Path, workers: int) -> float:
    """Seconds per submission of sending it, running a task that grades nothing and getting the result back,
    on a running cluster (its start-up, paid once per class, left out)."""
    from distributed import LocalCluster

    setup = classgrade.prepare(lesson, collected, root)
    bundle = cluster.make_bundle(root, setup.coursedir, lesson, setup.reference, "auto")
    subs = {s: cluster.read_submission(collected / s / lesson, s) for s in setup.students}
    with LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None, silence_logs=40) as local:
        done = []
        start = time.perf_counter()
        cluster.run_on_cluster(bundle, subs, lambda s, g, p: done.append(s), scheduler=local.scheduler_address,
                               progress=False, task=nothing)
        return (time.perf_counter() - start) / len(subs)


def cpu_seconds() -> float:
    """CPU-seconds the whole machine has been busy since it started (``/proc/stat``: every core's user, nice,
    system, irq, softirq and steal time). ``os.times()`` would miss the graded kernels: they run in bubblewrap's
    pid namespace, whose processes' CPU time never reaches the parent that waits for the sandbox."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lesson", default="01_gradient_descent")
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for workers in args.workers:
            root = course.make_course(Path(tmp) / f"w{workers}", [args.lesson])
            course.nbgrader(root, "generate_assignment", args.lesson, "--force")
            collected = make_class(root, args.lesson, args.students)
            load_before, cpu_before = os.getloadavg()[0], cpu_seconds()
            start = time.perf_counter()
            reports = classgrade.grade_class(args.lesson, collected, jobs=workers, course=root, progress=False)
            wall = time.perf_counter() - start
            cpu = cpu_seconds() - cpu_before
            rows.append({"workers": workers, "students": len(reports), "graded": sum(r.graded for r in reports),
                         "wall_s": round(wall, 1), "per_submission_s": round(wall / len(reports), 2),
                         "cpu_per_submission_s": round(cpu / len(reports), 2),
                         "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)],
                         "scheduler_overhead_s": round(overhead(root, args.lesson, collected, workers), 3)})
    one = next((r for r in rows if r["workers"] == 1), rows[0])
    # CPU-seconds of grading per submission: what a worker core spends on one (on a quiet machine).
    cost = one["cpu_per_submission_s"]
    projected = 5000 * cost / 50 + 5000 * one["scheduler_overhead_s"] / 50
    summary = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
               "sandbox": sandbox_status().reason, "lesson": args.lesson, "runs": rows,
               "cost_per_submission_s": round(cost, 2), "projected_5000_students_50_workers_min": round(projected / 60, 1)}
    print(f"{'workers':>7} {'students':>8} {'graded':>6} {'wall (s)':>9} {'per student (s)':>15} {'CPU per student (s)':>19} "
          f"{'load avg':>11} {'scheduler overhead (s)':>22}")
    for r in rows:
        load = "{}-{}".format(*r["load_average"])
        print(f"{r['workers']:7d} {r['students']:8d} {r['graded']:6d} {r['wall_s']:9.1f} {r['per_submission_s']:15.2f} "
              f"{r['cpu_per_submission_s']:19.2f} {load:>11} {r['scheduler_overhead_s']:22.3f}")
    print(f"projected: 5,000 students on 50 workers like these cores: {summary['projected_5000_students_50_workers_min']} min")
    emit(summary, args.json)


if __name__ == "__main__":
    main()
