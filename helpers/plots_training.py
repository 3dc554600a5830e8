"""Plots for comparing training runs: optimisers, learning-rate schedules and descent paths (lesson 6).

Every function draws on the ``ax`` it is given (or on a new figure), returns the ``Axes`` it drew on,
and applies the course style only inside the call. Runs are given as a mapping ``{name: values}``;
the n-th run gets the n-th colour of the course palette in every function, so the same names in the
same order have the same colours on a loss plot, a schedule plot and a path plot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes

from ._style import PALETTE, course_style, finite_length, log10_floored, mark_divergence, new_axes, place_legend, run_colour
from ._validate import as_float_array

ArrayLike = Sequence[float] | np.ndarray


def _runs(name: str, runs: object) -> dict[str, object]:
    """Check that ``runs`` is a non-empty mapping with string keys and return it as a dict."""
    if not isinstance(runs, Mapping):
        raise TypeError(f"{name} must be a mapping {{name: values}}, got {type(runs).__name__}")
    if not runs:
        raise ValueError(f"{name} must hold at least one run")
    for key in runs:
        if not isinstance(key, str):
            raise TypeError(f"{name} must have string keys (the legend labels), got the key {key!r}")
    return dict(runs)


def _moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of each run of ``window`` consecutive values, shape (len(values) - window + 1,)."""
    cumulative = np.cumsum(np.insert(values, 0, 0.0))
    return (cumulative[window:] - cumulative[:-window]) / window


def plot_optimiser_curves(
    curves: Mapping[str, ArrayLike],
    *,
    ax: Axes | None = None,
    log: bool = True,
    smooth: int = 1,
    xlabel: str = "step",
    ylabel: str = "loss",
    title: str = "Loss during training",
    legend_loc: str = "best",
) -> Axes:
    """Draw one loss curve per run on one axes, by default on a logarithmic loss axis.

    Parameters
    ----------
    curves : mapping {name: array_like of shape (steps,)}
        ``curves[name][k]`` is the loss at step ``k``. The legend shows each name with its final loss, or,
        for a run that holds a non-finite loss, the step where it diverged (its curve ends there with a
        cross).
    ax : Axes, optional
        Where to draw; a new figure is made when omitted.
    log : bool, default True
        Logarithmic loss axis, on which steady convergence is a straight line.
    smooth : int, default 1
        With ``smooth > 1`` each curve is drawn as its moving average over ``smooth`` steps (plotted at
        the last step of each window), over the raw losses drawn faintly; the legend then gives the final
        moving average, and the loss axis is scaled to the averaged curves. Useful for mini-batch losses.
    xlabel, ylabel, title : str
        Axis labels and title.
    legend_loc : str, default "best"
        Where matplotlib puts the legend (e.g. "upper right", "lower left"), or "outside": under the axes.

    Returns
    -------
    Axes
        The axes drawn on.

    Raises
    ------
    TypeError
        If ``curves`` is not a mapping with string keys, or ``legend_loc`` is not a string.
    ValueError
        If ``curves`` or a run is empty, or ``smooth`` is not a positive integer.
    """
    runs = _runs("curves", curves)
    if isinstance(smooth, bool) or not isinstance(smooth, (int, np.integer)) or smooth < 1:
        raise ValueError(f"smooth must be a positive integer (a window length in steps), got {smooth!r}")
    with course_style():
        ax = new_axes(ax, figsize=(7.0, 4.2))
        drawn: list[np.ndarray] = []
        for index, (name, values) in enumerate(runs.items()):
            losses = as_float_array(f"curves[{name!r}]", values, ndim=1)
            if len(losses) == 0:
                raise ValueError(f"curves[{name!r}] must hold at least one loss")
            colour = run_colour(index)
            end = finite_length(losses)
            steps = np.arange(end)
            kept = losses[:end]
            window = min(int(smooth), max(end, 1))
            if window > 1:
                ax.plot(steps, kept, lw=0.8, alpha=0.2, color=colour)
                kept = _moving_average(kept, window)
                steps = steps[window - 1 :]
            if end < len(losses):
                label = f"{name} (diverged at step {end})"
            elif window > 1:
                label = f"{name} (final mean {kept[-1]:.3g})"
            else:
                label = f"{name} (final {losses[-1]:.3g})"
            ax.plot(steps, kept, lw=2.0, color=colour, label=label)
            drawn.append(kept)
            if 0 < end < len(losses):
                mark_divergence(ax, end - 1, losses[end - 1], colour)
        if log:
            ax.set_yscale("log")
        if smooth > 1:
            _fit_limits(ax, np.concatenate(drawn), log)
        ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
        place_legend(ax, legend_loc)
    return ax


