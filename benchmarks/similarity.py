"""Benchmark the report of similar answers (grading/similarity.py) on a class of 200 submissions per lesson.

    python benchmarks/similarity.py [--students 200] [--lessons 01_gradient_descent ...] [--json results.json]

Each lesson's class is generated from its released notebook: every student answers each exercise with the
reference solution, its local names renamed and blank lines and comments added (55%), one of the lesson's
wrong answers in ``tests/wrong_answers/<lesson>.toml`` (25%), or leaves the stub (20%). The time is the whole
report: reading the notebooks, fingerprints, every pair, and writing the HTML and CSV. Printed as a table and
as JSON.
"""

from __future__ import annotations

import argparse
import io
import json
import keyword
import os
import platform
import random
import sys
import tempfile
import time
import tokenize
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _report import emit  # noqa: E402

import course  # noqa: E402
from grading import similarity  # noqa: E402


def renamed(source: str, suffix: str) -> str:
    """``source`` with every name it assigns renamed (``name`` -> ``name_<suffix>``), as a student's own names."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return source
    stored = {t.string for t, after in zip(tokens, tokens[1:])
              if t.type == tokenize.NAME and after.string in ("=", "+=", "-=", "*=", ",") and not keyword.iskeyword(t.string)
              and t.string != "self"}
    out = []
    for i, t in enumerate(tokens):
        attribute = i > 0 and tokens[i - 1].string == "."
        out.append((t.type, f"{t.string}_{suffix}" if t.type == tokenize.NAME and t.string in stored and not attribute else t.string))
    return tokenize.untokenize(out)


def student_notebook(lesson: str, released, solutions: dict[str, str], wrong: dict[str, list[str]], rng: random.Random, suffix: str):
    nb = nbformat.from_dict(json.loads(json.dumps(released)))
    for cell in nb.cells:
        exercise = course.nbgrader_meta(cell).get("grade_id")
        if exercise not in solutions:
            continue
        roll = rng.random()
        if roll < 0.55:
            lines = renamed(course.solution_source(solutions[exercise]), suffix).splitlines()
            for _ in range(rng.randint(0, 3)):  # blank lines and comments of the student's own
                at = rng.randint(1, len(lines))
                indent = lines[at - 1][: len(lines[at - 1]) - len(lines[at - 1].lstrip())]
                lines.insert(at, rng.choice(["", f"{indent}# step {rng.randint(1, 9)}"]))
            cell.source = "\n".join(lines)
        elif roll < 0.80 and wrong.get(exercise):
            cell.source = rng.choice(wrong[exercise]).strip("\n")
    return nb


def generate_class(lesson: str, folder: Path, students: int, seed: int = 0) -> Path:
    released = course.read(course.NOTEBOOKS / lesson / f"{lesson}.ipynb")
    solutions = {course.nbgrader_meta(c).get("grade_id"): c.source
                 for c in course.read(course.source_notebook(lesson)).cells if course.nbgrader_meta(c).get("solution")}
    wrong: dict[str, list[str]] = {}
    for entry in course.wrong_answers(lesson).values():
        wrong.setdefault(entry["exercise"], []).append(entry["source"])
    rng = random.Random(seed)
    for i in range(students):
        path = folder / f"student{i:03d}" / lesson
        path.mkdir(parents=True)
        nbformat.write(student_notebook(lesson, released, solutions, wrong, rng, f"s{i}"), str(path / f"{lesson}.ipynb"))
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", nargs="*", default=course.lessons())
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for lesson in args.lessons:
            submissions = generate_class(lesson, Path(tmp) / lesson / "submitted", args.students)
            start, cpu = time.perf_counter(), time.process_time()
            result = similarity.report(lesson, submissions, course.NOTEBOOKS / lesson, course.SOLUTIONS / lesson,
                                       Path(tmp) / lesson / "reports")
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
            rows.append({
                "lesson": lesson, "submissions": len(result.students), "exercises": len(result.exercises),
                "pairs": len(result.students) * (len(result.students) - 1) // 2, "pairs_sharing_a_passage": len(result.pairs),
                "pairs_reported": len(result.reported_pairs), "similar_to_reference": len(result.reported_reference),
                "wall_s": round(seconds, 1), "cpu_s": round(cpu, 1),
                "html_kb": round((result.folder / "similarity.html").stat().st_size / 1024),
            })
    summary = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "students_per_lesson": args.students,
        "lessons": rows,
    }
    print(f"{'lesson':28} {'students':>8} {'pairs':>7} {'sharing':>8} {'reported':>8} {'like ref.':>9} "
          f"{'wall (s)':>8} {'CPU (s)':>7} {'HTML (KB)':>9}")
    for r in rows:
        print(f"{r['lesson']:28} {r['submissions']:8d} {r['pairs']:7d} {r['pairs_sharing_a_passage']:8d} {r['pairs_reported']:8d} "
              f"{r['similar_to_reference']:9d} {r['wall_s']:8.1f} {r['cpu_s']:7.1f} {r['html_kb']:9d}")
    print("sharing: pairs with at least one passage in common; reported: at or above the threshold; "
          "like ref.: students similar to the reference solution. One process: the CPU time is the machine's own cost.")
    emit(summary, args.json)


if __name__ == "__main__":
    main()
