"""Helpers for the course "How neural networks learn".

Public API
----------
Data (``helpers.data``)
    ``data_dir()``, ``data_path(name)``: where the course's data files are (``$COURSE_DATA_DIR`` or the
    repository's ``data/``); ``load_house_prices()`` → ``HousePrices`` (lesson 1).
Plots, all in one colour-blind-safe style (``course_style``, ``PALETTE``: lessons colour their own plots with them)
    ``plot_fit``, ``plot_loss_curve``, ``plot_loss_surface``, ``plot_learning_rates`` (``helpers.plotting``, lesson 1);
    ``plot_polynomial_fits``, ``plot_error_vs_degree`` (``helpers.plots_regression``, lesson 2);
    ``plot_activations``, ``plot_computational_graph``, ``plot_decision_boundary``, ``plot_gradient_per_layer``
    (``helpers.plots_networks``, lesson 3);
    ``plot_optimiser_curves``, ``plot_lr_schedule``, ``plot_optimiser_paths`` (``helpers.plots_training``, lesson 6);
    ``plot_value_graph`` (``helpers.plots_autograd``, lesson 4 "Your own autograd"): a scalar autograd graph
    with each value's data and gradient, read by duck typing from ``.data``, ``.grad``, ``._prev``, ``._op``.

    The return contract of every ``plot_*`` function: a single-panel plot takes ``ax=`` (a matplotlib ``Axes``
    to draw on; a new figure when omitted) and returns that same ``Axes``; a multi-panel plot
    (``plot_learning_rates``, ``plot_activations``, ``plot_activation_histograms``) returns its ``Figure``.
    Every axes drawn has a title and x and y labels (a row of panels sharing one y axis labels it once, on
    its first panel; a diagram or picture drawn with its axes hidden has a title only), and every colour
    bar is labelled. ``tests/test_plot_contract.py`` checks it for every ``plot_*`` name below.
    The shared style pieces (palette, rcParams, axes factories) live in the private ``helpers._style``.
MNIST (``helpers.mnist``, lessons 7 and 8; loaded on first use, since it imports torch)
    ``load_mnist()`` → ``MnistData`` (train/validation/test tensors, ``.loader()``, ``.source``);
    ``sealed_images(data)``, ``sealed_labels()``: the 1,000 digits no split holds (lesson 7's final model is
    graded on them; their labels are unreadable where submissions are graded); ``DigitNotes(data)``: which
    validation, test and sealed digits each model, or any model after it first ran, was given (``.given(model, split,
    any_model=False)``), and any model at all since a mark (``.looks(split)``, ``.mark()``; ``.paused()``);
    plots (``helpers.plots_mnist``): ``plot_digit_grid``, ``plot_confusion_matrix``, ``plot_most_confident_mistakes``.
Explorers (``helpers.explorers``)
    ``descent_explorer`` (lesson 1): learning-rate (log) and epochs sliders over the student's descent path and
    loss curve; a static figure where nobody can move them (nbgrader, nbval).
Diagnostics (``helpers.diagnostics``, lesson 8)
    ``plot_gradient_flow``, ``capture_activations``, ``plot_activation_histograms``, ``suggest_learning_rate``,
    ``plot_lr_range_test``, ``ACTIVATION_TYPES``.
Gradient checking (``helpers.gradcheck``)
    ``gradient_check(f, x, analytic_grad)`` → ``GradCheckReport`` (central differences, worst entry).
Checks for the exercises' tests (``helpers.checks``)
    ``check_close``, ``check_equal``, ``check_shape``, ``check_type``, ``check_true``, ``check_finite``,
    ``check_loops``, ``check_libraries``, ``check_accuracy``, ``CheckFailed``.

No exercise's solution lives here: the helpers load, draw and compare, and the notebooks compute.
Lessons import only from this root (``from helpers import ...``); every public function and class has a
numpydoc docstring (Parameters, Returns with shapes, Raises where it raises).
"""

from __future__ import annotations

import importlib
from typing import Any

# Each name is imported from its module on first use: `import helpers` stays instant, and a lesson
# pays only for what it uses (matplotlib for plots, torch for MNIST).
_EXPORTS: dict[str, str] = {
    "CheckFailed": "checks",
    "check_accuracy": "checks",
    "check_close": "checks",
    "check_equal": "checks",
    "check_libraries": "checks",
    "check_loops": "checks",
    "check_finite": "checks",
    "check_shape": "checks",
    "check_true": "checks",
    "check_type": "checks",
    "HousePrices": "data",
    "data_dir": "data",
    "data_path": "data",
    "load_house_prices": "data",
    "ACTIVATION_TYPES": "diagnostics",
    "capture_activations": "diagnostics",
    "plot_activation_histograms": "diagnostics",
    "plot_gradient_flow": "diagnostics",
    "plot_lr_range_test": "diagnostics",
    "suggest_learning_rate": "diagnostics",
    "descent_explorer": "explorers",
    "GradCheckReport": "gradcheck",
    "gradient_check": "gradcheck",
    "DigitNotes": "mnist",
    "MnistData": "mnist",
    "load_mnist": "mnist",
    "sealed_images": "mnist",
    "sealed_labels": "mnist",
    "plot_confusion_matrix": "plots_mnist",
    "plot_digit_grid": "plots_mnist",
    "plot_most_confident_mistakes": "plots_mnist",
    "plot_activations": "plots_networks",
    "plot_computational_graph": "plots_networks",
    "plot_decision_boundary": "plots_networks",
    "plot_gradient_per_layer": "plots_networks",
    "plot_value_graph": "plots_autograd",
    "plot_error_vs_degree": "plots_regression",
    "plot_polynomial_fits": "plots_regression",
    "plot_lr_schedule": "plots_training",
    "plot_optimiser_curves": "plots_training",
    "plot_optimiser_paths": "plots_training",
    "PALETTE": "_style",
    "course_style": "_style",
    "plot_fit": "plotting",
    "plot_learning_rates": "plotting",
    "plot_loss_curve": "plotting",
    "plot_loss_surface": "plotting",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'helpers' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
