"""Helpers for the course "How neural networks learn".

Public API
----------
Data (``helpers.data``)
    ``data_dir()``, ``data_path(name)``: where the course's data files are (``$COURSE_DATA_DIR`` or the
    repository's ``data/``); ``load_house_prices()`` → ``HousePrices`` (lesson 1).
Plots (``helpers.plotting``), all in one colour-blind-safe style (``course_style``, ``PALETTE``)
    ``plot_fit``, ``plot_loss_curve``, ``plot_loss_surface``, ``plot_learning_rates``.
Checks for the exercises' tests (``helpers.checks``)
    ``check_close``, ``check_shape``, ``check_type``, ``check_true``, ``check_finite``, ``CheckFailed``.

No exercise's solution lives here: the helpers load, draw and compare, and the notebooks compute.
"""

from .checks import CheckFailed, check_close, check_finite, check_shape, check_true, check_type
from .data import HousePrices, data_dir, data_path, load_house_prices
from .plotting import PALETTE, course_style, plot_fit, plot_learning_rates, plot_loss_curve, plot_loss_surface

__all__ = [
    "PALETTE",
    "CheckFailed",
    "HousePrices",
    "check_close",
    "check_finite",
    "check_shape",
    "check_true",
    "check_type",
    "course_style",
    "data_dir",
    "data_path",
    "load_house_prices",
    "plot_fit",
    "plot_learning_rates",
    "plot_loss_curve",
    "plot_loss_surface",
]
