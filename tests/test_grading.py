"""The grading round trip, for every lesson in solutions/ (new lessons are picked up automatically).

Each lesson gets its own test class, so that xdist (``--dist loadscope``) grades lessons in parallel.

For each lesson, in a throw-away copy of the course: ``nbgrader generate_assignment`` must reproduce the
committed student notebook byte for byte; then ``nbgrader autograde`` grades a cohort of submissions made
from that student notebook, and the scores are read back from the gradebook:

* ``solution``: every answer filled in from the source notebook → every test cell at full marks;
* ``blank``: the student notebook untouched → 0 everywhere;
* ``wrong-<k>``: several exercises answered with their main wrong answers kept in
  ``tests/wrong_answers/<lesson>.toml``, the others right (``course.wrong_submissions``) → the test cells those
  wrong answers list score 0, all others full marks. Every exercise is wrong in one of them, and for every
  exercise and every exercise after it, one of them has the first wrong and the second right, so each
  exercise's tests are shown not to depend on the exercises before it, in ``ceil(log2(n + 1))`` gradings.

Every wrong answer kept, the further ones (``<exercise>--<variant>``) included, is also judged by the same
grader in one run of the solution (``tests/variants.py``): it fails its exercise's test cell with a message
that says what was expected, and the solution put back passes it again. For a main wrong answer both ways
must agree. The right answers kept in ``tests/right_answers/<lesson>.toml`` (choices the text allows that a test
once failed) are judged in the same run, and must pass.

The same class opens the feedback pages of ``solution`` and ``wrong-1`` in Chromium (the checks of
``tests/test_feedback_page.py``): each lesson's cohort is graded once, by one xdist worker.
"""

from __future__ import annotations

import csv
import html
import re

import pytest
from test_feedback_page import FeedbackPage

import course
from grading import probes
from grading.reference import graded_test_cells, lesson_imports, module_names

LESSONS = course.lessons()


def graded(lesson: str, tmp_path_factory) -> dict:
    """The lesson's cohort, generated, autograded and given feedback once per test session (``course.graded_cohort``)."""
    return course.graded_cohort(lesson, tmp_path_factory)