def _fit_limits(ax: Axes, values: np.ndarray, log: bool) -> None:
    """Scale the y axis to ``values`` with a margin (in decades on a log axis)."""
    values = values[np.isfinite(values) & ((values > 0) if log else True)]
    if len(values) == 0:
        return
    low, high = float(values.min()), float(values.max())
    if log:
        span = max(np.log10(high / low), 0.1)
        ax.set_ylim(low / 10 ** (0.08 * span), high * 10 ** (0.08 * span))
    else:
        span = max(high - low, 1e-12)
        ax.set_ylim(low - 0.08 * span, high + 0.08 * span)


def plot_lr_schedule(
    schedules: Mapping[str, ArrayLike],
    *,
    ax: Axes | None = None,
    log: bool = False,
    xlabel: str = "step",
    ylabel: str = "learning rate",
    title: str = "Learning-rate schedules",
    legend_loc: str = "upper right",
) -> Axes:
    """Draw the learning rate used at each step, one step-shaped line per schedule.

    Parameters
    ----------
    schedules : mapping {name: array_like of shape (steps,)}
        ``schedules[name][k]`` is the learning rate used by step ``k`` (constant during the step, hence the
        stair-case drawing). Learning rates must be finite and non-negative (positive if ``log``).
    ax : Axes, optional
        Where to draw; a new figure is made when omitted.
    log : bool, default False
        Logarithmic learning-rate axis. On a linear axis, room is left above the curves for the legend.
    xlabel, ylabel, title : str
        Axis labels and title.
    legend_loc : str, default "upper right"
        Where matplotlib puts the legend, or "outside": under the axes.

    Returns
    -------
    Axes
        The axes drawn on.

    Raises
    ------
    TypeError
        If ``schedules`` is not a mapping with string keys.
    ValueError
        If a schedule is empty or holds a learning rate that is not finite and non-negative (positive if ``log``).
    """
    runs = _runs("schedules", schedules)
    highest = 0.0
    with course_style():
        ax = new_axes(ax, figsize=(7.0, 4.2))
        for index, (name, values) in enumerate(runs.items()):
            lrs = as_float_array(f"schedules[{name!r}]", values, ndim=1)
            if len(lrs) == 0:
                raise ValueError(f"schedules[{name!r}] must hold at least one learning rate")
            if not np.all(np.isfinite(lrs)) or np.any(lrs < 0) or (log and np.any(lrs == 0)):
                kind = "positive" if log else "non-negative"
                raise ValueError(f"schedules[{name!r}] must hold finite, {kind} learning rates")
            ax.plot(np.arange(len(lrs)), lrs, lw=2.0, drawstyle="steps-post", color=run_colour(index), label=name)
            highest = max(highest, float(lrs.max()))
        if log:
            ax.set_yscale("log")
        else:
            headroom = 1.05 if legend_loc == "outside" else 1.45
            ax.set_ylim(0.0, headroom * highest if highest > 0 else 1.0)
        ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
        if legend_loc == "outside":
            place_legend(ax, legend_loc, fontsize=9)
        else:
            place_legend(ax, legend_loc, ncol=2 if len(runs) > 2 else 1, fontsize=9)
    return ax


