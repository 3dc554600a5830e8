"""The return contract of every public plot (stated in ``helpers/__init__.py``), checked for each ``plot_*`` name.

The test walks ``helpers.__all__``: a new public plot without a row in ``CASES`` fails, naming it, until it is
given one (its kind and small valid inputs). A single-panel plot takes ``ax=`` and returns that same Axes (and
a new Axes without it); a multi-panel plot returns a Figure. Every axes drawn has a title and x and y labels (a
row of panels sharing one y axis may label it once; axes drawn hidden, a diagram or a picture, need a title
only); every colour bar is labelled. Every plot leaves matplotlib's settings as it found them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

import helpers

AXES, FIGURE = "single panel: takes ax=, returns it", "multi-panel: returns the Figure"


def _bowl() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ms, cs = np.linspace(-1.0, 1.0, 7), np.linspace(0.0, 2.0, 5)
    return ms, cs, ms[None, :] ** 2 + (cs[:, None] - 1.0) ** 2


def _digits(n: int) -> np.ndarray:
    return np.random.default_rng(0).random((n, 28, 28))


def _probabilities(predicted: list[int]) -> np.ndarray:
    probs = np.full((len(predicted), 10), 0.1 / 9)
    probs[np.arange(len(predicted)), predicted] = 0.9
    return probs


def _small_network() -> tuple[Any, Any]:
    import torch
    from torch import nn

    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2), nn.ReLU()), torch.randn(8, 3)


def _value_graph_root() -> Any:
    """``L = a * b + c`` after its backward pass, as nodes with the attributes ``plot_value_graph`` reads."""

    class Node:
        def __init__(self, data: float, grad: float, children: tuple = (), op: str = "", label: str = "") -> None:
            self.data, self.grad, self._prev, self._op, self.label = data, grad, children, op, label

    a, b, c = Node(2.0, -3.0, label="a"), Node(-3.0, 2.0, label="b"), Node(10.0, 1.0, label="c")
    return Node(4.0, 1.0, (Node(-6.0, 1.0, (a, b), "*", "a*b"), c), "+", "L")


def _inputs() -> dict[str, tuple[str, Callable[[], tuple[tuple, dict]]]]:
    """``{plot name: (kind, make)}``, where ``make()`` returns small valid ``(args, kwargs)``."""
    ms, cs, losses = _bowl()
    path = np.array([[1.0, 2.0], [0.5, 1.5], [0.0, 1.0]])
    z = np.linspace(-3.0, 3.0, 31)
    X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    y = np.array([0, 0, 1, 1])
    return {
        # lesson 1
        "plot_fit": (AXES, lambda: (([1.0, 2.0, 3.0], [2.0, 4.5, 6.0], 2.0, 0.5), {})),
        "plot_loss_curve": (AXES, lambda: (({"lr=0.1": [4.0, 2.0, 1.0], "lr=2": [4.0, 40.0, np.inf]},), {})),
        "plot_loss_surface": (AXES, lambda: ((ms, cs, losses), {"path": path})),
        "plot_learning_rates": (FIGURE, lambda: (({0.01: [10.0, 5.0, 2.5], 0.5: [10.0, 1e9, np.nan]},), {})),
        # lesson 2
        "plot_polynomial_fits": (AXES, lambda: (([0.0, 1.0, 2.0], [0.0, 1.0, 4.0], {1: lambda g: 2 * g, 2: lambda g: g**2}), {})),
        "plot_error_vs_degree": (AXES, lambda: (([1, 2, 3], [3.0, 1.0, 0.5], [3.5, 1.2, 2.0], 2), {})),
        # lesson 3
        "plot_activations": (FIGURE, lambda: ((z, {"tanh": (np.tanh(z), 1 - np.tanh(z) ** 2), "ReLU": (np.maximum(z, 0), z > 0)}), {})),
        "plot_decision_boundary": (AXES, lambda: ((lambda points: points[:, 0] * points[:, 1], X, y), {"colorbar": True})),
        "plot_computational_graph": (AXES, lambda: (
            ({"x": {"xy": (0, 0), "kind": "input"}, "sq": {"xy": (1, 0), "label": "²"}, "L": {"xy": (2, 0), "kind": "output"}},
             [("x", "sq", 3.0, 6.0), ("sq", "L", 9.0, 1.0)]), {})),
        "plot_gradient_per_layer": (AXES, lambda: (({"sigmoid": [1e-4, 1e-2, 1.0], "ReLU": [0.5, 0.6, 0.7]},), {})),
        # lesson 4 (your own autograd)
        "plot_value_graph": (AXES, lambda: ((_value_graph_root(),), {})),
        # optimisers
        "plot_optimiser_curves": (AXES, lambda: (({"SGD": [1.0, 0.5, 0.3], "Adam": [1.0, 0.2, np.nan]},), {})),
        "plot_lr_schedule": (AXES, lambda: (({"constant": [0.1] * 4, "step": [0.1, 0.1, 0.01, 0.01]},), {})),
        "plot_optimiser_paths": (AXES, lambda: ((ms, cs, losses, {"SGD": path, "Adam": path[::-1]}), {"minimum": (0.0, 1.0)})),
        # MNIST
        "plot_digit_grid": (AXES, lambda: ((_digits(6), [1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 0]), {"ncols": 3})),
        "plot_confusion_matrix": (AXES, lambda: ((np.array([[5, 1], [2, 7]]),), {})),
        "plot_most_confident_mistakes": (AXES, lambda: ((_digits(3), [1, 2, 3], _probabilities([1, 7, 3])), {})),
        # making training work
        "plot_gradient_flow": (AXES, lambda: (([{"0.weight": 1.0, "2.weight": 0.5}, {"0.weight": 0.8, "2.weight": np.inf}],),
                                              {"threshold": 1.0})),
        "plot_activation_histograms": (FIGURE, lambda: (_small_network(), {})),
        "plot_lr_range_test": (AXES, lambda: ((np.logspace(-4, 0, 20), np.r_[np.linspace(2.0, 0.5, 15), [0.6, 1.0, 3.0, 9.0, np.inf]]),
                                              {"mark": {"lr used": 1e-3}})),
    }


CASES = _inputs()
PUBLIC_PLOTS = sorted(name for name in helpers.__all__ if name.startswith("plot_"))


def _colourbar_axes(ax: Axes) -> bool:
    return hasattr(ax, "_colorbar")


def _unlabelled(figure: Figure) -> list[str]:
    """What is missing on each axes of ``figure``: ``["axes 2 ('sigmoid'): no y label", ...]``."""
    problems = []
    for index, ax in enumerate(figure.axes):
        name = f"axes {index} ({ax.get_title()!r})"
        if _colourbar_axes(ax):
            if not (ax.get_ylabel() or ax.get_xlabel()):
                problems.append(f"colour bar {index}: no label")
            continue
        if not ax.get_title():
            problems.append(f"{name}: no title")
        if not ax.axison:  # a diagram or a picture: its axes are not drawn, so they need no labels
            continue
        if not ax.get_xlabel():
            problems.append(f"{name}: no x label")
        shared = ax.get_shared_y_axes().get_siblings(ax)
        if not any(sibling.get_ylabel() for sibling in shared):
            problems.append(f"{name}: no y label")
    return problems


@pytest.mark.parametrize("name", sorted(set(PUBLIC_PLOTS) | set(CASES)))
def test_every_public_plot_keeps_the_return_contract(name: str) -> None:
    assert name in PUBLIC_PLOTS, f"CASES has a row for {name}, which is not a public plot in helpers.__all__: remove the row"
    assert name in CASES, (
        f"{name} is a public plot without a row in CASES of tests/test_plot_contract.py: add its kind "
        "(single panel or multi-panel) and small valid inputs"
    )
    plot = getattr(helpers, name)
    kind, make = CASES[name]
    takes_ax = "ax" in inspect.signature(plot).parameters
    args, kwargs = make()
    settings = dict(plt.rcParams)
    if kind == AXES:
        assert takes_ax, f"{name} is a single-panel plot, so it must take ax="
        fig, given = plt.subplots()
        drawn = plot(*args, ax=given, **kwargs)
        assert drawn is given, f"{name}(..., ax=ax) must return that same Axes, got {type(drawn).__name__}"
        assert [a for a in fig.axes if not _colourbar_axes(a)] == [given], f"{name} drew outside the axes it was given"
        args, kwargs = make()
        made = plot(*args, **kwargs)
        assert isinstance(made, Axes) and made is not given, f"{name}() without ax must return a new Axes, got {made!r}"
        figures = [fig, made.figure]
    else:
        assert not takes_ax, f"{name} is a multi-panel plot: it returns a Figure and takes no single ax="
        made = plot(*args, **kwargs)
        assert isinstance(made, Figure), f"{name} is a multi-panel plot, so it must return a Figure, got {type(made).__name__}"
        figures = [made]
    assert dict(plt.rcParams) == settings, f"{name} changed matplotlib's global settings (rcParams)"
    for figure in figures:
        assert not (problems := _unlabelled(figure)), f"{name}: " + "; ".join(problems)
