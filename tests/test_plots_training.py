"""Tests for helpers.plots_training: what each function draws, what it returns, and its errors."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes

from helpers import PALETTE
from helpers._style import CYCLE
from helpers.plots_training import plot_lr_schedule, plot_optimiser_curves, plot_optimiser_paths


def _legend_texts(ax: Axes) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


# plot_optimiser_curves ------------------------------------------------------------------------------


def test_plot_optimiser_curves_draws_one_line_per_run_with_its_final_loss():
    ax = plot_optimiser_curves({"SGD": [4.0, 2.0, 1.0], "Adam": [4.0, 1.0, 0.25]}, title="Two optimisers", ylabel="loss (MSE)")
    sgd, adam = ax.get_lines()
    np.testing.assert_array_equal(sgd.get_xdata(), [0, 1, 2])
    np.testing.assert_array_equal(sgd.get_ydata(), [4.0, 2.0, 1.0])
    np.testing.assert_array_equal(adam.get_ydata(), [4.0, 1.0, 0.25])
    assert (sgd.get_color(), adam.get_color()) == (PALETTE["blue"], PALETTE["orange"])
    assert _legend_texts(ax) == ["SGD (final 1)", "Adam (final 0.25)"]
    assert ax.get_yscale() == "log"
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("Two optimisers", "step", "loss (MSE)")


def test_plot_optimiser_curves_ends_a_diverged_run_with_a_cross():
    ax = plot_optimiser_curves({"too fast": [1.0, 10.0, 1e3, np.inf, np.nan]}, log=False)
    curve, cross = ax.get_lines()
    np.testing.assert_array_equal(curve.get_ydata(), [1.0, 10.0, 1e3])
    assert cross.get_marker() == "x" and list(cross.get_xdata()) == [2] and list(cross.get_ydata()) == [1e3]
    assert _legend_texts(ax) == ["too fast (diverged at step 3)"]
    assert ax.get_yscale() == "linear"


def test_plot_optimiser_curves_smooths_with_a_moving_average_over_the_faint_raw_curve():
    losses = np.array([1.0, 3.0, 2.0, 4.0, 3.0])
    ax = plot_optimiser_curves({"noisy": losses}, smooth=2)
    raw, smoothed = ax.get_lines()
    np.testing.assert_array_equal(raw.get_ydata(), losses)
    assert raw.get_alpha() < 0.5
    np.testing.assert_allclose(smoothed.get_xdata(), [1, 2, 3, 4])
    np.testing.assert_allclose(smoothed.get_ydata(), [2.0, 2.5, 3.0, 3.5])
    assert _legend_texts(ax) == ["noisy (final mean 3.5)"]
    low, high = ax.get_ylim()
    assert 1.0 < low < 2.0 and 3.5 < high < 5.0  # scaled to the smoothed curve, not to the raw one


def test_plot_optimiser_curves_draws_on_a_given_axes_and_can_put_the_legend_outside():
    fig, ax = plt.subplots()
    assert plot_optimiser_curves({"a": [1.0, 0.5]}, ax=ax, legend_loc="outside") is ax
    anchor = ax.get_legend().get_bbox_to_anchor().transformed(ax.transAxes.inverted())
    assert anchor.y0 < 0  # under the axes


def test_plot_optimiser_curves_names_bad_arguments():
    with pytest.raises(TypeError, match="curves must be a mapping"):
        plot_optimiser_curves([1.0, 2.0])
    with pytest.raises(ValueError, match="curves must hold at least one run"):
        plot_optimiser_curves({})
    with pytest.raises(TypeError, match="curves must have string keys"):
        plot_optimiser_curves({0.1: [1.0, 2.0]})
    with pytest.raises(ValueError, match=r"curves\['a'\] must be 1-dimensional"):
        plot_optimiser_curves({"a": [[1.0, 2.0]]})
    with pytest.raises(TypeError, match=r"curves\['a'\] must be an array of numbers"):
        plot_optimiser_curves({"a": "loss"})
    with pytest.raises(ValueError, match=r"curves\['a'\] must hold at least one loss"):
        plot_optimiser_curves({"a": []})
    with pytest.raises(ValueError, match="smooth must be a positive integer"):
        plot_optimiser_curves({"a": [1.0, 2.0]}, smooth=0)
    with pytest.raises(ValueError, match="smooth must be a positive integer"):
        plot_optimiser_curves({"a": [1.0, 2.0]}, smooth=2.5)
    with pytest.raises(TypeError, match="legend_loc must be a string"):
        plot_optimiser_curves({"a": [1.0, 2.0]}, legend_loc=3)
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        plot_optimiser_curves({"a": [1.0, 2.0]}, ax="left")


# plot_lr_schedule -----------------------------------------------------------------------------------


def test_plot_lr_schedule_draws_a_staircase_per_schedule():
    ax = plot_lr_schedule({"StepLR": [0.1, 0.1, 0.01, 0.01], "constant": [0.1] * 4}, title="Schedules")
    step, constant = ax.get_lines()
    np.testing.assert_array_equal(step.get_xdata(), [0, 1, 2, 3])
    np.testing.assert_array_equal(step.get_ydata(), [0.1, 0.1, 0.01, 0.01])
    assert step.get_drawstyle() == "steps-post"
    assert constant.get_color() == CYCLE[1]
    assert _legend_texts(ax) == ["StepLR", "constant"]
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("Schedules", "step", "learning rate")
    low, high = ax.get_ylim()
    assert low == 0.0 and high == pytest.approx(0.145)  # room above the curves for the legend
    assert plot_lr_schedule({"a": [1.0, 0.1]}, log=True).get_yscale() == "log"


def test_plot_lr_schedule_names_bad_arguments():
    with pytest.raises(TypeError, match="schedules must be a mapping"):
        plot_lr_schedule([0.1, 0.2])
    with pytest.raises(ValueError, match=r"schedules\['a'\] must hold finite, non-negative learning rates"):
        plot_lr_schedule({"a": [0.1, -0.1]})
    with pytest.raises(ValueError, match=r"schedules\['a'\] must hold finite, non-negative learning rates"):
        plot_lr_schedule({"a": [0.1, np.nan]})
    with pytest.raises(ValueError, match=r"schedules\['a'\] must hold finite, positive learning rates"):
        plot_lr_schedule({"a": [0.1, 0.0]}, log=True)
    with pytest.raises(ValueError, match=r"schedules\['a'\] must be 1-dimensional"):
        plot_lr_schedule({"a": 0.1})
    with pytest.raises(ValueError, match=r"schedules\['a'\] must hold at least one learning rate"):
        plot_lr_schedule({"a": []})


# plot_optimiser_paths -------------------------------------------------------------------------------


def _bowl():
    xs, ys = np.linspace(-2, 2, 9), np.linspace(-1, 3, 5)
    losses = (xs[None, :] - 1) ** 2 + (ys[:, None] - 1) ** 2 + 0.1
    return xs, ys, losses


def test_plot_optimiser_paths_draws_each_path_its_end_the_start_and_the_minimum():
    xs, ys, losses = _bowl()
    sgd = np.array([[-1.0, 2.0], [0.0, 1.5], [0.5, 1.2]])
    adam = np.array([[-1.0, 2.0], [0.5, 0.5], [0.9, 1.0]])
    ax = plot_optimiser_paths(xs, ys, losses, {"SGD": sgd, "Adam": adam}, minimum=(1.0, 1.0), title="Bowl")
    lines = ax.get_lines()
    assert len(lines) == 6  # two paths, two end points, the start, the minimum
    np.testing.assert_array_equal(np.column_stack(lines[0].get_data()), sgd)
    assert lines[0].get_color() == CYCLE[0] and lines[2].get_color() == CYCLE[1]
    assert tuple(np.ravel(lines[1].get_data())) == (0.5, 1.2)  # SGD's end
    assert tuple(np.ravel(lines[4].get_data())) == (-1.0, 2.0) and lines[4].get_marker() == "o"  # the start
    assert tuple(np.ravel(lines[5].get_data())) == (1.0, 1.0) and lines[5].get_marker() == "*"
    assert _legend_texts(ax) == ["SGD", "Adam", "start", "minimum"]
    assert ax.get_xlim() == (-2.0, 2.0) and ax.get_ylim() == (-1.0, 3.0)
    assert ax.get_title() == "Bowl" and ax.figure.axes[-1].get_ylabel() == "log10(loss)"


def test_plot_optimiser_paths_keeps_the_view_on_the_grid_and_survives_a_zero_loss():
    xs, ys, losses = _bowl()
    losses = losses - losses.min()  # exact zero at the minimum
    wild = np.array([[0.0, 0.0], [50.0, -40.0]])
    ax = plot_optimiser_paths(xs, ys, losses, {"wild": wild}, log=True)
    assert ax.get_xlim() == (-2.0, 2.0) and ax.get_ylim() == (-1.0, 3.0)
    assert plot_optimiser_paths(xs, ys, losses, {"a": wild}, log=False).figure.axes[-1].get_ylabel() == "loss"


def test_plot_optimiser_paths_names_bad_arguments():
    xs, ys, losses = _bowl()
    path = {"a": np.zeros((3, 2))}
    with pytest.raises(ValueError, match=r"losses must have shape \(5, 9\), got \(9, 5\)"):
        plot_optimiser_paths(xs, ys, losses.T, path)
    with pytest.raises(ValueError, match=r"paths\['a'\] must have shape \(n, 2\)"):
        plot_optimiser_paths(xs, ys, losses, {"a": np.zeros((3, 3))})
    with pytest.raises(TypeError, match="paths must be a mapping"):
        plot_optimiser_paths(xs, ys, losses, np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"minimum must have shape \(2,\)"):
        plot_optimiser_paths(xs, ys, losses, path, minimum=(1.0, 1.0, 1.0))
    with pytest.raises(ValueError, match="xs must be 1-dimensional"):
        plot_optimiser_paths(np.zeros((2, 2)), ys, losses, path)
    with pytest.raises(ValueError, match="levels must be an integer of at least 2"):
        plot_optimiser_paths(xs, ys, losses, path, levels=1)


def test_the_style_is_applied_only_inside_calls():
    before = matplotlib.rcParams["axes.spines.top"]
    plot_optimiser_curves({"a": [1.0, 0.5]})
    plot_lr_schedule({"a": [1.0, 0.5]})
    assert matplotlib.rcParams["axes.spines.top"] == before
