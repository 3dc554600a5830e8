"""Tests for helpers.plots_networks: what each function draws, what it returns, and its errors."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.contour import ContourSet
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from helpers import PALETTE
from helpers.plots_networks import (
    BACKWARD_COLOUR,
    FORWARD_COLOUR,
    plot_activations,
    plot_computational_graph,
    plot_decision_boundary,
    plot_gradient_per_layer,
)

# ----------------------------------------------------------------------------- activations


def test_plot_activations_one_panel_per_activation():
    z = np.linspace(-3, 3, 61)
    s = 1 / (1 + np.exp(-z))
    fig = plot_activations(z, {"sigmoid": (s, s * (1 - s)), "ReLU": (np.maximum(z, 0), (z > 0).astype(float))})
    axes = fig.get_axes()
    assert len(axes) == 2
    assert [ax.get_title() for ax in axes] == ["sigmoid", "ReLU"]
    lines = axes[0].get_lines()[-2:]
    np.testing.assert_allclose(lines[0].get_ydata(), s)
    np.testing.assert_allclose(lines[1].get_ydata(), s * (1 - s))
    assert lines[1].get_linestyle() == "--"
    assert [t.get_text() for t in axes[1].get_legend().get_texts()] == ["ReLU(z)", "ReLU'(z)"]
    assert axes[0].get_xlabel() == "pre-activation z"
    assert fig._suptitle.get_text() == "Activation functions and their derivatives"


def test_plot_activations_errors():
    z = np.linspace(-1, 1, 5)
    with pytest.raises(TypeError, match="curves must"):
        plot_activations(z, {})
    with pytest.raises(TypeError, match=r"curves\['tanh'\] must be a pair"):
        plot_activations(z, {"tanh": np.tanh(z)})
    with pytest.raises(ValueError, match=r"curves\['tanh'\] derivative must have shape"):
        plot_activations(z, {"tanh": (np.tanh(z), np.ones(4))})
    with pytest.raises(ValueError, match="z must be 1-dimensional"):
        plot_activations(np.zeros((2, 2)), {"tanh": (np.zeros(2), np.zeros(2))})


# ----------------------------------------------------------------------------- decision boundary


def _blobs():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(-1, 0.3, size=(20, 2)), rng.normal(1, 0.3, size=(20, 2))])
    y = np.repeat([0.0, 1.0], 20)
    return X, y


def test_plot_decision_boundary_draws_data_and_boundary():
    X, y = _blobs()
    calls = []

    def predict(points):
        calls.append(points.shape)
        return 1 / (1 + np.exp(-(points[:, 0] + points[:, 1])))

    ax = plot_decision_boundary(predict, X, y, resolution=50, title="blobs")
    assert calls == [(2500, 2)]
    assert ax.get_title() == "blobs"
    assert ax.get_xlabel() == "$x_1$" and ax.get_ylabel() == "$x_2$"
    scatters = ax.collections[-2:]
    np.testing.assert_allclose(scatters[0].get_offsets(), X[y == 0])
    np.testing.assert_allclose(scatters[1].get_offsets(), X[y == 1])
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["class 0", "class 1", "boundary (score = 0.5)"]
    # the black boundary contour exists: the score crosses 0.5 inside the grid
    (image,) = ax.get_images()
    scores = image.get_array()
    assert scores.shape == (50, 50)
    assert image.get_clim() == (0.0, 1.0)
    # row 0 is the bottom-left corner of the grid (origin="lower"): score of (x_min, y_min)
    corner = X.min(axis=0) - 0.5
    assert scores[0, 0] == pytest.approx(1 / (1 + np.exp(-corner.sum())))
    lines = [c for c in ax.collections if isinstance(c, ContourSet)]
    assert len(lines) == 1 and not lines[0].filled and list(lines[0].levels) == [0.5]
    assert np.allclose(lines[0].get_edgecolor()[0][:3], 0.0)  # drawn in black
    x_low, x_high = ax.get_xlim()
    assert x_low == pytest.approx(X[:, 0].min() - 0.5) and x_high == pytest.approx(X[:, 0].max() + 0.5)


def test_plot_decision_boundary_accepts_column_scores_and_existing_axes():
    X, y = _blobs()
    fig, ax = plt.subplots()
    out = plot_decision_boundary(lambda p: 3 * p[:, :1], X, y, ax=ax, resolution=20, colorbar=True, threshold=0.0,
                                 value_range=(-1.0, 1.0))
    assert out is ax
    assert len(fig.get_axes()) == 2  # the axes and its colour bar
    image = ax.get_images()[0]
    assert image.get_array().min() == -1.0 and image.get_array().max() == 1.0  # clipped to value_range
    assert ax.get_legend().get_texts()[-1].get_text() == "boundary (score = 0)"
    probability = plot_decision_boundary(lambda p: 1 / (1 + np.exp(-p.sum(axis=1))), X, y, resolution=20, colorbar=True,
                                         value_label="probability of class 1")
    assert probability.get_legend().get_texts()[-1].get_text() == "boundary (probability of class 1 = 0.5)"
    assert probability.figure.get_axes()[-1].get_ylabel() == "probability of class 1"


def test_plot_decision_boundary_errors():
    X, y = _blobs()
    with pytest.raises(TypeError, match="predict must"):
        plot_decision_boundary("model", X, y)
    with pytest.raises(ValueError, match="X must have shape"):
        plot_decision_boundary(lambda p: p[:, 0], X[:, :1], y)
    with pytest.raises(ValueError, match="same length"):
        plot_decision_boundary(lambda p: p[:, 0], X, y[:-1])
    with pytest.raises(ValueError, match="y must hold class labels"):
        plot_decision_boundary(lambda p: p[:, 0], X, y + 2)
    with pytest.raises(ValueError, match="predict must return one score per point"):
        plot_decision_boundary(lambda p: p, X, y, resolution=10)
    with pytest.raises(ValueError, match="resolution must"):
        plot_decision_boundary(lambda p: p[:, 0], X, y, resolution=1)
    with pytest.raises(ValueError, match="value_range must"):
        plot_decision_boundary(lambda p: p[:, 0], X, y, value_range=(1.0, 0.0))


# ----------------------------------------------------------------------------- computational graph


NODES = {
    "x": {"xy": (0, 1), "kind": "input"},
    "w": {"xy": (0, 0), "kind": "input"},
    "mul": {"xy": (2, 0.5), "label": "×"},
    "L": {"xy": (4, 0.5), "kind": "output", "note": "loss"},
}
EDGES = [
    ("x", "mul", ("x", 1.5), -0.25),
    ("w", "mul", "w = 2", None),
    ("mul", "L", 3.0, 1.0),
]


def test_plot_computational_graph_nodes_edges_and_labels():
    ax = plot_computational_graph(NODES, EDGES, title="tiny graph")
    circles = [p for p in ax.patches if isinstance(p, Circle)]
    boxes = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(circles) == 1 and len(boxes) == 3 and len(arrows) == 3
    texts = {t.get_text(): t for t in ax.texts}
    for label in ("x", "w", "×", "L", "loss"):
        assert label in texts
    assert texts["x = 1.5"].get_color() == FORWARD_COLOUR
    assert texts["w = 2"].get_color() == FORWARD_COLOUR
    assert texts["3"].get_color() == FORWARD_COLOUR
    assert texts["← −0.25"].get_color() == BACKWARD_COLOUR  # a true minus sign and an arrow pointing back
    assert texts["← 1"].get_color() == BACKWARD_COLOUR
    assert ax.get_title() == "tiny graph"
    assert not ax.axison


def test_plot_computational_graph_text_sides_and_flipped_edges():
    nodes = {"a": {"xy": (2, 0)}, "b": {"xy": (0, 0)}}
    ax = plot_computational_graph(nodes, [("a", "b", 1.0, 2.0)], legend=False)
    texts = {t.get_text(): t for t in ax.texts}
    assert "2 →" in texts  # the edge runs right to left: the gradient flows back to the right
    assert texts["1"].get_position()[1] > texts["2 →"].get_position()[1]  # forward above, gradient below
    assert len(ax.texts) == 4  # two node labels, two edge labels, no legend


def test_plot_computational_graph_errors():
    with pytest.raises(TypeError, match="nodes must"):
        plot_computational_graph({}, [])
    with pytest.raises(ValueError, match=r"nodes\['x'\] must be a mapping with an 'xy'"):
        plot_computational_graph({"x": {"label": "x"}}, [])
    with pytest.raises(ValueError, match=r"nodes\['x'\]\['kind'\] must be one of"):
        plot_computational_graph({"x": {"xy": (0, 0), "kind": "param"}}, [])
    with pytest.raises(ValueError, match=r"nodes\['x'\]\['xy'\] must have shape"):
        plot_computational_graph({"x": {"xy": (0, 0, 1)}}, [])
    with pytest.raises(ValueError, match=r"edges\[0\] refers to node 'y'"):
        plot_computational_graph({"x": {"xy": (0, 0)}}, [("x", "y", 1, 1)])
    with pytest.raises(ValueError, match=r"edges\[0\] must be"):
        plot_computational_graph({"x": {"xy": (0, 0)}}, [("x", "x")])


# ----------------------------------------------------------------------------- gradient per layer


def test_plot_gradient_per_layer_lines_and_log_axis():
    norms = {"sigmoid": [1e-6, 1e-4, 1e-2], "ReLU": np.array([0.5, 0.0, 0.4, 0.6])}
    ax = plot_gradient_per_layer(norms)
    lines = ax.get_lines()
    assert len(lines) == 2
    np.testing.assert_allclose(lines[0].get_xdata(), [1, 2, 3])
    np.testing.assert_allclose(lines[0].get_ydata(), [1e-6, 1e-4, 1e-2])
    assert np.isnan(lines[1].get_ydata()[1])  # a zero cannot be drawn on a log axis: a gap
    assert ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["sigmoid", "ReLU"]
    assert list(ax.get_xticks()) == [1, 2, 3, 4]
    assert ax.get_xlabel() == "layer (1 = next to the input)"
    assert ax.get_ylabel() == "gradient norm ‖∂L/∂W‖"
    assert lines[0].get_color() == PALETTE["blue"]


def test_plot_gradient_per_layer_linear_axis_keeps_zeros():
    ax = plot_gradient_per_layer({"a": [0.0, 1.0]}, log=False, title="t")
    assert ax.get_yscale() == "linear"
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [0.0, 1.0])
    assert ax.get_title() == "t"


def test_plot_gradient_per_layer_errors():
    with pytest.raises(TypeError, match="norms must"):
        plot_gradient_per_layer([1.0, 2.0])
    with pytest.raises(ValueError, match=r"norms\['a'\] must be 1-dimensional"):
        plot_gradient_per_layer({"a": np.ones((2, 2))})
    with pytest.raises(ValueError, match=r"norms\['a'\] is empty"):
        plot_gradient_per_layer({"a": []})
    with pytest.raises(TypeError, match="ax must"):
        plot_gradient_per_layer({"a": [1.0]}, ax="left")
