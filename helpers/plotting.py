"""Lesson 1's plots: data with a fitted line, loss curves, a loss surface with a descent path, and learning
rates side by side.

Each single-panel plot draws on the ``ax`` it is given (or on a new figure) and returns that ``Axes``;
``plot_learning_rates`` draws one panel per learning rate and returns the ``Figure``. The course style
(``helpers._style``: Okabe–Ito colours, which stay distinguishable with every common colour-vision
deficiency) is applied only inside each call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._style import PALETTE, course_style, finite_length, log10_floored, mark_divergence, new_axes, new_panels
from ._validate import as_float_array, same_length


def plot_fit(
    x: Sequence[float] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    m: float,
    c: float,
    *,
    ax: Axes | None = None,
    xlabel: str = "x",
    ylabel: str = "y",
    title: str = "Data and fitted line",
    label: str | None = None,
) -> Axes:
    """Scatter the data ``(x, y)`` and draw the line ``y = m x + c`` over its range.

    Parameters
    ----------
    x, y : array_like, shape (n,)
        The data, drawn as points.
    m, c : float
        Slope and intercept of the line.
    ax : Axes, optional
        Where to draw; a new figure is made when omitted.
    xlabel, ylabel, title : str
        Axis labels (with units, e.g. ``"size (m²)"``) and title.
    label : str, optional
        The line's name in the legend (default: its equation).

    Returns
    -------
    Axes
        The axes drawn on.

    Raises
    ------
    TypeError
        If an argument is not numbers, or ``ax`` is not an Axes.
    ValueError
        If ``x`` and ``y`` are not 1-dimensional of the same length, or ``m`` or ``c`` is not a single number.
    """
    x_arr = as_float_array("x", x, ndim=1)
    y_arr = as_float_array("y", y, ndim=1)
    same_length(x=x_arr, y=y_arr)
    m_val = float(as_float_array("m", m, ndim=0))
    c_val = float(as_float_array("c", c, ndim=0))
    with course_style():
        ax = new_axes(ax)
        ax.scatter(x_arr, y_arr, s=22, color=PALETTE["blue"], alpha=0.8, label="data", zorder=2)
        grid = np.linspace(x_arr.min(), x_arr.max(), 100)
        line_label = label if label is not None else f"y = {m_val:.4g} x + {c_val:.4g}"
        ax.plot(grid, m_val * grid + c_val, color=PALETTE["vermillion"], lw=2.2, label=line_label, zorder=3)
        ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
        ax.legend()
    return ax


def plot_loss_curve(
    history: Sequence[float] | np.ndarray | Mapping[str, Sequence[float] | np.ndarray],
    *,
    ax: Axes | None = None,
    log: bool = True,
    xlabel: str = "epoch",
    ylabel: str = "loss (MSE)",
    title: str = "Loss during training",
) -> Axes:
    """Plot one loss history, or several given as ``{label: history}``, on one axes.

    Non-finite losses (a diverged run) end the curve, and its last finite point is marked with a cross.

    Parameters
    ----------
    history : array_like of shape (epochs,), or mapping {label: array_like of shape (epochs,)}
        ``history[k]`` is the loss after epoch ``k``. Several runs are drawn in the course's colours and
        named in the legend.
    ax : Axes, optional
        Where to draw; a new figure is made when omitted.
    log : bool
        Logarithmic loss axis, where steady convergence shows as a straight line.
    xlabel, ylabel, title : str
        Axis labels and title.

    Returns
    -------
    Axes
        The axes drawn on.

    Raises
    ------
    ValueError
        If ``history`` is an empty mapping or a history is not 1-dimensional.
    TypeError
        If a history is not numbers, or ``ax`` is not an Axes.
    """
    curves = dict(history) if isinstance(history, Mapping) else {"": history}
    if not curves:
        raise ValueError("history must hold at least one loss curve")
    with course_style():
        ax = new_axes(ax)
        for label, values in curves.items():
            losses = as_float_array(f"history[{label!r}]" if label else "history", values, ndim=1)
            last = finite_length(losses)
            (line,) = ax.plot(np.arange(last), losses[:last], lw=2, label=label or None)
            if 0 < last < len(losses):
                mark_divergence(ax, last - 1, losses[last - 1], line.get_color())
        if log:
            ax.set_yscale("log")
        ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
        if any(curves):
            ax.legend()
    return ax


def plot_loss_surface(
    ms: Sequence[float] | np.ndarray,
    cs: Sequence[float] | np.ndarray,
    losses: np.ndarray,
    *,
    path: Sequence[tuple[float, float]] | np.ndarray | None = None,
    ax: Axes | None = None,
    xlabel: str = "slope m",
    ylabel: str = "intercept c",
    title: str = "Loss surface and descent path",
    levels: int = 25,
    log: bool = True,
    loss_label: str = "loss",
) -> Axes:
    """Contour the loss over a grid of parameters and draw a descent path on it.

    Parameters
    ----------
    ms : array_like, shape (p,)
        Slopes of the grid (x axis).
    cs : array_like, shape (q,)
        Intercepts of the grid (y axis).
    losses : array_like, shape (q, p)
        ``losses[i, j]`` is the loss at ``m = ms[j]``, ``c = cs[i]`` (the layout of ``np.meshgrid(ms, cs)``).
    path : array_like, shape (k, 2), optional
        One ``(m, c)`` row per step; its start is marked with a circle and its end with a star.
    ax : Axes, optional
        Where to draw; a new figure is made when omitted.
    xlabel, ylabel, title : str
        Axis labels and title.
    levels : int
        Number of contour levels.
    log : bool
        Contour ``log10(loss)`` (floored eight decades below the largest loss, so an exact 0 is drawn).
    loss_label : str
        Names the loss on the colour bar, with its unit, e.g. ``"MSE in k€²"``.

    Returns
    -------
    Axes
        The axes drawn on (a labelled colour bar is added beside it).

    Raises
    ------
    ValueError
        If ``losses`` is not of shape (q, p) or ``path`` not of shape (k, 2).
    TypeError
        If an argument is not numbers, or ``ax`` is not an Axes.
    """
    ms_arr = as_float_array("ms", ms, ndim=1)
    cs_arr = as_float_array("cs", cs, ndim=1)
    loss_arr = as_float_array("losses", losses, shape=(len(cs_arr), len(ms_arr)))
    path_arr = None if path is None else as_float_array("path", path, shape=(None, 2))
    with course_style():
        ax = new_axes(ax, figsize=(6.0, 4.5))
        # An exact minimum has loss 0: floor the logarithm eight decades below the largest loss.
        values = log10_floored(loss_arr) if log else loss_arr
        filled = ax.contourf(ms_arr, cs_arr, values, levels=levels, cmap="viridis")
        ax.contour(ms_arr, cs_arr, values, levels=levels, colors="white", linewidths=0.4, alpha=0.5)
        colorbar = ax.figure.colorbar(filled, ax=ax)
        colorbar.set_label(f"log10({loss_label})" if log else loss_label)
        if path_arr is not None and len(path_arr):
            ax.plot(path_arr[:, 0], path_arr[:, 1], "-", color=PALETTE["orange"], lw=2, label="descent path")
            ax.plot(*path_arr[0], "o", color="white", mec="black", ms=8, label="start")
            ax.plot(*path_arr[-1], "*", color=PALETTE["vermillion"], mec="black", ms=14, label="end")
            ax.legend(loc="best")
        ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
        ax.grid(False)
    return ax


def plot_learning_rates(
    runs: Mapping[float, Sequence[float] | np.ndarray],
    *,
    xlabel: str = "epoch",
    ylabel: str = "loss (MSE)",
    title: str = "Learning rates side by side",
    diverged_above: float | None = None,
) -> Figure:
    """Draw one loss curve per learning rate, side by side, sharing the loss axis (log scale).

    A run whose history holds a non-finite loss, or (when ``diverged_above`` is given) a loss above that
    value, is titled "diverged" in vermillion; the others say "converged" with their final loss.

    Parameters
    ----------
    runs : mapping {learning rate: array_like of shape (epochs,)}
        Each learning rate's loss history, one panel each, in the order given.
    xlabel, ylabel : str
        Axis labels (the loss axis is labelled once, on the first panel: the panels share it).
    title : str
        The figure's title.
    diverged_above : float, optional
        A loss above this counts as diverged.

    Returns
    -------
    Figure
        One axes per learning rate.

    Raises
    ------
    TypeError
        If ``runs`` is not a non-empty mapping, or a history is not numbers.
    ValueError
        If a history is not 1-dimensional.
    """
    if not isinstance(runs, Mapping) or not runs:
        raise TypeError("runs must be a non-empty mapping {learning rate: loss history}")
    with course_style():
        fig, axes = new_panels(len(runs), (3.6, 3.4), sharey=True)
        for ax, (lr, values) in zip(axes, runs.items()):
            losses = as_float_array(f"runs[{lr!r}]", values, ndim=1)
            finite = losses[np.isfinite(losses)]
            diverged = len(finite) < len(losses) or (diverged_above is not None and bool(np.any(finite > diverged_above)))
            colour = PALETTE["vermillion"] if diverged else PALETTE["blue"]
            ax.plot(np.arange(len(finite)), finite, lw=2, color=colour)
            ax.set_yscale("log")
            verdict = f"diverged after {len(losses) - 1} epochs" if diverged else f"final loss {finite[-1]:.3g}"
            ax.set_title(f"lr = {lr:g}\n{verdict}", color=colour, fontsize=11)
            ax.set_xlabel(xlabel)
        axes[0].set_ylabel(ylabel)
        fig.suptitle(title, fontweight="bold")
    return fig
