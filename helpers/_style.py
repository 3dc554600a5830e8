"""The course's plotting style and the small drawing pieces every plotting module shares (private).

Holds the colour-blind-safe palette (``PALETTE``, public through ``helpers``), the colour cycle and rcParams of
the course style (``course_style``, public), the axes factories (``new_axes`` for a single-panel plot,
``new_panels`` for a row of panels), and the pieces that several plots repeat: the course look on axes made
elsewhere, legend placement, the n-th run's colour, a log scale floored below an exact zero, and a diverged
curve cut at its first non-finite value and marked with a cross.

Nothing here changes matplotlib's global settings: ``course_style`` applies the style inside a ``with``
block only, and no function keeps state between calls.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

#: Okabe–Ito colours, in the order the course uses them (read-only: a lesson cannot recolour every plot).
PALETTE: Mapping[str, str] = MappingProxyType({
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "sky": "#56B4E9",
    "purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
})
#: The colour cycle: the n-th line of a plot, or the n-th run of a comparison, gets ``CYCLE[n]``.
CYCLE: tuple[str, ...] = tuple(PALETTE[k] for k in ("blue", "orange", "green", "vermillion", "purple", "sky", "black"))

#: The rcParams of the course style (applied by ``course_style``).
STYLE: dict[str, object] = {
    "axes.prop_cycle": plt.cycler(color=CYCLE),
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.labelsize": 11,
    "legend.frameon": False,
    "figure.dpi": 100,
    "image.cmap": "viridis",
}


@contextmanager
def course_style() -> Iterator[None]:
    """Apply the course style inside a ``with`` block, and restore the previous settings after it.

    Yields
    ------
    None
        Figures and axes created inside the block use the course's colours, grid and fonts.

    Examples
    --------
    >>> with course_style():
    ...     fig, ax = plt.subplots()
    """
    with plt.style.context(STYLE):
        yield


def new_axes(ax: Axes | None, figsize: tuple[float, float] = (6.0, 4.0)) -> Axes:
    """Return ``ax`` if given, else the axes of a new figure of size ``figsize`` (inches).

    Raises ``TypeError`` naming ``ax`` when it is neither ``None`` nor a matplotlib ``Axes``.
    """
    if ax is not None:
        if not isinstance(ax, Axes):
            raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
        return ax
    _, created = plt.subplots(figsize=figsize, layout="constrained")
    return created


def new_panels(count: int, panel_size: tuple[float, float], **subplots: object) -> tuple[Figure, list[Axes]]:
    """A new figure with one row of ``count`` panels, each ``panel_size`` inches; returns it and its axes."""
    width, height = panel_size
    fig, grid = plt.subplots(1, count, figsize=(width * count, height), layout="constrained", squeeze=False, **subplots)
    return fig, list(grid[0])


def course_look(ax: Axes) -> None:
    """The course look (light grid, no top and right spines), also on axes made outside ``course_style``."""
    ax.grid(True, alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)


def run_colour(index: int) -> str:
    """The colour of the ``index``-th run (0-based): the same run order gives the same colours on every plot."""
    return CYCLE[index % len(CYCLE)]


def place_legend(ax: Axes, loc: str, **kwargs: object) -> None:
    """Draw the legend at ``loc``; ``"outside"`` puts it under the axes, below the x label, in two columns."""
    if not isinstance(loc, str):
        raise TypeError(f"legend_loc must be a string such as 'best' or 'outside', got {type(loc).__name__}")
    if loc == "outside":
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, **kwargs)
    else:
        ax.legend(loc=loc, **kwargs)


def log10_floored(values: np.ndarray, decades: float = 8.0) -> np.ndarray:
    """``log10(values)``, with values below ``decades`` decades under the largest one raised to that floor.

    An exact minimum (a loss of 0) would otherwise stretch a colour scale down to ``log10(1e-300)``.
    """
    floor = max(float(np.nanmax(values)), 1e-300) * 10.0 ** (-decades)
    return np.log10(np.maximum(values, floor))


def finite_length(values: np.ndarray) -> int:
    """How many values come before the first non-finite one (all of them if every value is finite)."""
    finite = np.isfinite(values)
    return len(values) if finite.all() else int(np.argmin(finite))


def mark_divergence(ax: Axes, x: float, y: float, colour: str) -> None:
    """Mark the last finite point ``(x, y)`` of a curve that diverged with a cross."""
    ax.plot(x, y, "x", ms=10, mew=2.5, color=colour)
