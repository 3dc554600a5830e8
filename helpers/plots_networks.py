"""Plots for small neural networks: activations, decision boundaries, computational graphs and
gradient sizes per layer.

Each single-panel plot draws on the ``ax`` it is given (or on a new figure) and returns that ``Axes``;
``plot_activations`` draws one panel per activation and returns the ``Figure``. The course style
(``helpers._style``) is applied only inside each call. The functions draw what
they are given; they compute no gradient themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from ._style import PALETTE, course_style, new_axes, new_panels
from ._validate import as_float_array, same_length

__all__ = [
    "plot_activations",
    "plot_computational_graph",
    "plot_decision_boundary",
    "plot_gradient_per_layer",
]

#: Colours of the two classes of a binary data set (class 0, class 1).
CLASS_COLOURS: tuple[str, str] = (PALETTE["blue"], PALETTE["orange"])
#: Colour of forward values and of gradients on a computational graph.
FORWARD_COLOUR: str = PALETTE["blue"]
BACKWARD_COLOUR: str = PALETTE["vermillion"]


# --------------------------------------------------------------------------------------------------
# Activation functions
# --------------------------------------------------------------------------------------------------


def plot_activations(
    z: Sequence[float] | np.ndarray,
    curves: Mapping[str, tuple[Sequence[float] | np.ndarray, Sequence[float] | np.ndarray]],
    *,
    xlabel: str = "pre-activation z",
    title: str = "Activation functions and their derivatives",
) -> Figure:
    """Draw each activation and its derivative in its own panel, side by side, sharing the z axis.

    Parameters
    ----------
    z : array_like, shape (m,)
        The inputs at which the curves were evaluated, in increasing order.
    curves : mapping {name: (values, derivative)}
        For each activation, ``values = f(z)`` and ``derivative = f'(z)``, both of shape (m,). The
        function is drawn as a solid line, its derivative dashed.
    xlabel : str
        The label of every panel's z axis.
    title : str
        The figure's title (each panel is titled with its activation's name).

    Returns
    -------
    Figure
        One axes per activation, in the order of ``curves``.

    Raises
    ------
    TypeError
        If ``curves`` is not a non-empty mapping of pairs, or an array is not numbers.
    ValueError
        If ``z`` is not 1-dimensional or a curve has not the shape of ``z``.
    """
    z_arr = as_float_array("z", z, ndim=1)
    if not isinstance(curves, Mapping) or not curves:
        raise TypeError("curves must be a non-empty mapping {name: (values, derivative)}")
    prepared = []
    for name, pair in curves.items():
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError(f"curves[{name!r}] must be a pair (values, derivative)")
        values = as_float_array(f"curves[{name!r}] values", pair[0], shape=(len(z_arr),))
        slope = as_float_array(f"curves[{name!r}] derivative", pair[1], shape=(len(z_arr),))
        prepared.append((str(name), values, slope))
    with course_style():
        fig, axes = new_panels(len(prepared), (3.9, 3.4), sharex=True)
        for ax, (name, values, slope) in zip(axes, prepared):
            ax.axhline(0.0, color="0.6", lw=0.8, zorder=1)
            ax.axvline(0.0, color="0.6", lw=0.8, zorder=1)
            ax.plot(z_arr, values, color=PALETTE["blue"], lw=2.4, label=f"{name}(z)", zorder=3)
            ax.plot(z_arr, slope, color=PALETTE["vermillion"], lw=2.2, ls="--", label=f"{name}'(z)", zorder=3)
            ax.set(xlabel=xlabel, ylabel="value", title=name)
            ax.legend(loc="upper left")
        fig.suptitle(title, fontweight="bold")
    return fig


# --------------------------------------------------------------------------------------------------
# Decision boundary
# --------------------------------------------------------------------------------------------------


def _class_cmap() -> LinearSegmentedColormap:
    return LinearSegmentedColormap.from_list("course_classes", [CLASS_COLOURS[0], "#FFFFFF", CLASS_COLOURS[1]])


def plot_decision_boundary(
    predict: Callable[[np.ndarray], Any],
    X: Sequence[Sequence[float]] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    *,
    ax: Axes | None = None,
    threshold: float = 0.5,
    value_range: tuple[float, float] = (0.0, 1.0),
    resolution: int = 200,
    margin: float = 0.5,
    xlabel: str = "$x_1$",
    ylabel: str = "$x_2$",
    title: str = "Decision boundary",
    colorbar: bool = False,
    value_label: str = "score",
) -> Axes:
    """Shade what ``predict`` says over the plane, draw where it crosses ``threshold``, and scatter the data.

    Parameters
    ----------
    predict : callable
        ``predict(points) -> scores`` with ``points`` of shape (m, 2); ``scores`` has shape (m,) or (m, 1)
        (a probability, a regression output or a 0/1 label). Class 1 is predicted where
        ``scores > threshold``.
    X : array_like, shape (n, 2)
        The data points.
    y : array_like, shape (n,)
        Their labels, 0 or 1.
    ax : Axes, optional
        Where to draw; a new figure is made when omitted.
    threshold : float
        The score at which the decision changes; drawn as a black line.
    value_range : (low, high)
        Scores are shaded from blue (``low``, class 0) through white to orange (``high``, class 1),
        and clipped to that range.
    resolution : int
        Grid points per axis.
    margin : float
        How far the grid reaches beyond the data on every side, in the data's units.
    xlabel, ylabel, title : str
        Axis labels and title.
    colorbar : bool
        Add a colour bar of the scores, labelled ``value_label``.
    value_label : str
        What ``predict`` returns, as the legend and the colour bar name it, e.g. ``"probability of class 1"``.

    Returns
    -------
    Axes
        The axes drawn on.

    Raises
    ------
    TypeError
        If ``predict`` is not callable, an array is not numbers, or ``ax`` is not an Axes.
    ValueError
        If ``X`` is not of shape (n, 2), ``y`` holds other labels than 0 and 1, ``resolution`` is below 2,
        ``value_range`` is not increasing, or ``predict`` does not return one score per point.
    """
    if not callable(predict):
        raise TypeError(f"predict must be a function of an (m, 2) array, got {type(predict).__name__}")
    X_arr = as_float_array("X", X, shape=(None, 2))
    y_arr = as_float_array("y", y, ndim=1)
    same_length(X=X_arr, y=y_arr)
    if not np.all(np.isin(y_arr, (0.0, 1.0))):
        raise ValueError("y must hold class labels 0 and 1 only")
    if not isinstance(resolution, (int, np.integer)) or resolution < 2:
        raise ValueError(f"resolution must be an integer >= 2, got {resolution!r}")
    low, high = (float(v) for v in value_range)
    if not low < high:
        raise ValueError(f"value_range must be (low, high) with low < high, got {value_range!r}")
    x_min, y_min = X_arr.min(axis=0) - margin
    x_max, y_max = X_arr.max(axis=0) + margin
    gx, gy = np.meshgrid(np.linspace(x_min, x_max, resolution), np.linspace(y_min, y_max, resolution))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    scores = np.asarray(predict(grid), dtype=float)
    if scores.size != len(grid):
        raise ValueError(f"predict must return one score per point: gave {len(grid)} points, got shape {scores.shape}")
    scores = np.clip(scores.reshape(gx.shape), low, high)
    with course_style():
        ax = new_axes(ax, figsize=(5.5, 4.5))
        shading = ax.imshow(scores, extent=(x_min, x_max, y_min, y_max), origin="lower", cmap=_class_cmap(), vmin=low,
                            vmax=high, alpha=0.85, aspect="auto", interpolation="bilinear", zorder=0)
        if scores.min() < threshold < scores.max():
            ax.contour(gx, gy, scores, levels=[threshold], colors="black", linewidths=2.0, zorder=2)
        for label, colour, marker in ((0, CLASS_COLOURS[0], "o"), (1, CLASS_COLOURS[1], "s")):
            chosen = y_arr == label
            ax.scatter(X_arr[chosen, 0], X_arr[chosen, 1], s=22, c=colour, marker=marker, edgecolors="black",
                       linewidths=0.6, label=f"class {label}", zorder=3)
        ax.plot([], [], color="black", lw=2.0, label=f"boundary ({value_label} = {threshold:g})")
        if colorbar:
            ax.figure.colorbar(shading, ax=ax, label=value_label)
        ax.set(xlabel=xlabel, ylabel=ylabel, title=title, xlim=(x_min, x_max), ylim=(y_min, y_max))
        ax.grid(False)
        ax.legend(loc="best", fontsize=8, framealpha=0.8, frameon=True)
    return ax


# --------------------------------------------------------------------------------------------------
# Computational graph
# --------------------------------------------------------------------------------------------------

_NODE_KINDS = ("input", "op", "output")


def _format(value: Any, fmt: str) -> str | None:
    """``None`` → nothing, a string as it is, a number formatted, a pair ``(name, number)`` as ``name = number``."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        return f"{value[0]} = {_format(value[1], fmt)}"
    return format(float(value), fmt).replace("-", "\N{MINUS SIGN}")