class LessonRoundTrip(FeedbackPage):
    """The round-trip tests of one lesson; a subclass per lesson is made below."""

    lesson = ""

    def test_student_notebook_is_generated_from_the_solution(self, tmp_path_factory):
        lesson = self.lesson
        result = graded(lesson, tmp_path_factory)
        committed = course.NOTEBOOKS / lesson / f"{lesson}.ipynb"
        assert committed.exists(), f"{committed} is missing: run `nbgrader generate_assignment {lesson} --force`"
        assert result["released"].read_bytes() == committed.read_bytes(), (
            f"notebooks/{lesson} differs from what `nbgrader generate_assignment {lesson} --force` makes of "
            f"solutions/{lesson}: regenerate it and never edit notebooks/ by hand"
        )
        extra = sorted(p.name for p in (course.NOTEBOOKS / lesson).iterdir())
        assert extra == [f"{lesson}.ipynb"], f"notebooks/{lesson} holds files nbgrader did not generate: {extra}"

    def test_lesson_has_graded_exercises_and_a_written_question(self):
        lesson = self.lesson
        cells = course.graded_cells(lesson)
        n_answers = len(cells.answers)
        assert 4 <= n_answers <= 8, f"{lesson} has {n_answers} auto-graded exercises; the course wants 4 to 8"
        assert len(cells.written) >= 1, f"{lesson} has no manually graded written question"
        for cell in course.read(course.source_notebook(lesson)).cells:
            grade_id = course.nbgrader_meta(cell).get("grade_id")
            if grade_id in cells.tests:
                assert "### BEGIN HIDDEN TESTS" in cell.source, f"{lesson}: test cell {grade_id} has no hidden test"
                assert "passed" in cell.source, f"{lesson}: test cell {grade_id} does not tell the student the visible tests passed"

    def test_every_exercise_has_a_wrong_answer_kept(self):
        lesson = self.lesson
        cells = course.graded_cells(lesson)
        wrong = course.wrong_answers(lesson)
        main = course.main_wrong_answers(lesson)
        assert sorted(main) == sorted(cells.answers), (
            f"tests/wrong_answers/{lesson}.toml must hold one wrong answer per exercise under the exercise's "
            f"grade_id: missing {sorted(set(cells.answers) - set(main))}, unknown {sorted(set(main) - set(cells.answers))}"
        )
        for answer, entry in wrong.items():
            assert entry["exercise"] in cells.answers, (
                f"{lesson}/{answer}: {entry['exercise']!r} is not an exercise of the lesson; name a variant "
                f"`<exercise>--<what it gets wrong>`")
            assert entry.get("source", "").strip(), f"{lesson}/{answer}: the wrong answer has no source"
            assert entry.get("fails"), f"{lesson}/{answer}: list the test cells the wrong answer must fail"
            unknown = set(entry["fails"]) - set(cells.tests)
            assert not unknown, f"{lesson}/{answer}: fails names cells that are not test cells: {sorted(unknown)}"

    def test_one_mistake_costs_one_exercise(self):
        """A wrong answer fails its own exercise's test cell and no other: the tests of an exercise that
        builds on it pass it the pieces it needs, or check only its own part (see the contributors' rules)."""
        lesson = self.lesson
        costly = {answer: entry["fails"] for answer, entry in course.wrong_answers(lesson).items()
                  if entry["fails"] != [f"test_{entry['exercise']}"]}
        assert not costly, (
            f"{lesson}: each wrong answer must fail exactly its own exercise's test cell (test_<exercise>); "
            f"these cost more: {costly}. Hint: make the later exercise's test independent of the earlier answer "
            f"(pass the pieces in, or check only its own part)"
        )

    def test_written_questions_have_a_rubric_and_the_lesson_ends_with_more(self):
        """For the grader, a point rubric in each written question's solution; for the eager student, ungraded
        further exercises and readings at the end of the lesson."""
        lesson = self.lesson
        nb = course.read(course.source_notebook(lesson))
        written = [c for c in nb.cells if course.nbgrader_meta(c).get("grade") and course.nbgrader_meta(c).get("solution")]
        for cell in written:
            meta = course.nbgrader_meta(cell)
            assert re.search(r"rubric", cell.source, re.IGNORECASE), (
                f"{lesson}: the solution of {meta['grade_id']} has no point rubric; add one inside the solution "
                f"markers saying what earns each of its {meta['points']:g} points")
        headings = [line.lstrip("#").strip().lower() for c in nb.cells if c.cell_type == "markdown"
                    for line in c.source.splitlines() if line.startswith("#")]
        for wanted in ("further exercises", "reading"):
            assert any(wanted in h for h in headings), (
                f"{lesson}: no heading containing {wanted!r}; end the lesson with ungraded further exercises "
                f"and two or three readings")

    def test_test_cells_follow_the_rules_of_the_trusted_comparison(self):
        nb = course.read(course.source_notebook(self.lesson))
        modules = module_names(lesson_imports(nb))
        for grade_id, source in graded_test_cells(nb).items():
            checks = probes.check_calls(source)  # a check the grader cannot find raises here
            leaked = probes.leaks(source, modules)
            assert not leaked, f"{grade_id}: the probe would compute expected values: {leaked}"
            hidden = [c for c in checks if c.hidden]
            values = [c for c in hidden if c.kind in ("check_close", "check_equal", "check_shape", "check_finite")]
            assert values, f"{grade_id}: no hidden check of a value (a hidden test must need the student's numbers)"
            conditions = [c.line for c in hidden if c.kind == "check_true"]
            assert not conditions, f"{grade_id}: hidden check_true on lines {conditions}; state it as a value (check_equal)"
            rules = [c.line for c in hidden if c.kind == "check_loops"]
            assert not rules, (f"{grade_id}: a loop rule checked only by a hidden test (lines {rules}) costs points "
                               f"without warning; check it visibly, before the hidden tests")

    def test_the_solution_scores_full_marks(self, tmp_path_factory):
        lesson = self.lesson
        result = graded(lesson, tmp_path_factory)
        got = result["scores"]["solution"]
        cells = course.graded_cells(lesson)
        lost = {cell: got.get(cell) for cell in cells.tests if got.get(cell) != (cells.tests[cell], cells.tests[cell])}
        assert not lost, f"{lesson}: the solution lost marks in {lost}\n{result['run'].stderr[-3000:]}"

    def test_the_untouched_student_notebook_scores_zero(self, tmp_path_factory):
        lesson = self.lesson
        result = graded(lesson, tmp_path_factory)
        got = result["scores"]["blank"]
        cells = course.graded_cells(lesson)
        assert set(cells.tests) | set(cells.written) <= set(got), f"{lesson}: cells missing from the gradebook"
        scored = {cell: score for cell, (score, _) in got.items() if score != 0}
        assert not scored, f"{lesson}: the untouched notebook scored points in {scored}"
        # Nothing written yet: every test cell says its exercise did not run, never a hint about a mistake not made.
        autograded = result["root"] / ".grading" / "autograded" / "blank" / lesson / f"{lesson}.ipynb"
        said = {course.nbgrader_meta(cell).get("grade_id"): [o.get("evalue", "") for o in cell.get("outputs", [])
                                                             if o.get("output_type") == "error"]
                for cell in course.read(autograded).cells if course.nbgrader_meta(cell).get("grade_id") in cells.tests}
        misleading = {cell: errors[0] if errors else "no error" for cell, errors in said.items()
                      if not errors or "did not run: " not in errors[0] or "Hint:" in errors[0]}
        assert not misleading, f"{lesson}: for the untouched notebook, test cells say more than 'did not run': {misleading}"
        bare = {cell: errors[0] for cell, errors in said.items() if errors and errors[0].rstrip().endswith(":")}
        assert not bare, f"{lesson}: for the untouched notebook, a message ends with an error's bare name: {bare}"
        page = (result["root"] / ".grading" / "feedback" / "blank" / lesson / f"{lesson}.html").read_text()
        exercises = {cell.removeprefix("test_") for cell in cells.tests}
        rows = [(name, row) for name, row in re.findall(r'<tr class="fb-row [^"]*" data-exercise="([^"]*)">(.*?)</tr>', page, re.S)
                if name in exercises]
        assert {name for name, _ in rows} == exercises, f"{lesson}: the untouched notebook's page has rows for {rows}"
        repeated = [name for name, row in rows if "No response." in row or "did not run" not in row]
        assert not repeated, f"{lesson}: the untouched notebook's page adds nbgrader's 'No response.' to {repeated}"

    def check_wrong_answer(self, answer, tmp_path_factory):
        lesson = self.lesson
        result = graded(lesson, tmp_path_factory)
        entry = course.wrong_answers(lesson)[answer]
        must_fail = set(entry["fails"])
        judged = result["one_kernel"]["verdicts"][answer]
        assert not judged["wrong"].passed, (
            f"{lesson}: the wrong {answer} passes {entry['exercise']}'s test cell ({judged['wrong'].message})")
        assert judged["restored"].passed, (
            f"{lesson}: after the wrong answers of {entry['exercise']}, {answer} among them, the solution put back "
            f"fails its test cell: one of them changed something in the kernel the test cell needs (judge them one at a "
            f"time with tests/variants.py's judge to tell which) ({judged['restored'].message})")
        message = judged["wrong"].message
        assert re.search(r"expected .+, (got|found) |hidden test \d+ of \d+ (failed|did not run)", message, re.S), (
            f"{lesson}: the message for the wrong {answer} says neither what was expected and what came back nor "
            f"which hidden test failed: {message}")
        shown = [line for line in course.hidden_test_lines(lesson) if line in message]
        assert not shown, f"{lesson}: the message for the wrong {answer} shows hidden test lines: {shown}"
        if "--" in answer:
            return  # graded as a whole submission only for the exercise's main wrong answer
        wrong = course.wrong_answers(lesson)
        cells = course.graded_cells(lesson)
        holding = {student: exercises for student, exercises in course.wrong_submissions(lesson).items() if answer in exercises}
        assert holding, f"{lesson}: no whole submission holds the wrong {answer}"
        for student, exercises in holding.items():
            got = result["scores"][student]
            passed_anyway = {cell: got[cell] for cell in must_fail if got[cell][0] != 0}
            assert not passed_anyway, f"{lesson}: the wrong {answer} still scores in {passed_anyway} (submission {student})"
            lost = set().union(*(wrong[e]["fails"] for e in exercises))
            collateral = {cell: got[cell] for cell in set(cells.tests) - lost if got[cell][0] != cells.tests[cell]}
            assert not collateral, (
                f"{lesson}: {student}, with the wrong {', '.join(exercises)}, also lost marks in {collateral}, "
                f"which depend on none of them")

    def test_every_exercise_is_graded_right_after_each_earlier_one_wrong(self):
        """For exercises ``a`` before ``b``, some whole submission has ``a`` wrong and ``b`` right, so that ``b``
        keeping its marks there shows its tests do not depend on ``a`` (``course.wrong_submissions``)."""
        exercises = course.graded_cells(self.lesson).answers
        groups = course.wrong_submissions(self.lesson).values()
        uncovered = [(a, b) for i, a in enumerate(exercises) for b in exercises[i + 1:]
                     if not any(a in g and b not in g for g in groups)]
        assert not uncovered, f"{self.lesson}: no submission has the first wrong and the second right: {uncovered}"

    def test_the_solution_passes_every_test_cell_after_the_wrong_answers_judged_in_its_run(self, tmp_path_factory):
        """The one run that judges every wrong answer (``tests/variants.py``) ends as the solution's grading does."""
        lesson = self.lesson
        result = graded(lesson, tmp_path_factory)
        final = result["one_kernel"]["final"]
        assert sorted(final) == sorted(course.graded_cells(lesson).tests)
        failed = {cell: verdict.message for cell, verdict in final.items() if not verdict.passed}
        assert not failed, f"{lesson}: the solution failed, after the wrong answers were judged in its run: {failed}"
        judged = result["one_kernel"]["verdicts"]
        assert sorted(judged) == sorted([*course.wrong_answers(lesson), *course.right_answers(lesson)]), \
            "every wrong answer and every right answer kept is judged"

    def test_feedback_says_what_each_failed_test_expected(self, tmp_path_factory):
        lesson = self.lesson
        result = graded(lesson, tmp_path_factory)
        root = result["root"]
        assert result["feedback_run"].returncode == 0, result["feedback_run"].stderr[-3000:]
        wrong = course.wrong_answers(lesson)
        for student, exercises in course.wrong_submissions(lesson).items():
            page = root / ".grading" / "feedback" / student / lesson / f"{lesson}.html"
            assert page.exists(), f"no feedback page for {student}"
            text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))
            for cell in set().union(*(wrong[e]["fails"] for e in exercises)):
                assert cell in text, f"feedback of {student} does not mention {cell}"
            said = re.findall(r"expected .+?, (?:got|found) |hidden test \d+ of \d+ (?:failed|did not run)", text)
            assert len(said) >= len(exercises), (
                f"feedback of {student} says what was expected and what came back, or which hidden test failed, "
                f"{len(said)} times for {len(exercises)} failed exercises")
        solution_page = (root / ".grading" / "feedback" / "solution" / lesson / f"{lesson}.html").read_text()
        assert "most recent call last" not in solution_page, "the solution's feedback shows an error"
        assert "CheckFailed" not in solution_page, "the solution's feedback shows a failed check"

    def test_feedback_never_shows_a_hidden_test(self, tmp_path_factory):
        lesson = self.lesson
        result = graded(lesson, tmp_path_factory)
        root = result["root"]
        assert result["feedback_run"].returncode == 0, result["feedback_run"].stderr[-3000:]
        secret = course.hidden_test_lines(lesson)
        assert secret, f"{lesson} has no hidden test lines to look for"
        pages = sorted((root / ".grading" / "feedback").glob(f"*/{lesson}/*.html"))
        assert len(pages) == len(result["scores"]), f"feedback pages: {pages}"
        for page in pages:
            text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))
            shown = [line for line in secret if line in text]
            assert not shown, f"{page.parent.parent.name}'s feedback shows hidden test lines: {shown[:5]}"
            assert "HIDDEN TESTS" not in text, f"{page.parent.parent.name}'s feedback shows the hidden-test markers"

    def test_export_gives_every_students_grade(self, tmp_path_factory):
        lesson = self.lesson
        result = graded(lesson, tmp_path_factory)
        root = result["root"]
        target = root / "grades.csv"
        course.nbgrader(root, "export", "--to", str(target))
        rows = {row["student_id"]: row for row in csv.DictReader(target.open()) if row["assignment"] == lesson}
        assert set(rows) == set(result["scores"]), f"export lists {sorted(rows)}"
        cells = course.graded_cells(lesson)
        total = sum(cells.tests.values()) + sum(cells.written.values())
        for student, grades in result["scores"].items():
            assert float(rows[student]["max_score"]) == total
            assert float(rows[student]["score"]) == sum(score for score, _ in grades.values()), student
        assert float(rows["solution"]["score"]) == sum(cells.tests.values())
        assert float(rows["blank"]["score"]) == 0


def _wrong_answer_test(lesson: str) -> dict:
    @pytest.mark.parametrize("answer", sorted(course.wrong_answers(lesson)))
    def test_a_wrong_answer_loses_exactly_its_points(self, answer, tmp_path_factory):
        self.check_wrong_answer(answer, tmp_path_factory)

    tests = {"test_a_wrong_answer_loses_exactly_its_points": test_a_wrong_answer_loses_exactly_its_points}
    if course.right_answers(lesson):
        @pytest.mark.parametrize("answer", sorted(course.right_answers(lesson)))
        def test_a_right_answer_passes(self, answer, tmp_path_factory):
            entry = course.right_answers(lesson)[answer]
            judged = graded(lesson, tmp_path_factory)["one_kernel"]["verdicts"][answer]
            assert judged["wrong"].passed, (f"{lesson}: the right answer {answer} ({entry['why']}) fails "
                                            f"{entry['exercise']}'s test cell: {judged['wrong'].message}")
            assert judged["restored"].passed, judged["restored"].message

        tests["test_a_right_answer_passes"] = test_a_right_answer_passes
    return tests


course.class_per_lesson(globals(), LessonRoundTrip, "Lesson", extra=_wrong_answer_test)
