"""The adversarial cohort (tests/cohort.py), graded for every lesson with the class-grading command.

For each lesson, in a throw-away course: a correct submission is graded first (without Dask); then the whole
hostile cohort is graded in parallel on Dask from a separate collection folder. Every submission is graded or reported
by name, each attack costs exactly what the README's table says, nothing of the course is visible to
the graded code, and the grades already in the gradebook are untouched.
"""

from __future__ import annotations

import json

import pytest

import cohort
import course
from grading.classgrade import grade_class
from grading.sandbox import sandbox_status

LESSONS = course.lessons()
# Short limits keep the test fast (the two hangs of lesson 1's cohort wait for the time limit): every legitimate answer cell
# of the course runs within them. The slowest, lesson 7's final model, took 12 s on two cores busy with other gradings
# (the limit of 10 s it had cost it its points there).
LIMITS = ["--SandboxedExecute.student_cell_timeout=25", "--SandboxedExecute.memory_mb=3072"]
_results: dict[str, dict] = {}


def run_cohort(lesson: str, tmp_path_factory) -> dict:
    if lesson in _results:
        return _results[lesson]
    root = course.make_course(tmp_path_factory.mktemp(f"adversarial-{lesson}"), [lesson])
    course.nbgrader(root, "generate_assignment", lesson, "--force")
    student_nb = course.read(root / "notebooks" / lesson / f"{lesson}.ipynb")
    source_nb = course.read(course.source_notebook(lesson))

    course.submit(root, lesson, "honest", course.fill_answers(student_nb, source_nb))
    before = grade_class(lesson, jobs=1, course=root, extra_args=LIMITS, progress=False, dask=False)  # --without-dask
    honest_before = course.scores(root, lesson)["honest"]

    collection = root / "collected"
    submissions = cohort.cohort(lesson, student_nb, source_nb)
    for sub in submissions:
        cohort.place(collection, lesson, sub, course_root=root)
    reports = grade_class(lesson, submissions=collection, jobs=2, course=root, extra_args=LIMITS, progress=False)
    _results[lesson] = {
        "root": root, "before": before, "honest_before": honest_before, "submissions": {s.student: s for s in submissions},
        "reports": {r.student: r for r in reports}, "scores": course.scores(root, lesson),
    }
    return _results[lesson]


