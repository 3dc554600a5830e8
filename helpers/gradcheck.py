"""Gradient checking: compare a hand-derived gradient with central finite differences.

``gradient_check(f, x, analytic_grad)`` perturbs every entry of ``x`` (an array of any shape) by
``± h``, estimates each partial derivative of the scalar function ``f`` by the central difference
``(f(x + h e_i) - f(x - h e_i)) / (2 h)``, and returns a ``GradCheckReport`` that holds the relative
error of every entry and the worst entry (its index, analytic and numerical values). ``print(report)`` gives a one-line
verdict; ``report.passed(tol)`` says whether the largest relative error is at most ``tol``.

The relative error of an entry is ``|a - n| / max(|a|, |n|, floor)``, the habit of Stanford's CS231n
notes: it does not depend on the scale of the gradient, and ``floor`` keeps it finite when both
values are zero. The course accepts a gradient when its largest relative error is at most ``1e-6``
(the default ``tol``, for double precision and ``h = 1e-5``; a right gradient of a smooth function
usually gives about ``1e-10``); above ``1e-2`` the analytic gradient is almost certainly wrong. Larger
errors at a few entries can come from kinks (ReLU, max) within ``h`` of ``x``, or from gradients so
small that round-off dominates the difference quotient.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validate import as_float_array

__all__ = ["GradCheckReport", "gradient_check"]


@dataclass(frozen=True, repr=False)
class GradCheckReport:
    """The outcome of ``gradient_check``: how far the analytic gradient is from the numerical one.

    Attributes
    ----------
    name : str
        What was checked (used in the printed report).
    rel_errors : np.ndarray, shape of the checked array
        Relative error of every entry.
    worst_index : tuple of int
        Index of the entry with the largest relative error (``()`` for a 0-d array).
    worst_analytic, worst_numeric : float
        The analytic and the central-difference value of that entry.
    h : float
        The step used for the differences.
    default_tol : float
        The relative error that ``passed()`` and the printed verdict accept.
    """

    name: str
    rel_errors: np.ndarray
    worst_index: tuple[int, ...]
    worst_analytic: float
    worst_numeric: float
    h: float
    default_tol: float = 1e-6

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the checked array."""
        return self.rel_errors.shape

    @property
    def max_rel_error(self) -> float:
        """The largest relative error over all entries (0.0 for an empty array)."""
        return float(self.rel_errors.max()) if self.rel_errors.size else 0.0

    def passed(self, tol: float | None = None) -> bool:
        """True when every entry's relative error is at most ``tol`` (default: ``default_tol``)."""
        limit = self.default_tol if tol is None else float(tol)
        return bool(self.max_rel_error <= limit)

    def __str__(self) -> str:
        if not self.rel_errors.size:
            return f"{self.name} (shape {self.shape}): empty array, nothing to check"
        verdict = "ok" if self.passed() else "FAILED"
        return (
            f"{self.name} (shape {self.shape}): max relative error {self.max_rel_error:.1e} "
            f"at index {self.worst_index}: analytic {self.worst_analytic:.6g}, numeric {self.worst_numeric:.6g}"
            f"  [{verdict}, tol {self.default_tol:.0e}]"
        )

    def __repr__(self) -> str:
        return (
            f"GradCheckReport(name={self.name!r}, shape={self.shape}, max_rel_error={self.max_rel_error:.3e}, "
            f"worst_index={self.worst_index}, h={self.h:g})"
        )


def gradient_check(
    f: Callable[[np.ndarray], Any],
    x: Any,
    analytic_grad: Any,
    h: float = 1e-5,
    *,
    name: str = "gradient",
    floor: float = 1e-8,
    tol: float = 1e-6,
) -> GradCheckReport:
    """Check ``analytic_grad`` against central differences of the scalar function ``f`` at ``x``.

    Parameters
    ----------
    f : callable
        ``f(x_perturbed) -> float``. It receives a new array of the shape of ``x`` (``x`` itself is never
        modified) and must return one number.
    x : array_like, any shape (d1, ..., dk)
        The point at which the gradient is checked.
    analytic_grad : array_like, shape (d1, ..., dk)
        The gradient to check: ``analytic_grad[i]`` should be ``∂f/∂x[i]``.
    h : float
        Finite-difference step (> 0). ``1e-5`` suits double precision and ``f`` of order 1.
    name : str
        Label used in the report.
    floor : float
        Smallest denominator of the relative error (>= 0), so that two zeros give 0, not NaN.
    tol : float
        Relative error that ``report.passed()`` accepts by default and that the printed verdict uses (the
        course's threshold, 1e-6).

    Returns
    -------
    GradCheckReport
        The relative error of every entry, shape (d1, ..., dk), and the worst entry.

    Raises
    ------
    TypeError
        If ``f`` is not callable, or ``x`` or ``analytic_grad`` are not arrays of numbers.
    ValueError
        If ``analytic_grad`` has another shape than ``x``, ``h`` is not a positive number, ``floor`` is
        negative, or ``f`` does not return a single number.
    """
    if not callable(f):
        raise TypeError(f"f must be a function of one array returning a number, got {type(f).__name__}")
    point = as_float_array("x", x)
    analytic = as_float_array("analytic_grad", analytic_grad)
    if analytic.shape != point.shape:
        raise ValueError(f"analytic_grad must have the shape of x, {point.shape}, got {analytic.shape}")
    step = float(as_float_array("h", h, ndim=0))
    if not np.isfinite(step) or step <= 0:
        raise ValueError(f"h must be a positive number, got {h!r}")
    if floor < 0:
        raise ValueError(f"floor must be >= 0, got {floor!r}")

    def evaluate(at: np.ndarray) -> float:
        value = np.asarray(f(at), dtype=float)
        if value.size != 1:
            raise ValueError(f"f must return a single number, got an array of shape {value.shape}")
        return float(value.reshape(()))

    numeric = np.zeros_like(point)
    for index in np.ndindex(point.shape):
        shifted = point.copy()
        shifted[index] = point[index] + step
        above = evaluate(shifted)
        shifted[index] = point[index] - step
        below = evaluate(shifted)
        numeric[index] = (above - below) / (2.0 * step)

    scale = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), floor)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel_errors = np.where(scale > 0, np.abs(analytic - numeric) / np.where(scale > 0, scale, 1.0), 0.0)
    # A NaN anywhere (in either gradient) is the worst possible error, never a pass.
    rel_errors = np.where(np.isnan(analytic) | np.isnan(numeric), np.inf, rel_errors)
    if rel_errors.size:
        worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(rel_errors)), rel_errors.shape))
        worst_analytic, worst_numeric = float(analytic[worst]), float(numeric[worst])
    else:
        worst, worst_analytic, worst_numeric = (), float("nan"), float("nan")
    return GradCheckReport(
        name=name,
        rel_errors=rel_errors,
        worst_index=worst,
        worst_analytic=worst_analytic,
        worst_numeric=worst_numeric,
        h=step,
        default_tol=float(tol),
    )