def plot_optimiser_paths(
    xs: ArrayLike,
    ys: ArrayLike,
    losses: np.ndarray,
    paths: Mapping[str, np.ndarray],
    *,
    minimum: tuple[float, float] | None = None,
    ax: Axes | None = None,
    log: bool = True,
    levels: int = 30,
    xlabel: str = "x",
    ylabel: str = "y",
    title: str = "Optimiser paths on the loss surface",
    legend_loc: str = "best",
) -> Axes:
    """Contour a two-parameter loss and draw each optimiser's path on it.

    Parameters
    ----------
    xs : array_like, shape (p,)
        Values of the first parameter on the grid.
    ys : array_like, shape (q,)
        Values of the second parameter on the grid.
    losses : array_like, shape (q, p)
        ``losses[i, j]`` is the loss at ``(xs[j], ys[i])``, the layout of ``np.meshgrid(xs, ys)``.
    paths : mapping {name: array_like of shape (steps, 2)}
        One ``(x, y)`` row per step. Each path ends with a filled circle; the common start is marked
        with a white circle. The view is kept to the grid even if a path leaves it.
    minimum : (x, y), optional
        Marked with a star.
    ax : Axes, optional
        Where to draw; a new figure is made when omitted.
    log : bool
        Contour ``log10(loss)`` (floored eight decades below the largest loss).
    levels : int
        Number of contour levels (at least 2).
    xlabel, ylabel, title : str
        Axis labels and title.
    legend_loc : str, default "best"
        Where matplotlib puts the legend, or "outside": under the axes.

    Returns
    -------
    Axes
        The axes drawn on (a labelled colour bar is added beside it).

    Raises
    ------
    TypeError
        If ``paths`` is not a mapping with string keys, or an array is not numbers.
    ValueError
        If ``paths`` is empty, a shape is wrong, or ``levels`` is not an integer of at least 2.
    """
    xs_arr = as_float_array("xs", xs, ndim=1)
    ys_arr = as_float_array("ys", ys, ndim=1)
    loss_arr = as_float_array("losses", losses, shape=(len(ys_arr), len(xs_arr)))
    runs = _runs("paths", paths)
    checked = {name: as_float_array(f"paths[{name!r}]", path, shape=(None, 2)) for name, path in runs.items()}
    if minimum is not None:
        minimum_arr = as_float_array("minimum", minimum, shape=(2,))
    if isinstance(levels, bool) or not isinstance(levels, (int, np.integer)) or levels < 2:
        raise ValueError(f"levels must be an integer of at least 2, got {levels!r}")
    with course_style():
        ax = new_axes(ax, figsize=(6.5, 5.0))
        values = log10_floored(loss_arr) if log else loss_arr
        filled = ax.contourf(xs_arr, ys_arr, values, levels=levels, cmap="Greys_r", alpha=0.85)
        ax.contour(xs_arr, ys_arr, values, levels=levels, colors="white", linewidths=0.3, alpha=0.6)
        colourbar = ax.figure.colorbar(filled, ax=ax)
        colourbar.set_label("log10(loss)" if log else "loss")
        for index, (name, path) in enumerate(checked.items()):
            colour = run_colour(index)
            if len(path) == 0:
                continue
            ax.plot(path[:, 0], path[:, 1], "-", lw=1.8, color=colour, label=name)
            ax.plot(path[-1, 0], path[-1, 1], "o", ms=7, color=colour, mec="white", mew=1.2)
        starts = [path[0] for path in checked.values() if len(path)]
        if starts:
            ax.plot(*starts[0], "o", ms=9, color="white", mec="black", label="start", zorder=5)
        if minimum is not None:
            ax.plot(*minimum_arr, "*", ms=16, color=PALETTE["yellow"], mec="black", label="minimum", zorder=5)
        ax.set_xlim(xs_arr.min(), xs_arr.max())
        ax.set_ylim(ys_arr.min(), ys_arr.max())
        ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
        ax.grid(False)
        place_legend(ax, legend_loc, fontsize=9, framealpha=0.85, frameon=True)
    return ax