def plot_computational_graph(
    nodes: Mapping[str, Mapping[str, Any]],
    edges: Sequence[Sequence[Any]],
    *,
    ax: Axes | None = None,
    title: str = "Computational graph",
    fmt: str = ".3g",
    node_size: float = 0.32,
    legend: bool = True,
) -> Axes:
    """Draw a computational graph: nodes are operations, edges carry a forward value and a gradient.

    Parameters
    ----------
    nodes : mapping {name: {"xy": (x, y), "label": str, "kind": str, "note": str}}
        ``xy`` (required) places the node. ``label`` (default: the name) is written inside it.
        ``kind`` is ``"input"`` (a rounded box: data or a parameter), ``"op"`` (a circle: an operation,
        the default) or ``"output"`` (a bold box: the loss). ``note`` (optional) is written under the node.
    edges : sequence of (source, target, forward, backward)
        An arrow from node ``source`` to node ``target``. ``forward`` (the value that flows forward) is
        written above the arrow in blue and ``backward`` (the gradient of the loss with respect to that
        value, flowing back) below it in vermillion, after an arrow pointing back. Either may be a
        string, a number (formatted with ``fmt``, with a true minus sign), a pair ``(name, number)``
        (written ``name = number``) or ``None`` (nothing written).
    ax : Axes, optional
        Where to draw; a new figure is made when omitted.
    title : str
        The title (the diagram's axes are hidden, so it has no axis labels).
    fmt : str
        Format of the numbers, e.g. ``".3g"``.
    node_size : float
        Radius of a node, in the units of ``xy``.
    legend : bool
        Write under the diagram what the blue and the vermillion numbers are.

    Returns
    -------
    Axes
        The axes, with one patch per node, one ``FancyArrowPatch`` per edge, and the texts.

    Raises
    ------
    TypeError
        If ``nodes`` is not a non-empty mapping.
    ValueError
        If a node has no ``xy`` or an unknown ``kind``, an edge is not a 4-tuple or names an unknown node,
        or an edge joins two nodes at the same position.
    """
    if not isinstance(nodes, Mapping) or not nodes:
        raise TypeError("nodes must be a non-empty mapping {name: {'xy': (x, y), ...}}")
    positions: dict[str, np.ndarray] = {}
    for name, spec in nodes.items():
        if not isinstance(spec, Mapping) or "xy" not in spec:
            raise ValueError(f"nodes[{name!r}] must be a mapping with an 'xy' position")
        positions[name] = as_float_array(f"nodes[{name!r}]['xy']", spec["xy"], shape=(2,))
        kind = spec.get("kind", "op")
        if kind not in _NODE_KINDS:
            raise ValueError(f"nodes[{name!r}]['kind'] must be one of {_NODE_KINDS}, got {kind!r}")
    checked_edges = []
    for i, edge in enumerate(edges):
        if isinstance(edge, (str, bytes)) or len(edge) != 4:
            raise ValueError(f"edges[{i}] must be (source, target, forward, backward), got {edge!r}")
        source, target, forward, backward = edge
        for end in (source, target):
            if end not in positions:
                raise ValueError(f"edges[{i}] refers to node {end!r}, which is not in nodes")
        checked_edges.append((source, target, _format(forward, fmt), _format(backward, fmt)))

    r = float(node_size)
    with course_style():
        ax = new_axes(ax, figsize=(12.0, 3.8))
        for name, spec in nodes.items():
            x, y = positions[name]
            kind = spec.get("kind", "op")
            label = str(spec.get("label", name))
            if kind == "op":
                patch = Circle((x, y), r, facecolor="#FFFFFF", edgecolor="black", lw=1.6, zorder=3)
            else:
                patch = FancyBboxPatch((x - r, y - 0.75 * r), 2 * r, 1.5 * r, boxstyle="round,pad=0.02,rounding_size=0.1",
                                       facecolor="#EAF2F8" if kind == "input" else "#FCEBDD", edgecolor="black",
                                       lw=2.4 if kind == "output" else 1.2, zorder=3)
            ax.add_patch(patch)
            ax.text(x, y, label, ha="center", va="center", fontsize=13, zorder=4,
                    fontweight="bold" if kind == "output" else "normal")
            if spec.get("note"):
                ax.text(x, y - 1.05 * r, str(spec["note"]), ha="center", va="top", fontsize=9, zorder=4)
        for source, target, forward, backward in checked_edges:
            start, end = positions[source], positions[target]
            vector = end - start
            length = float(np.hypot(*vector))
            if length == 0:
                raise ValueError(f"edge {source!r} -> {target!r} joins two nodes at the same position")
            unit = vector / length
            arrow = FancyArrowPatch(tuple(start + unit * r * 1.05), tuple(end - unit * r * 1.05), arrowstyle="-|>",
                                    mutation_scale=14, lw=1.4, color="0.25", zorder=2)
            ax.add_patch(arrow)
            middle = (start + end) / 2
            normal = np.array([-unit[1], unit[0]])
            if normal[1] < 0 or (normal[1] == 0 and normal[0] < 0):
                normal = -normal  # "above" the arrow, whatever its direction
            angle = float(np.degrees(np.arctan2(unit[1], unit[0])))
            flipped = abs(angle) > 90  # text is turned to read left to right; the arrows then swap sides
            if flipped:
                angle = angle - 180 if angle > 0 else angle + 180
            texts = []
            if forward is not None:
                texts.append((forward, FORWARD_COLOUR, 1.0))
            if backward is not None:
                pointed = f"{backward} \N{RIGHTWARDS ARROW}" if flipped else f"\N{LEFTWARDS ARROW} {backward}"
                texts.append((pointed, BACKWARD_COLOUR, -1.0))
            for text, colour, side in texts:
                ax.text(*(middle + side * 0.14 * normal), text, color=colour, ha="center", va="center", fontsize=9.5,
                        rotation=angle, rotation_mode="anchor", zorder=5,
                        bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.8))
        xy = np.array(list(positions.values()))
        pad = 2.2 * r
        ax.set_xlim(xy[:, 0].min() - pad, xy[:, 0].max() + pad)
        ax.set_ylim(xy[:, 1].min() - pad, xy[:, 1].max() + 0.8 * pad)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(title)
        if legend:
            ax.text(0.0, 0.0, "above an arrow: the value passed forward", color=FORWARD_COLOUR, transform=ax.transAxes,
                    ha="left", va="bottom", fontsize=9.5)
            ax.text(1.0, 0.0, "\N{LEFTWARDS ARROW} below it: the gradient of the loss with respect to that value, passed back",
                    color=BACKWARD_COLOUR, transform=ax.transAxes, ha="right", va="bottom", fontsize=9.5)
    return ax