class AdversarialCohort:
    lesson = ""

    @pytest.fixture
    def result(self, tmp_path_factory):
        return run_cohort(self.lesson, tmp_path_factory)

    def test_every_submission_is_graded_or_reported_by_name(self, result):
        for student, sub in result["submissions"].items():
            report = result["reports"][student]
            if sub.graded:
                assert report.graded, f"{student} was not graded: {report.problems}"
            else:
                assert not report.graded and report.files, f"{student} should be reported by name, got {report.files}"
        assert any("corrupt notebook" in p for p in result["reports"]["corrupt"].files)
        assert any("missing notebook" in p for p in result["reports"]["missing"].files)
        assert any("my_homework.ipynb" in p for p in result["reports"]["wrong-name"].files)
        assert any("extra notebook scratch.ipynb" in p for p in result["reports"][cohort.EDITS].files)
        summary = (result["root"] / ".grading" / "reports" / self.lesson / "summary.csv").read_text()
        assert all(student in summary for student in result["submissions"])

    def check_attack(self, result, student: str, kind: str) -> None:
        """One row of the attack table: the submission holding this attack scores exactly the points written
        down for it (0 in the test cells it must cost, full marks in every other)."""
        cells = course.graded_cells(self.lesson)
        sub = result["submissions"][student]
        got = result["scores"][student]
        expected = {c: 0.0 if c in sub.lost else p for c, p in cells.tests.items()}
        wrong = {c: got[c][0] for c in cells.tests if got[c][0] != expected[c]}
        assert not wrong, f"{student} ({kind}): expected {expected}, got {wrong} where they differ"
        assert sum(got[c][0] for c in cells.tests) == sum(expected.values())

    def test_problems_are_reported_for_each_student(self, result):
        problems = {s: " ".join(r.problems) for s, r in result["reports"].items()}
        # os._exit and the segfault always kill the kernel; the memory bomb either raises MemoryError or kills
        # the kernel at the limit, depending on what the lesson has imported (torch allocates outside Python)
        assert problems["crashes"].count("crash or hang") in (2, 3), problems["crashes"]
        if self.lesson == cohort.HANGS_IN:
            assert "timeout" in problems[cohort.EDITS] and "crash or hang" in problems[cohort.EDITS], problems[cohort.EDITS]
        assert "output flood" in problems[cohort.EDITS]
        # every test cell of the forgers sent data the grader refused, and the grader said so for each
        tests = len(course.graded_cells(self.lesson).tests)
        for student in ("forger-even", "forger-odd"):
            assert problems[student].count("not plain data") == tests, problems[student]
        assert [r.status for r in result["before"]] == ["ok"], [(r.student, r.problems) for r in result["before"]]

    def test_a_flood_of_output_is_not_kept(self, result):
        graded = result["root"] / ".grading" / "autograded" / cohort.EDITS / self.lesson / f"{self.lesson}.ipynb"
        assert graded.stat().st_size < 8_000_000, f"the autograded notebook is {graded.stat().st_size} bytes"

    def test_a_warning_on_stderr_stays_in_answer_cells_and_never_costs_a_test_cell(self, result):
        graded = result["root"] / ".grading" / "autograded" / "forger-odd" / self.lesson / f"{self.lesson}.ipynb"
        cells = json.loads(graded.read_text())["cells"]
        def warned(cell):
            return any(o.get("name") == "stderr" and "overflow encountered" in "".join(o.get("text", "")) for o in cell.get("outputs", []))
        tests = set(course.graded_cells(self.lesson).tests)
        assert any(warned(c) for c in cells if course.nbgrader_meta(c).get("grade_id") not in tests), "the warning was never written"
        assert not [course.nbgrader_meta(c)["grade_id"] for c in cells if course.nbgrader_meta(c).get("grade_id") in tests and warned(c)]
        # and the right answers' test cells scored in full (check_attack compares every cell)
        self.check_attack(result, "forger-odd", "a warning written to stderr in every cell")

    def test_graded_code_sees_no_course_no_network_and_damages_nothing(self, result):
        if not sandbox_status().available:
            pytest.skip(f"no sandbox here: {sandbox_status().reason}")
        root = result["root"]
        graded = root / ".grading" / "autograded" / cohort.EDITS / self.lesson / f"{self.lesson}.ipynb"
        outputs = ["".join(o.get("text", "")) for c in json.loads(graded.read_text())["cells"] for o in c.get("outputs", [])]
        line = next(text for text in outputs if "SNOOP " in text)
        seen = json.loads(line.split("SNOOP ", 1)[1].splitlines()[0])
        assert str(root) in seen["roots"], f"the snooping cell looked in {seen['roots']}, not in the course {root}"
        assert len(seen["seen"]) == 6 * len(set(seen["roots"])) and len(seen["damage"]) == 2 * len(set(seen["roots"])), seen
        assert not any(seen["seen"].values()), f"graded code could see {seen['seen']}"
        assert all(v != "written" for v in seen["damage"].values()), seen["damage"]
        assert seen["network"] != "reached pypi.org"
        assert not (root / ".grading" / "autograded" / "honest" / self.lesson / "hacked.txt").exists()

    def test_grades_already_in_the_gradebook_are_untouched(self, result):
        assert result["scores"]["honest"] == result["honest_before"]
        cells = course.graded_cells(self.lesson)
        assert all(result["honest_before"][c] == (p, p) for c, p in cells.tests.items())


def _attack_rows(lesson: str) -> dict:
    """A test per row of the attack table (each attack of each graded submission), named after the attack."""
    student_nb = course.read(course.NOTEBOOKS / lesson / f"{lesson}.ipynb")
    rows = [(s.student, kind) for s in cohort.cohort(lesson, student_nb, course.read(course.source_notebook(lesson)))
            if s.graded for kind in s.kinds]

    @pytest.mark.parametrize(("student", "kind"), rows, ids=[f"{s}: {k}" for s, k in rows])
    def test_each_attack_costs_exactly_what_the_table_says(self, result, student, kind):
        self.check_attack(result, student, kind)

    return {"test_each_attack_costs_exactly_what_the_table_says": test_each_attack_costs_exactly_what_the_table_says}


course.class_per_lesson(globals(), AdversarialCohort, "Adversarial", extra=_attack_rows)
