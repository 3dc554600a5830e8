"""Plots for polynomial regression (lesson 2): several fitted curves on one figure, and error against degree.

Like every plot of the course, each function draws on the ``ax`` it is given (or on a new figure),
returns that ``Axes``, applies the course style only inside the call and uses the Okabe–Ito colours.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes

from ._style import CYCLE, PALETTE, course_look, course_style, new_axes
from ._validate import as_float_array, same_length

#: What ``plot_polynomial_fits`` accepts for one fit: a function of the grid, an object with a
#: scikit-learn style ``predict`` method, or the predicted values on the grid.
Fit = Callable[[np.ndarray], Any] | Any | Sequence[float] | np.ndarray


def _values_on_grid(name: str, fit: Fit, grid: np.ndarray) -> np.ndarray:
    """Evaluate one fit on ``grid``, shape (m,), and return its values, shape (m,)."""
    if hasattr(fit, "predict") and callable(fit.predict):
        values = fit.predict(grid[:, None])
    elif callable(fit):
        values = fit(grid)
    else:
        values = fit
    values = as_float_array(name, values)
    if values.shape == (len(grid), 1):
        values = values[:, 0]
    if values.shape != grid.shape:
        raise ValueError(f"{name} must give one value per grid point, shape {grid.shape}, got shape {values.shape}")
    return values


def plot_polynomial_fits(
    x: Sequence[float] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    fits: Mapping[int | str, Fit],
    *,
    grid: Sequence[float] | np.ndarray | None = None,
    true_curve: Callable[[np.ndarray], Any] | Sequence[float] | np.ndarray | None = None,
    x_val: Sequence[float] | np.ndarray | None = None,
    y_val: Sequence[float] | np.ndarray | None = None,
    ax: Axes | None = None,
    xlabel: str = "x",
    ylabel: str = "y",
    title: str = "Polynomial fits of increasing degree",
    ylim: tuple[float, float] | None = None,
    data_label: str = "training data",
) -> Axes:
    """Draw the data as points and one fitted curve per polynomial degree, all on one axes.

    Parameters
    ----------
    x, y : array_like, shape (n,)
        The data the curves were fitted to, drawn as filled points.
    fits : mapping {degree or label: fit}
        One curve per entry, in the order given, labelled "degree d" in the legend for an integer key
        ``d`` and by the key itself for a string key (may be empty: then only the data). A fit is either a
        function taking the grid, shape (m,), and returning the predictions, shape (m,); or a fitted
        scikit-learn estimator, whose ``predict`` is called on the grid as a column, shape (m, 1); or
        the predicted values on the grid themselves, shape (m,).
    grid : array_like, shape (m,), optional
        Where the curves are evaluated; by default 400 points evenly spaced over the range of ``x``
        (and of ``x_val``). Required when a fit is given as values of another length.
    true_curve : function or array_like of shape (m,), optional
        The curve the data were generated from, drawn dashed in black.
    x_val, y_val : array_like, shape (k,), optional
        Validation data, drawn as hollow points.
    ax : Axes, optional
        Where to draw; a new figure is made when omitted.
    xlabel, ylabel, title : str
        Axis labels and title.
    ylim : (low, high), optional
        Limits of the y axis. By default the range of the data (and of the true curve) widened by
        15% on each side, so that a wildly over-fitted curve does not squash the others; it is clipped instead.
    data_label : str
        The legend's name for the training points.

    Returns
    -------
    Axes
        The axes drawn on.

    Raises
    ------
    TypeError
        If ``fits`` is not a mapping, an array is not numbers, or ``ax`` is not an Axes.
    ValueError
        If lengths differ, ``x`` is empty, only one of ``x_val`` and ``y_val`` is given, the grid has fewer
        than two points, or a fit does not give one value per grid point.
    """
    x_arr = as_float_array("x", x, ndim=1)
    y_arr = as_float_array("y", y, ndim=1)
    same_length(x=x_arr, y=y_arr)
    if len(x_arr) == 0:
        raise ValueError("x must hold at least one point")
    if not isinstance(fits, Mapping):
        raise TypeError(f"fits must be a mapping {{degree: fit}}, got {type(fits).__name__}")
    if (x_val is None) != (y_val is None):
        raise ValueError("x_val and y_val must be given together")
    xv_arr = yv_arr = None
    if x_val is not None:
        xv_arr = as_float_array("x_val", x_val, ndim=1)
        yv_arr = as_float_array("y_val", y_val, ndim=1)
        same_length(x_val=xv_arr, y_val=yv_arr)
    if grid is None:
        all_x = x_arr if xv_arr is None else np.concatenate([x_arr, xv_arr])
        grid_arr = np.linspace(all_x.min(), all_x.max(), 400)
    else:
        grid_arr = as_float_array("grid", grid, ndim=1)
        if len(grid_arr) < 2:
            raise ValueError(f"grid must hold at least two points, got {len(grid_arr)}")
    curves = {degree: _values_on_grid(f"fits[{degree!r}]", fit, grid_arr) for degree, fit in fits.items()}
    truth = None if true_curve is None else _values_on_grid("true_curve", true_curve, grid_arr)

    with course_style():
        ax = new_axes(ax, figsize=(8.0, 4.5))
        if truth is not None:
            ax.plot(grid_arr, truth, "--", color=PALETTE["black"], lw=1.6, label="true curve", zorder=2)
        colours = [c for c in CYCLE if c != PALETTE["black"]]
        for i, (degree, values) in enumerate(curves.items()):
            label = degree if isinstance(degree, str) else f"degree {degree}"
            ax.plot(grid_arr, values, color=colours[i % len(colours)], lw=2.2, label=label, zorder=3)
        ax.scatter(x_arr, y_arr, s=30, color=PALETTE["black"], alpha=0.85, label=data_label, zorder=4)
        if xv_arr is not None:
            ax.scatter(xv_arr, yv_arr, s=34, facecolors="white", edgecolors=PALETTE["black"], linewidths=1.3,
                       label="validation data", zorder=4)
        if ylim is None:
            shown = [y_arr] + ([] if yv_arr is None else [yv_arr]) + ([] if truth is None else [truth])
            low, high = min(float(v.min()) for v in shown), max(float(v.max()) for v in shown)
            pad = 0.15 * (high - low) if high > low else 1.0
            ylim = (low - pad, high + pad)
        ax.set_ylim(*ylim)
        span = grid_arr.max() - grid_arr.min()
        ax.set_xlim(grid_arr.min() - 0.02 * span, grid_arr.max() + 0.02 * span)
        course_look(ax)
        ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
        # Outside the axes: over-fitted curves leave no reliably empty corner inside.
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)
    return ax


def plot_error_vs_degree(
    degrees: Sequence[int] | np.ndarray,
    train_errors: Sequence[float] | np.ndarray,
    val_errors: Sequence[float] | np.ndarray,
    chosen: int | None = None,
    *,
    extra_errors: Mapping[str, Sequence[float] | np.ndarray] | None = None,
    ax: Axes | None = None,
    log: bool = True,
    xlabel: str = "polynomial degree",
    ylabel: str = "mean squared error",
    title: str = "Training and validation error against degree",
) -> Axes:
    """Plot the training and validation errors of models of increasing degree, and mark the chosen one.

    Parameters
    ----------
    degrees : array_like of int, shape (k,)
        The polynomial degrees, on the x axis.
    train_errors, val_errors : array_like, shape (k,)
        The error of each degree's model on the training and on the validation data.
    chosen : int, optional
        A degree from ``degrees``: marked by a dotted vertical line and a star on the validation curve.
    extra_errors : mapping {label: array_like of shape (k,)}, optional
        More error curves (for example the error on fresh data), drawn dashed.
    ax : Axes, optional
        Where to draw; a new figure is made when omitted.
    log : bool
        Logarithmic error axis (default), where errors that span decades stay readable.
    xlabel, ylabel, title : str
        Axis labels and title.

    Returns
    -------
    Axes
        The axes drawn on.

    Raises
    ------
    ValueError
        If ``degrees`` is empty, lengths differ, an error is not positive on a log axis, or ``chosen`` is
        not one of ``degrees``.
    TypeError
        If an array is not numbers, or ``ax`` is not an Axes.
    """
    deg = as_float_array("degrees", degrees, ndim=1)
    if len(deg) == 0:
        raise ValueError("degrees must hold at least one degree")
    train = as_float_array("train_errors", train_errors, ndim=1)
    val = as_float_array("val_errors", val_errors, ndim=1)
    same_length(degrees=deg, train_errors=train, val_errors=val)
    extras = {}
    for label, values in (extra_errors or {}).items():
        extras[label] = as_float_array(f"extra_errors[{label!r}]", values, ndim=1)
        same_length(degrees=deg, **{f"extra_errors[{label!r}]": extras[label]})
    if log and (np.any(train <= 0) or np.any(val <= 0) or any(np.any(v <= 0) for v in extras.values())):
        raise ValueError("errors must be positive on a log axis; pass log=False to plot zero or negative errors")
    chosen_index = None
    if chosen is not None:
        matches = np.flatnonzero(deg == float(as_float_array("chosen", chosen, ndim=0)))
        if len(matches) == 0:
            raise ValueError(f"chosen must be one of degrees {deg.astype(int).tolist()}, got {chosen!r}")
        chosen_index = int(matches[0])

    with course_style():
        ax = new_axes(ax, figsize=(7.0, 4.2))
        ax.plot(deg, train, "o-", color=PALETTE["blue"], lw=2, ms=5, label="training error")
        ax.plot(deg, val, "s-", color=PALETTE["vermillion"], lw=2, ms=5, label="validation error")
        extra_colours = [PALETTE["green"], PALETTE["purple"], PALETTE["sky"], PALETTE["orange"]]
        for i, (label, values) in enumerate(extras.items()):
            ax.plot(deg, values, "--", color=extra_colours[i % len(extra_colours)], lw=1.8, label=label)
        if chosen_index is not None:
            ax.axvline(deg[chosen_index], color=PALETTE["black"], ls=":", lw=1.4)
            ax.plot(deg[chosen_index], val[chosen_index], "*", color=PALETTE["orange"], mec=PALETTE["black"], ms=16,
                    label=f"chosen: degree {int(deg[chosen_index])}", zorder=5)
        if log:
            ax.set_yscale("log")
        course_look(ax)
        if np.allclose(deg, np.round(deg)):
            ax.set_xticks(deg)
        ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
        ax.legend(loc="best")
    return ax