# --------------------------------------------------------------------------------------------------
# Gradient size per layer
# --------------------------------------------------------------------------------------------------


def plot_gradient_per_layer(
    norms: Mapping[str, Sequence[float] | np.ndarray],
    *,
    ax: Axes | None = None,
    log: bool = True,
    xlabel: str = "layer (1 = next to the input)",
    ylabel: str = "gradient norm ‖∂L/∂W‖",
    title: str = "Size of the gradient, layer by layer",
) -> Axes:
    """Plot one line per network: the size of the gradient of each layer, layer 1 first.

    Parameters
    ----------
    norms : mapping {label: array_like of shape (layers,)}
        ``norms[label][l]`` is the gradient norm of layer ``l + 1``. Networks may have different depths.
        On a log axis, sizes that are not positive are left out (a gap).
    ax : Axes, optional
        Where to draw; a new figure is made when omitted.
    log : bool
        Logarithmic gradient axis (the natural scale: vanishing gradients decay geometrically).
    xlabel, ylabel, title : str
        Axis labels and title.

    Returns
    -------
    Axes
        The axes drawn on.

    Raises
    ------
    TypeError
        If ``norms`` is not a non-empty mapping, or sizes are not numbers.
    ValueError
        If a network's sizes are empty or not 1-dimensional.
    """
    if not isinstance(norms, Mapping) or not norms:
        raise TypeError("norms must be a non-empty mapping {label: gradient norm per layer}")
    markers = ("o", "s", "^", "D", "v", "P", "X")
    with course_style():
        ax = new_axes(ax, figsize=(6.5, 4.2))
        deepest = 0
        for i, (label, values) in enumerate(norms.items()):
            sizes = as_float_array(f"norms[{label!r}]", values, ndim=1)
            if not len(sizes):
                raise ValueError(f"norms[{label!r}] is empty")
            if log:
                sizes = np.where(sizes > 0, sizes, np.nan)
            layers = np.arange(1, len(sizes) + 1)
            ax.plot(layers, sizes, marker=markers[i % len(markers)], lw=2, ms=6, label=str(label))
            deepest = max(deepest, len(sizes))
        if log:
            ax.set_yscale("log")
        ax.set_xticks(np.arange(1, deepest + 1))
        ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
        ax.legend()
    return ax
