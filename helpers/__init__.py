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
    plots (``helpers.plots_mnist``): ``plot_digit_grid``, ``plot_confusion_matrix``, ``plot_most_confident_mistakes``.
Gradient checking (``helpers.gradcheck``)
    ``gradient_check(f, x, analytic_grad)`` → ``GradCheckReport`` (central differences, worst entry).
Checks for the exercises' tests (``helpers.checks``)
    ``check_close``, ``check_shape``, ``check_type``, ``check_true``, ``check_finite``, ``CheckFailed``.

No exercise's solution lives here: the helpers load, draw and compare, and the notebooks compute.
"""

from .checks import CheckFailed, check_close, check_finite, check_shape, check_true, check_type
from .data import HousePrices, data_dir, data_path, load_house_prices
from .gradcheck import GradCheckReport, gradient_check
from .plots_networks import plot_activations, plot_computational_graph, plot_decision_boundary, plot_gradient_per_layer
from .plots_regression import plot_error_vs_degree, plot_polynomial_fits
from .plots_training import plot_lr_schedule, plot_optimiser_curves, plot_optimiser_paths
from .plotting import PALETTE, course_style, plot_fit, plot_learning_rates, plot_loss_curve, plot_loss_surface

__all__ = [
    "PALETTE",
    "CheckFailed",
    "GradCheckReport",
    "HousePrices",
    "check_close",
    "check_finite",
    "check_shape",
    "check_true",
    "check_type",
    "course_style",
    "data_dir",
    "data_path",
    "gradient_check",
    "load_house_prices",
    "plot_activations",
    "plot_computational_graph",
    "plot_decision_boundary",
    "plot_error_vs_degree",
    "plot_fit",
    "plot_gradient_per_layer",
    "plot_learning_rates",
    "plot_loss_curve",
    "plot_lr_schedule",
    "plot_optimiser_curves",
    "plot_optimiser_paths",
    "plot_loss_surface",
    "plot_polynomial_fits",
]

# MNIST needs torch, which takes seconds to import: lessons 1 to 3 should not pay for it.
_LAZY = {
    "MnistData": "mnist",
    "load_mnist": "mnist",
    "plot_confusion_matrix": "plots_mnist",
    "plot_digit_grid": "plots_mnist",
    "plot_most_confident_mistakes": "plots_mnist",
}
__all__ += list(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'helpers' has no attribute {name!r}")
