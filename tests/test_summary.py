"""grading.summary: the class summary plot, from per-cell scores."""

from __future__ import annotations

import numpy as np

from grading.summary import ClassResults, summary_figure

RESULTS = ClassResults(
    "01_gradient_descent",
    scores={"ana": {"test_predict": 1, "test_mse": 2}, "ben": {"test_predict": 0, "test_mse": 2},
            "cai": {"test_predict": 0, "test_mse": 0}, "dee": {"test_predict": 1}},
    points={"test_predict": 1.0, "test_mse": 2.0},
)


def test_totals_and_failed_shares_count_each_student_once():
    np.testing.assert_array_equal(RESULTS.totals, [3, 2, 0, 1])
    assert RESULTS.failed_share() == {"test_predict": 0.5, "test_mse": 0.5}  # a missing grade counts as failed


def test_the_figure_shows_the_score_distribution_and_the_share_failed_per_exercise():
    fig = summary_figure(RESULTS)
    left, right = fig.axes
    heights = [p.get_height() for p in left.patches]
    assert heights == [1, 1, 1, 1]  # one student at each of 0, 1, 2, 3 points
    assert "4 students" in left.get_title() and "out of 3" in left.get_xlabel()
    fig.canvas.draw()
    assert all(float(t).is_integer() for t in left.get_yticks()), "students are counted in whole numbers"
    widths = {label.get_text(): bar.get_width() for label, bar in zip(right.get_yticklabels(), right.patches)}
    assert widths == {"predict": 50.0, "mse": 50.0}
    assert right.get_xlabel() == "share of students (%)"


def test_an_empty_class_still_draws():
    fig = summary_figure(ClassResults("02_polynomial_regression", {}, {"test_a": 1.0}))
    assert "0 students" in fig.axes[0].get_title()
    assert fig.axes[1].patches[0].get_width() == 0
