"""The gradebook on PostgreSQL: a real server (Debian's ``postgresql``), started here in a temporary folder on a
Unix socket and stopped afterwards.

One lesson-1 class is graded once with the class command into the default SQLite gradebook, copied into
PostgreSQL with the README's command, and then graded further on PostgreSQL (the class command and
``nbgrader autograde`` reading ``COURSE_GRADEBOOK_URL``); the grades are read back from both databases.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import course
from grading import gradebook
from postgres import PostgresServer, find_binary

LESSON = "01_gradient_descent"

pytestmark = pytest.mark.skipif(
    find_binary("initdb") is None and not os.environ.get("CI"),
    reason="PostgreSQL is not installed (apt-get install postgresql); CI installs it",
)


def run(root: Path, *args: str, url: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONHASHSEED": "0", "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop(gradebook.ENVIRONMENT, None)
    if url:
        env[gradebook.ENVIRONMENT] = url
    return subprocess.run([sys.executable, *args], cwd=root, env=env, capture_output=True, text=True, timeout=1800)


def expected_scores(student: str) -> dict[str, float]:
    """What each test cell must score for the cohort's students: the solution everything, a wrong answer
    everything but its own cell, the untouched notebook nothing."""
    cells = course.graded_cells(LESSON).tests
    if student == "blank":
        return {cell: 0.0 for cell in cells}
    lost = set(course.wrong_answers(LESSON)[student.removeprefix("wrong-")]["fails"]) if student.startswith("wrong-") else set()
    return {cell: 0.0 if cell in lost else points for cell, points in cells.items()}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    pg = PostgresServer(tmp_path_factory.mktemp("postgres") / "server").start()
    yield pg
    pg.remove()


@pytest.fixture(scope="module")
def graded(server, tmp_path_factory) -> dict:
    """Grade solution, blank and one wrong answer into SQLite; copy to PostgreSQL; grade one more student there."""
    root = course.make_course(tmp_path_factory.mktemp("course-gradebook"), [LESSON])
    course.nbgrader(root, "generate_assignment", LESSON, "--force")
    student_nb = course.read(root / "notebooks" / LESSON / f"{LESSON}.ipynb")
    source_nb = course.read(course.source_notebook(LESSON))
    wrong = course.main_wrong_answers(LESSON)
    first, second = sorted(wrong)[:2]
    cohort = {"solution": course.fill_answers(student_nb, source_nb), "blank": student_nb,
              f"wrong-{first}": course.fill_answers(student_nb, source_nb, replace={first: wrong[first]})}
    for student, nb in cohort.items():
        course.submit(root, LESSON, student, nb)
    on_sqlite = run(root, "-m", "grading", LESSON, "-j", "2")
    sqlite_url = f"sqlite:///{root / '.grading' / 'gradebook.db'}"
    before = gradebook.row_counts(sqlite_url)

    url = server.create_database("gradebook")
    copied = run(root, "-m", "grading.gradebook", "copy", sqlite_url, url)
    again = run(root, "-m", "grading.gradebook", "copy", sqlite_url, url)

    late = tmp_path_factory.mktemp("late-submission")
    late_student = f"wrong-{second}"
    folder = late / late_student / LESSON
    folder.mkdir(parents=True)
    nbformat.write(course.fill_answers(student_nb, source_nb, replace={second: wrong[second]}), str(folder / f"{LESSON}.ipynb"))
    on_postgres = run(root, "-m", "grading", LESSON, "--submissions", str(late), "-j", "1", url=url)
    return {"root": root, "sqlite": sqlite_url, "postgres": url, "before": before, "cohort": sorted(cohort),
            "late": late_student, "runs": {"sqlite": on_sqlite, "copy": copied, "copy again": again, "postgres": on_postgres}}


def test_the_class_command_grades_into_sqlite_by_default(graded):
    run = graded["runs"]["sqlite"]
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    scores = course.scores(graded["root"], LESSON)
    assert sorted(scores) == graded["cohort"]
    for student in graded["cohort"]:
        assert {cell: s for cell, (s, _) in scores[student].items() if cell.startswith("test_")} == expected_scores(student), student


def test_the_copy_command_moves_every_row_into_postgresql(graded):
    run = graded["runs"]["copy"]
    assert run.returncode == 0, run.stderr
    assert "copied" in run.stdout and "grade" in run.stdout
    sqlite_scores = course.scores(graded["root"], LESSON, url=graded["sqlite"])
    postgres_scores = course.scores(graded["root"], LESSON, url=graded["postgres"])
    assert {s: v for s, v in postgres_scores.items() if s != graded["late"]} == sqlite_scores
    assert gradebook.row_counts(graded["sqlite"]) == graded["before"], "the copy changed the SQLite gradebook"


def test_copying_into_a_database_that_holds_grades_is_refused(graded):
    run = graded["runs"]["copy again"]
    assert run.returncode == 1
    assert "expected an empty target" in run.stderr and "hint: create a new database" in run.stderr
    assert "Traceback" not in run.stderr


def test_the_class_command_grades_on_postgresql_with_the_environment_variable(graded):
    run = graded["runs"]["postgres"]
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    postgres_scores = course.scores(graded["root"], LESSON, url=graded["postgres"])
    late = graded["late"]
    assert {c: s for c, (s, _) in postgres_scores[late].items() if c.startswith("test_")} == expected_scores(late)
    assert late not in course.scores(graded["root"], LESSON), "the late student's grade went to SQLite, not PostgreSQL"
    summary = (graded["root"] / ".grading" / "reports" / LESSON / "summary.csv").read_text()
    assert late in summary


def test_the_gradebook_survives_a_server_restart(graded, server):
    before = gradebook.row_counts(graded["postgres"])
    server.restart()
    assert gradebook.row_counts(graded["postgres"]) == before


def test_bad_urls_get_a_clear_error(server, tmp_path):
    with pytest.raises(gradebook.GradebookError, match="expected a SQLAlchemy database URL"):
        gradebook.row_counts("not a url")
    with pytest.raises(gradebook.GradebookError, match="cannot open the gradebook at postgresql"):
        gradebook.row_counts(server.url("no_such_database"))
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    with pytest.raises(gradebook.GradebookError, match="expected an nbgrader gradebook"):
        gradebook.copy_gradebook(empty, server.create_database("unused"))
    with pytest.raises(gradebook.GradebookError, match="same database"):
        gradebook.copy_gradebook(empty, empty)


def test_the_url_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(gradebook.ENVIRONMENT, raising=False)
    assert gradebook.gradebook_url(tmp_path) == f"sqlite:///{tmp_path / '.grading' / 'gradebook.db'}"
    monkeypatch.setenv(gradebook.ENVIRONMENT, "postgresql+psycopg://grader@db/gradebook")
    assert gradebook.gradebook_url(tmp_path) == "postgresql+psycopg://grader@db/gradebook"
