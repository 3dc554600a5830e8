"""tests/variants.py, the one-run judge of wrong answers, shown to catch what it is there to catch.

Lesson 1 is released in a throw-away course and judged once with three stand-in wrong answers: a real
mistake, an "answer" that is in fact right, and one that also breaks NumPy in the kernel. The round trip
(tests/test_grading.py) fails for the second (it passes its test cell) and for the third (the solution put
back fails after it), so neither can be kept as a wrong answer by mistake.
"""

from __future__ import annotations

import pytest

import course
import variants

LESSON = "01_gradient_descent"
WRONG = {
    "predict": {
        "predict--sign_slip": "def predict(x, m, c):\n    return m * x - c",
        "predict--actually_right": "def predict(x, m, c):\n    return c + m * np.array(x, dtype=np.float64)",
    },
    "mse": {
        "mse--breaks_numpy": "np.mean = lambda *args, **kwargs: 0.0\n\ndef mse(y_true, y_pred):\n    return 1.0",
    },
}


@pytest.fixture(scope="module")
def judged(tmp_path_factory) -> dict:
    root = course.make_course(tmp_path_factory.mktemp("variants"), [LESSON])
    course.nbgrader(root, "generate_assignment", LESSON, "--force")
    return variants.judge(LESSON, root, WRONG)


def test_a_real_mistake_fails_its_test_cell_with_its_message_and_the_solution_put_back_passes(judged):
    verdict = judged["verdicts"]["predict--sign_slip"]
    assert not verdict["wrong"].passed
    assert "expected [3., 5.]" in verdict["wrong"].message and "got [1., 3.]" in verdict["wrong"].message
    assert verdict["restored"].passed, verdict["restored"].message


def test_an_answer_that_is_right_is_seen_passing(judged):
    verdict = judged["verdicts"]["predict--actually_right"]
    assert verdict["wrong"].passed and verdict["restored"].passed


def test_an_answer_that_damages_the_kernel_is_seen_by_the_solution_put_back(judged):
    verdict = judged["verdicts"]["mse--breaks_numpy"]
    assert not verdict["wrong"].passed
    assert not verdict["restored"].passed, "the solution put back passed although np.mean was replaced"


def test_the_run_goes_on_as_the_solutions_grading_would_and_records_every_test_cell(judged):
    final = judged["final"]
    assert sorted(final) == sorted(course.graded_cells(LESSON).tests)
    assert final["test_predict"].passed, final["test_predict"].message
    # np.mean stays replaced after mse--breaks_numpy: the run shows it in the cells after it
    assert not final["test_mse"].passed
    assert sorted(judged["verdicts"]) == sorted(key for answers in WRONG.values() for key in answers)


@pytest.mark.parametrize("lesson", course.lessons())
def test_every_wrong_answer_is_python_that_compiles(lesson):
    """A wrong answer that does not compile would leave the solution's definitions in the kernel, where its test
    cell then passes, or fail for its syntax instead of its mistake: each is checked before any run."""
    broken = {}
    for key, entry in course.wrong_answers(lesson).items():
        try:
            compile(entry["source"], f"{lesson}.toml [{key}]", "exec")
        except SyntaxError as error:
            broken[key] = f"line {error.lineno}: {error.msg}"
    assert not broken, f"{lesson}: wrong answers that are not valid Python: {broken}"
