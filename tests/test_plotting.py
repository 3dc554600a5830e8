"""helpers.plotting: what is drawn (data, labels, titles), and clear errors for bad arguments."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

from helpers import PALETTE, course_style, plot_fit, plot_learning_rates, plot_loss_curve, plot_loss_surface


def test_plot_fit_draws_the_data_and_the_line_over_its_range():
    x, y = np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.5, 6.0])
    ax = plot_fit(x, y, 2.0, 0.5, xlabel="size (m²)", ylabel="price (k€)", title="Fit")
    np.testing.assert_array_equal(ax.collections[0].get_offsets(), np.column_stack([x, y]))
    (line,) = ax.get_lines()
    xs, ys = line.get_data()
    assert xs[0] == 1.0 and xs[-1] == 3.0
    np.testing.assert_allclose(ys, 2.0 * xs + 0.5)
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("size (m²)", "price (k€)", "Fit")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["data", "y = 2 x + 0.5"]
    assert line.get_color() == PALETTE["vermillion"]


def test_plot_fit_draws_on_a_given_axes_and_names_bad_arguments():
    fig, ax = plt.subplots()
    assert plot_fit([1, 2], [1, 2], 1, 0, ax=ax) is ax
    with pytest.raises(ValueError, match="same length: x has 3, y has 2"):
        plot_fit([1, 2, 3], [1, 2], 1, 0)
    with pytest.raises(ValueError, match="y must be 1-dimensional"):
        plot_fit([1, 2], [[1, 2]], 1, 0)
    with pytest.raises(TypeError, match="x must be an array of numbers, got str"):
        plot_fit("abc", [1, 2, 3], 1, 0)
    with pytest.raises(ValueError, match="m must be 0-dimensional"):
        plot_fit([1, 2], [1, 2], [1, 2], 0)
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        plot_fit([1, 2], [1, 2], 1, 0, ax="left")


def test_plot_loss_curve_draws_each_history_and_marks_divergence():
    ax = plot_loss_curve({"lr=0.1": [4.0, 2.0, 1.0], "lr=2": [4.0, 40.0, np.inf]}, title="Two runs")
    converged, diverged, cross = ax.get_lines()
    np.testing.assert_array_equal(converged.get_ydata(), [4.0, 2.0, 1.0])
    np.testing.assert_array_equal(diverged.get_ydata(), [4.0, 40.0])
    assert cross.get_marker() == "x" and list(cross.get_ydata()) == [40.0]
    assert ax.get_yscale() == "log" and ax.get_title() == "Two runs"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["lr=0.1", "lr=2"]
    assert plot_loss_curve([3.0, 2.0], log=False).get_yscale() == "linear"
    with pytest.raises(ValueError, match="history must be 1-dimensional"):
        plot_loss_curve(np.ones((2, 2)))


def test_plot_loss_surface_contours_the_grid_and_draws_the_path():
    ms, cs = np.linspace(-1, 1, 5), np.linspace(0, 2, 3)
    losses = (ms[None, :] ** 2) + (cs[:, None] - 1) ** 2
    path = np.array([[1.0, 2.0], [0.5, 1.5], [0.0, 1.0]])
    ax = plot_loss_surface(ms, cs, losses, path=path, title="Bowl")
    descent, start, end = ax.get_lines()
    np.testing.assert_array_equal(np.column_stack(descent.get_data()), path)
    assert list(start.get_data()) == [[1.0], [2.0]] or tuple(np.ravel(start.get_data())) == (1.0, 2.0)
    assert tuple(np.ravel(end.get_data())) == (0.0, 1.0) and end.get_marker() == "*"
    assert ax.get_title() == "Bowl" and ax.get_xlabel() == "slope m"
    assert ax.figure.axes[-1].get_ylabel() == "log10(loss)"
    with pytest.raises(ValueError, match=r"losses must have shape \(3, 5\), got \(5, 3\)"):
        plot_loss_surface(ms, cs, losses.T)
    with pytest.raises(ValueError, match=r"path must have shape \(n, 2\)"):
        plot_loss_surface(ms, cs, losses, path=[1.0, 2.0])


def test_plot_loss_surface_survives_an_exact_zero_minimum():
    ms = cs = np.linspace(-1, 1, 3)
    losses = ms[None, :] ** 2 + cs[:, None] ** 2
    ax = plot_loss_surface(ms, cs, losses)
    low, high = ax.figure.axes[-1].get_ylim()
    assert high - low <= 9  # eight decades below the largest loss, not 300


def test_plot_learning_rates_labels_each_run_and_its_verdict():
    fig = plot_learning_rates({0.01: [10.0, 5.0, 2.5], 0.5: [10.0, 1e9, np.nan]}, title="Rates")
    left, right = fig.axes
    assert left.get_title() == "lr = 0.01\nfinal loss 2.5"
    assert right.get_title() == "lr = 0.5\ndiverged after 2 epochs"
    assert left.get_lines()[0].get_color() == PALETTE["blue"]
    assert right.get_lines()[0].get_color() == PALETTE["vermillion"]
    assert fig._suptitle.get_text() == "Rates" and left.get_ylabel() == "loss (MSE)"
    capped = plot_learning_rates({0.1: [1.0, 2.0, 3e6]}, diverged_above=1e6)
    assert "diverged" in capped.axes[0].get_title()
    with pytest.raises(TypeError, match="runs must be a non-empty mapping"):
        plot_learning_rates({})


def test_the_style_is_applied_only_inside_calls():
    before = matplotlib.rcParams["axes.spines.top"]
    with course_style():
        assert matplotlib.rcParams["axes.spines.top"] is False
    plot_fit([1, 2], [1, 2], 1, 0)
    assert matplotlib.rcParams["axes.spines.top"] == before
