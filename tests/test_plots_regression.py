"""Tests for helpers.plots_regression: what is drawn, what is returned, and clear errors on bad input."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures

from helpers import PALETTE
from helpers.plots_regression import plot_error_vs_degree, plot_polynomial_fits


@pytest.fixture
def data():
    x = np.linspace(-1.0, 1.0, 11)
    return x, x**2


def _curves(ax: Axes) -> dict[str, np.ndarray]:
    """Lines with a legend label, as {label: (xdata, ydata)}."""
    return {line.get_label(): (np.asarray(line.get_xdata()), np.asarray(line.get_ydata()))
            for line in ax.get_lines() if not line.get_label().startswith("_")}


# ---------------------------------------------------------------------------------------------- fits
def test_fits_accepts_callables_estimators_and_values(data):
    x, y = data
    grid = np.linspace(-1.0, 1.0, 50)
    estimator = make_pipeline(PolynomialFeatures(2), LinearRegression()).fit(x[:, None], y)
    ax = plot_polynomial_fits(x, y, {1: lambda g: 0.5 * g, 2: estimator, 3: grid**3}, grid=grid,
                              xlabel="time (h)", ylabel="temperature (°C)", title="Fits")
    assert isinstance(ax, Axes)
    curves = _curves(ax)
    assert list(curves) == ["degree 1", "degree 2", "degree 3"]
    np.testing.assert_allclose(curves["degree 1"][0], grid)
    np.testing.assert_allclose(curves["degree 1"][1], 0.5 * grid)
    np.testing.assert_allclose(curves["degree 2"][1], grid**2, atol=1e-12)
    np.testing.assert_allclose(curves["degree 3"][1], grid**3)
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("time (h)", "temperature (°C)", "Fits")
    # The data are drawn as points, in front of the curves.
    assert len(ax.collections) == 1
    np.testing.assert_allclose(ax.collections[0].get_offsets(), np.column_stack([x, y]))
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["degree 1", "degree 2", "degree 3", "training data"]


def test_fits_default_grid_true_curve_validation_and_string_labels(data):
    x, y = data
    x_val, y_val = np.array([-1.5, 0.2]), np.array([2.25, 0.04])
    ax = plot_polynomial_fits(x, y, {"my model": lambda g: g**2}, true_curve=lambda g: g**2, x_val=x_val, y_val=y_val)
    curves = _curves(ax)
    assert list(curves) == ["true curve", "my model"]
    grid = curves["my model"][0]
    assert len(grid) == 400 and grid.min() == -1.5 and grid.max() == 1.0  # covers the validation points too
    assert curves["true curve"][0].shape == grid.shape
    assert ax.get_lines()[0].get_linestyle() == "--"
    assert len(ax.collections) == 2  # training and validation points
    np.testing.assert_allclose(ax.collections[1].get_offsets(), np.column_stack([x_val, y_val]))
    assert [t.get_text() for t in ax.get_legend().get_texts()][-2:] == ["training data", "validation data"]


def test_fits_clip_wild_curves_to_the_data(data):
    x, y = data
    ax = plot_polynomial_fits(x, y, {15: lambda g: 1e6 * g})
    low, high = ax.get_ylim()
    assert low == pytest.approx(0.0 - 0.15) and high == pytest.approx(1.0 + 0.15)
    ax = plot_polynomial_fits(x, y, {}, ylim=(-3.0, 3.0))
    assert ax.get_ylim() == (-3.0, 3.0)
    assert _curves(ax) == {}


def test_fits_draws_on_given_axes_and_leaves_global_style_alone(data):
    x, y = data
    before = dict(plt.rcParams)
    fig, ax = plt.subplots()
    assert plot_polynomial_fits(x, y, {2: lambda g: g**2}, ax=ax) is ax
    assert len(fig.axes) == 1
    assert dict(plt.rcParams) == before
    assert ax.get_lines()[0].get_color() == PALETTE["blue"]


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"x": "abc"}, TypeError, "x"),
        ({"x": np.zeros((3, 2))}, ValueError, "x"),
        ({"y": np.zeros(4)}, ValueError, "y"),
        ({"fits": [1, 2]}, TypeError, "fits"),
        ({"fits": {2: np.zeros(7)}}, ValueError, "fits[2]"),
        ({"fits": {2: lambda g: np.zeros((len(g), 2))}}, ValueError, "fits[2]"),
        ({"grid": [0.5]}, ValueError, "grid"),
        ({"x_val": [0.1]}, ValueError, "x_val and y_val"),
        ({"x_val": [0.1, 0.2], "y_val": [1.0]}, ValueError, "x_val"),
        ({"true_curve": np.zeros(3)}, ValueError, "true_curve"),
        ({"ax": "not an axes"}, TypeError, "ax"),
    ],
)
def test_fits_bad_input_names_the_argument(data, kwargs, error, name):
    x, y = data
    args = {"x": x, "y": y, "fits": {2: lambda g: g**2}} | kwargs
    with pytest.raises(error, match=name.replace("[", r"\[").replace("]", r"\]")):
        plot_polynomial_fits(**args)


# ---------------------------------------------------------------------------------------- error plot
def test_error_vs_degree_draws_both_curves_log_axis_and_marks_the_choice():
    degrees = [1, 2, 3, 4]
    train, val = [4.0, 1.0, 0.5, 0.2], [4.5, 1.2, 0.9, 3.0]
    ax = plot_error_vs_degree(degrees, train, val, chosen=3, ylabel="MSE (°C²)", title="Errors")
    assert isinstance(ax, Axes)
    curves = _curves(ax)
    np.testing.assert_allclose(curves["training error"][1], train)
    np.testing.assert_allclose(curves["validation error"][1], val)
    np.testing.assert_allclose(curves["training error"][0], degrees)
    star_x, star_y = curves["chosen: degree 3"]
    assert (float(star_x[0]), float(star_y[0])) == (3.0, 0.9)
    vertical = [line for line in ax.get_lines() if line.get_linestyle() == ":"]
    assert len(vertical) == 1 and list(vertical[0].get_xdata()) == [3.0, 3.0]
    assert ax.get_yscale() == "log"
    assert list(ax.get_xticks()) == degrees
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("polynomial degree", "MSE (°C²)", "Errors")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["training error", "validation error", "chosen: degree 3"]


def test_error_vs_degree_without_choice_with_extra_curves_and_linear_axis():
    ax = plot_error_vs_degree(np.array([2, 4]), [1.0, 0.0], [1.5, 2.0], extra_errors={"fresh data": [1.2, 1.9]}, log=False)
    curves = _curves(ax)
    assert list(curves) == ["training error", "validation error", "fresh data"]
    np.testing.assert_allclose(curves["fresh data"][1], [1.2, 1.9])
    assert ax.get_yscale() == "linear"
    assert not [line for line in ax.get_lines() if line.get_linestyle() == ":"]


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "name"),
    [
        (([1, 2], [1.0], [1.0, 2.0]), {}, ValueError, "train_errors"),
        (([1, 2], [1.0, 2.0], [1.0, 2.0, 3.0]), {}, ValueError, "val_errors"),
        (([], [], []), {}, ValueError, "degrees"),
        (("ab", [1.0], [1.0]), {}, TypeError, "degrees"),
        (([1, 2], [1.0, 2.0], [1.0, 2.0], 5), {}, ValueError, "chosen"),
        (([1, 2], [1.0, 0.0], [1.0, 2.0]), {}, ValueError, "log=False"),
        (([1, 2], [1.0, 2.0], [1.0, 2.0]), {"extra_errors": {"fresh": [1.0]}}, ValueError, "extra_errors"),
        (([1, 2], [[1.0, 2.0]], [1.0, 2.0]), {}, ValueError, "train_errors"),
    ],
)
def test_error_vs_degree_bad_input_names_the_argument(args, kwargs, error, name):
    with pytest.raises(error, match=name):
        plot_error_vs_degree(*args, **kwargs)
