"""Tests for helpers.plots_autograd.plot_value_graph: what it draws from a graph of values, and its errors."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from helpers import plot_value_graph
from helpers.plots_autograd import DATA_COLOUR, GRAD_COLOUR


class Node:
    """The attributes plot_value_graph reads, and nothing else (no arithmetic, no backward)."""

    def __init__(self, data, grad=0.0, children=(), op="", label=""):
        self.data, self.grad, self._prev, self._op, self.label = data, grad, tuple(children), op, label


def _neuron():
    """L = (w*x + b)**2 at w = 0.5, x = 2, b = -3 with its gradients: 6 values, 3 of them computed."""
    w, x, b = Node(0.5, -8.0, label="w"), Node(2.0, -2.0, label="x"), Node(-3.0, -4.0, label="b")
    u = Node(1.0, -4.0, (w, x), "*")
    z = Node(-2.0, -4.0, (u, b), "+", label="z")
    return Node(4.0, 1.0, (z,), "**2", label="L"), (w, x, b, u, z)


def _texts(ax):
    return [t.get_text() for t in ax.texts]


def test_one_box_per_value_one_circle_per_operation_one_arrow_per_input():
    root, _ = _neuron()
    ax = plot_value_graph(root, title="a neuron")
    boxes = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
    circles = [p for p in ax.patches if isinstance(p, Circle)]
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(boxes) == 6 and len(circles) == 3
    # one arrow per (input, value) pair, plus one from each operation's circle to its box
    assert len(arrows) == 5 + 3
    assert ax.get_title() == "a neuron"
    assert sorted(t for t in _texts(ax) if t in {"*", "+", "**2"}) == ["*", "**2", "+"]
    assert not ax.axison
    plt.close("all")


def test_every_value_shows_its_data_and_grad_in_their_colours_and_its_label():
    root, _ = _neuron()
    ax = plot_value_graph(root)
    texts = {t.get_text(): t for t in ax.texts}
    for data, grad in ((0.5, "\N{MINUS SIGN}8"), (2, "\N{MINUS SIGN}2"), (4, "1")):
        assert f"data {data:g}" in texts
        assert f"grad {grad}" in texts
    assert texts["data 0.5"].get_color() == DATA_COLOUR
    assert texts["grad \N{MINUS SIGN}8"].get_color() == GRAD_COLOUR
    assert {"w", "x", "b", "z", "L"} <= set(texts)
    plt.close("all")


def test_layout_leaves_left_root_right_and_columns_by_distance():
    root, (w, x, b, u, z) = _neuron()
    ax = plot_value_graph(root)
    centre = {}
    for patch in ax.patches:
        if isinstance(patch, FancyBboxPatch):
            centre[round(patch.get_x() + patch.get_width() / 2, 6)] = centre.get(round(patch.get_x() + patch.get_width() / 2, 6), 0) + 1
    columns = sorted(centre)
    assert [centre[c] for c in columns] == [2, 2, 1, 1]  # (w, x), (u, b), z, L: b sits next to the + that uses it
    plt.close("all")


def test_a_value_used_twice_gets_two_arrows_marked_x2_and_is_drawn_once():
    a = Node(3.0, 2.0, label="a")
    root = Node(6.0, 1.0, (a, a), "+", label="a + a")
    ax = plot_value_graph(root)
    assert len([p for p in ax.patches if isinstance(p, FancyBboxPatch)]) == 2
    assert len([p for p in ax.patches if isinstance(p, FancyArrowPatch)]) == 3
    assert "×2" in _texts(ax)
    plt.close("all")


def test_draws_on_the_given_axes_and_returns_it_and_reads_without_changing():
    root, nodes = _neuron()
    before = [(n.data, n.grad, n._prev, n._op) for n in (root, *nodes)]
    fig, axes = plt.subplots(1, 2)
    assert plot_value_graph(root, ax=axes[1]) is axes[1]
    assert not axes[0].patches
    assert [(n.data, n.grad, n._prev, n._op) for n in (root, *nodes)] == before
    plt.close(fig)


def test_a_leaf_alone_and_a_negative_zero():
    ax = plot_value_graph(Node(-0.0, -0.0))
    assert "data 0" in _texts(ax) and "grad 0" in _texts(ax)
    plt.close("all")


def test_a_set_of_children_and_numpy_numbers_are_accepted():
    import numpy as np

    a, b = Node(np.float64(1.5)), Node(np.float32(2.0), grad=np.float64(0.25))
    root = Node(3.5, 1.0, (a, b), "+")
    root._prev = {a, b}
    ax = plot_value_graph(root)
    assert len([p for p in ax.patches if isinstance(p, FancyBboxPatch)]) == 3
    plt.close("all")


@pytest.mark.parametrize(
    ("root", "error", "message"),
    [
        (3.0, TypeError, r"expected the root to have \.data, \.grad, \._prev and \._op .* got float 3\.0 .*Hint: pass the Value"),
        (Node(1.0, None), TypeError, r"expected a real number in \.grad of the root, got NoneType.*Hint"),
        (Node("1.0"), TypeError, r"expected a real number in \.data of the root, got str '1\.0'"),
        (Node(True), TypeError, r"expected a real number in \.data"),
        (Node(1.0, 0.0, (Node(1.0), 2.0), "+"), TypeError, r"expected an input of a node made by '\+' to have .* got float 2\.0"),
    ],
)
def test_bad_nodes_say_what_was_expected_and_what_came(root, error, message):
    with pytest.raises(error, match=message):
        plot_value_graph(root)


def test_op_must_be_a_string_and_prev_a_collection():
    bad_op = Node(1.0)
    bad_op._op = None
    with pytest.raises(TypeError, match=r"expected \._op of the root to be a string"):
        plot_value_graph(bad_op)
    bad_prev = Node(1.0)
    bad_prev._prev = 5
    with pytest.raises(TypeError, match=r"expected \._prev of the root to be a tuple"):
        plot_value_graph(bad_prev)


def test_a_cycle_is_refused():
    a = Node(1.0)
    b = Node(2.0, 0.0, (a,), "exp")
    a._prev, a._op = (b,), "log"
    with pytest.raises(ValueError, match="expected a graph without cycles"):
        plot_value_graph(b)
    loop = Node(1.0, 0.0, (), "+")
    loop._prev = (loop,)
    with pytest.raises(ValueError, match="expected a graph without cycles"):
        plot_value_graph(loop)


def test_too_large_a_graph_and_bad_arguments_are_refused():
    node = Node(0.0)
    for i in range(70):
        node = Node(float(i), 0.0, (node,), "+")
    with pytest.raises(ValueError, match=r"expected at most max_nodes=60 values in the graph, got more. Hint"):
        plot_value_graph(node)
    assert plot_value_graph(node, max_nodes=100) is not None
    with pytest.raises(ValueError, match="max_nodes to be a positive integer"):
        plot_value_graph(node, max_nodes=0)
    with pytest.raises(TypeError, match="ax to be a matplotlib Axes"):
        plot_value_graph(node, ax="left")
    plt.close("all")


def test_no_gradient_is_computed_and_the_style_is_restored():
    before = dict(plt.rcParams)
    root, nodes = _neuron()
    for n in nodes:
        n.grad = 0.0
    ax = plot_value_graph(root)
    assert all(n.grad == 0.0 for n in nodes)
    assert sum(t.get_text() == "grad 0" for t in ax.texts) == 5
    assert dict(plt.rcParams) == before
    plt.close("all")
