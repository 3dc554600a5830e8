"""Helpers for the course "How neural networks learn".

Public API
----------
Data (``helpers.data``)
    ``data_dir()``, ``data_path(name)``: where the course's data files are (``$COURSE_DATA_DIR`` or the
    repository's ``data/``); ``load_house_prices()`` → ``HousePrices`` (lesson 1).
Plots (``helpers.plotting``), all in one colour-blind-safe style (``course_style``, ``PALETTE``)
    ``plot_fit``, ``plot_loss_curve``, ``plot_loss_surface``, ``plot_learning_rates`` (lesson 1);
    ``plot_polynomial_fits``, ``plot_error_vs_degree`` (``helpers.plots_regression``, lesson 2);
    ``plot_activations``, ``plot_computational_graph``, ``plot_decision_boundary``, ``plot_gradient_per_layer``
    (``helpers.plots_networks``, lesson 3);
    ``plot_optimiser_curves``, ``plot_lr_schedule``, ``plot_optimiser_paths`` (``helpers.plots_training``, lesson 4).
MNIST (``helpers.mnist``, lessons 5 and 6; loaded on first use, since it imports torch)
    ``load_mnist()`` → ``MnistData`` (train/validation/test tensors, ``.loader()``, ``.source``);
    ``sealed_images(data)``, ``sealed_labels()``: the 1,000 digits no split holds (lesson 5's final model is
    graded on them; their labels are unreadable where submissions are graded);
    plots (``helpers.plots_mnist``): ``plot_digit_grid``, ``plot_confusion_matrix``, ``plot_most_confident_mistakes``.
Explorers (``helpers.explorers``)
    ``descent_explorer`` (lesson 1): learning-rate (log) and epochs sliders over the student's descent path and
    loss curve; a static figure where nobody can move them (nbgrader, nbval).
Diagnostics (``helpers.diagnostics``, lesson 6)
    ``plot_gradient_flow``, ``capture_activations``, ``plot_activation_histograms``, ``suggest_learning_rate``,
    ``plot_lr_range_test``, ``ACTIVATION_TYPES``.
Gradient checking (``helpers.gradcheck``)
    ``gradient_check(f, x, analytic_grad)`` → ``GradCheckReport`` (central differences, worst entry).
Checks for the exercises' tests (``helpers.checks``)
    ``check_close``, ``check_equal``, ``check_shape``, ``check_type``, ``check_true``, ``check_finite``,
    ``check_loops``, ``check_accuracy``, ``CheckFailed``.

No exercise's solution lives here: the helpers load, draw and compare, and the notebooks compute.
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
    "plot_error_vs_degree": "plots_regression",
    "plot_polynomial_fits": "plots_regression",
    "plot_lr_schedule": "plots_training",
    "plot_optimiser_curves": "plots_training",
    "plot_optimiser_paths": "plots_training",
    "PALETTE": "plotting",
    "course_style": "plotting",
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
