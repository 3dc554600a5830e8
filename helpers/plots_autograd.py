"""A picture of a scalar autograd graph: every value with its data and its gradient (lesson 4).

``plot_value_graph(root)`` draws the graph that ends at ``root`` with matplotlib alone (no Graphviz), from
left (the inputs and parameters) to right (``root``, usually the loss). It reads the nodes by duck typing,
so any micrograd-style value works; the lesson's ``Value`` has exactly these attributes:

* ``.data``  — the number the forward pass computed (a real number);
* ``.grad``  — the gradient of the root with respect to it, as the last backward pass left it (a number);
* ``._prev`` — the values it was computed from (a tuple, list or set; empty for an input or a parameter);
* ``._op``   — the operation that made it, as a short string (``"+"``, ``"*"``, ``"tanh"``; ``""`` for a leaf);
* ``.label`` — optional: a name written on the node (``"w1"``, ``"loss"``).

The function only reads those attributes to lay the graph out and to write them; it computes nothing,
and in particular no gradient: run the backward pass before drawing if the gradients should be filled in.
"""

from __future__ import annotations

from numbers import Real
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from ._style import PALETTE, course_style

__all__ = ["plot_value_graph"]

#: Colours of the forward value and of the gradient written on each node.
DATA_COLOUR: str = PALETTE["blue"]
GRAD_COLOUR: str = PALETTE["vermillion"]
_REQUIRED = ("data", "grad", "_prev", "_op")
_COLUMN_STEP = 1.45  # distance between columns; rows are 1 apart


def _describe(node: Any) -> str:
    return f"{type(node).__name__} {node!r}" if isinstance(node, (int, float, str)) else type(node).__name__


def _check_node(node: Any, where: str) -> None:
    missing = [name for name in _REQUIRED if not hasattr(node, name)]
    if missing:
        raise TypeError(
            f"plot_value_graph: expected {where} to have .data, .grad, ._prev and ._op (like the lesson's Value), "
            f"got {_describe(node)} without .{', .'.join(missing)}. Hint: pass the Value at the end of the graph "
            f"(the loss itself, not loss.data), and build every input of an operation as a Value")
    for name in ("data", "grad"):
        number = getattr(node, name)
        if isinstance(number, bool) or not isinstance(number, (Real, np.number)) or np.iscomplexobj(number):
            raise TypeError(
                f"plot_value_graph: expected a real number in .{name} of {where}, got {_describe(number)}. "
                f"Hint: .data and .grad hold plain floats (a Value's .grad starts at 0.0, not None)")
    if isinstance(node._prev, (str, bytes)) or not hasattr(node._prev, "__iter__"):
        raise TypeError(f"plot_value_graph: expected ._prev of {where} to be a tuple of the values it was computed from, "
                        f"got {_describe(node._prev)}. Hint: an input or a parameter has ._prev = ()")
    if not isinstance(node._op, str):
        raise TypeError(f"plot_value_graph: expected ._op of {where} to be a string such as '+' or 'tanh', "
                        f"got {_describe(node._op)}")


def _collect(root: Any, max_nodes: int) -> tuple[list[Any], dict[int, list[Any]]]:
    """Every node reachable from ``root`` (children before parents) and each node's inputs, in order."""
    _check_node(root, "the root")
    order: list[Any] = []
    inputs: dict[int, list[Any]] = {}
    state: dict[int, str] = {}  # id -> "open" (on the current path) or "done"
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        key = id(node)
        if expanded:
            state[key] = "done"
            order.append(node)
            continue
        if state.get(key) == "done":
            continue
        if state.get(key) == "open":
            raise ValueError(f"plot_value_graph: expected a graph without cycles, got a cycle through a node with "
                             f"data {node.data!r}. Hint: a value's ._prev holds only values computed before it")
        state[key] = "open"
        if len(state) > max_nodes:
            raise ValueError(f"plot_value_graph: expected at most max_nodes={max_nodes} values in the graph, got more. "
                             f"Hint: draw a smaller expression (one example, a smaller network), or raise max_nodes")
        children = list(node._prev)
        for child in children:
            _check_node(child, f"an input of a node made by {node._op!r}")
        inputs[key] = children
        stack.append((node, True))
        for child in reversed(children):
            if state.get(id(child)) != "done":
                if state.get(id(child)) == "open":
                    raise ValueError(f"plot_value_graph: expected a graph without cycles, got a cycle through a node with "
                                     f"data {child.data!r}. Hint: a value's ._prev holds only values computed before it")
                stack.append((child, False))
    return order, inputs


def _layout(order: list[Any], inputs: dict[int, list[Any]]) -> dict[int, tuple[float, float]]:
    """Columns: the root at the right, every other value one column left of its leftmost user (as late as
    possible, so that an input sits next to the operation that uses it). Rows: within a column, values are
    ordered by the mean row of their users (the column to the right is placed first), then centred."""
    depth: dict[int, int] = {}
    for node in order:  # children come before parents: the longest path from a leaf
        depth[id(node)] = 1 + max((depth[id(c)] for c in inputs[id(node)]), default=-1)
    users: dict[int, list[tuple[Any, int]]] = {id(node): [] for node in order}
    for node in order:
        for slot, child in enumerate(inputs[id(node)]):
            users[id(child)].append((node, slot))
    root = order[-1]
    column = {id(root): depth[id(root)]}
    for node in reversed(order[:-1]):  # parents come before children
        column[id(node)] = min(column[id(user)] for user, _ in users[id(node)]) - 1
    shift = min(column.values())
    columns: dict[int, list[Any]] = {}
    for node in reversed(order):
        columns.setdefault(column[id(node)] - shift, []).append(node)
    tallest = max(len(nodes) for nodes in columns.values())
    row: dict[int, float] = {}
    for index in sorted(columns, reverse=True):
        nodes = columns[index]
        if index < max(columns):
            nodes.sort(key=lambda n: (float(np.mean([row[id(u)] for u, _ in users[id(n)]])),
                                      float(np.mean([slot for _, slot in users[id(n)]]))))
        offset = (tallest - len(nodes)) / 2.0
        for i, node in enumerate(nodes):
            row[id(node)] = offset + i
    return {key: (_COLUMN_STEP * (column[key] - shift), float(tallest - 1 - row[key])) for key in column}


def _number(value: Any, fmt: str) -> str:
    return format(float(value) + 0.0, fmt).replace("-", "\N{MINUS SIGN}")  # + 0.0: no "−0"


def plot_value_graph(
    root: Any,
    *,
    ax: Axes | None = None,
    title: str = "The graph of the computation: value and gradient of every node",
    fmt: str = ".4g",
    max_nodes: int = 60,
) -> Axes:
    """Draw the computation that produced ``root``: one box per value, with its data and its gradient.

    Inputs and parameters (values with no ``._prev``) are on the left, ``root`` on the right; each column
    holds the values one operation further from the inputs. A value made by an operation is entered through
    a small circle holding ``._op``, with an arrow from each of its inputs (an input used twice, as in
    ``a + a``, gets two arrows, marked ``×2``). Each box shows the optional ``.label``, then ``data`` in blue
    and ``grad`` in vermillion.

    Parameters
    ----------
    root : Value-like
        The value at the end of the graph (usually the loss). Every node reached from it through ``._prev``
        must have ``.data`` and ``.grad`` (real numbers), ``._prev`` (a tuple, list or set of nodes) and
        ``._op`` (a string); ``.label`` (a string) is optional. Nodes are told apart by identity.
    ax : matplotlib.axes.Axes, optional
        The axes to draw on; a new figure sized to the graph when omitted.
    title : str
        The title of the axes.
    fmt : str
        Format of the numbers (``format(number, fmt)``), with a true minus sign.
    max_nodes : int
        The largest graph drawn; a larger one raises ``ValueError`` (it would be unreadable).

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with one ``FancyBboxPatch`` per value, one ``Circle`` per value made by a named operation,
        and one ``FancyArrowPatch`` per (input, value) pair, its axis lines hidden.

    Raises
    ------
    TypeError
        ``root`` or a node reached from it lacks one of the attributes, or holds something else than a number
        in ``.data`` or ``.grad``.
    ValueError
        The graph has a cycle, or more than ``max_nodes`` values.
    """
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, (int, np.integer)) or max_nodes < 1:
        raise ValueError(f"plot_value_graph: expected max_nodes to be a positive integer, got {max_nodes!r}")
    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(f"plot_value_graph: expected ax to be a matplotlib Axes or None, got {type(ax).__name__}. "
                        f"Hint: pass one panel, e.g. ax=axes[0] of plt.subplots(1, 2)")
    order, inputs = _collect(root, int(max_nodes))
    where = _layout(order, inputs)
    n_columns = 1 + round(max(x for x, _ in where.values()) / _COLUMN_STEP)
    n_rows = 1 + round(max(y for _, y in where.values()))
    box_w, box_h, op_r = 0.8, 0.62, 0.15
    with course_style():
        if ax is None:
            _, ax = plt.subplots(figsize=(min(1.0 + 1.75 * n_columns, 18.0), min(1.3 + 1.0 * n_rows, 14.0)),
                                 layout="constrained")
        for node in order:
            x, y = where[id(node)]
            label = str(getattr(node, "label", "") or "")
            ax.add_patch(FancyBboxPatch((x - box_w / 2, y - box_h / 2), box_w, box_h,
                                        boxstyle="round,pad=0.02,rounding_size=0.06", lw=2.2 if node is root else 1.1,
                                        facecolor="#FCEBDD" if node is root else ("#EAF2F8" if not inputs[id(node)] else "#FFFFFF"),
                                        edgecolor="black", zorder=3))
            lines = [(label, "black", "bold")] if label else []
            lines += [(f"data {_number(node.data, fmt)}", DATA_COLOUR, "normal"),
                      (f"grad {_number(node.grad, fmt)}", GRAD_COLOUR, "normal")]
            for i, (text, colour, weight) in enumerate(lines):
                ax.text(x, y + (len(lines) - 1) * 0.1 - 0.2 * i, text, ha="center", va="center", fontsize=8.5,
                        color=colour, fontweight=weight, zorder=4)
            children = inputs[id(node)]
            if not children:
                continue
            target = np.array([x - box_w / 2, y])
            if node._op:
                centre = np.array([x - box_w / 2 - 0.25, y])
                ax.add_patch(Circle(tuple(centre), op_r, facecolor="#FFFFFF", edgecolor="black", lw=1.1, zorder=3))
                ax.text(*centre, node._op, ha="center", va="center", fontsize=8 if len(node._op) < 4 else 6.5, zorder=4)
                ax.add_patch(FancyArrowPatch(tuple(centre + [op_r, 0.0]), tuple(target), arrowstyle="-|>",
                                             mutation_scale=9, lw=1.0, color="0.3", zorder=2))
                target = centre - [op_r, 0.0]
            seen: dict[int, int] = {}
            for child in children:
                seen[id(child)] = seen.get(id(child), 0) + 1
            for child in children:
                cx, cy = where[id(child)]
                start = np.array([cx + box_w / 2, cy])
                ax.add_patch(FancyArrowPatch(tuple(start), tuple(target), arrowstyle="-|>", mutation_scale=9, lw=1.0,
                                             color="0.3", zorder=1, shrinkA=0, shrinkB=1))
            for key, count in seen.items():
                if count > 1:
                    cx, cy = where[key]
                    ax.text((cx + box_w / 2 + target[0]) / 2, (cy + target[1]) / 2 + 0.08, f"×{count}", fontsize=8,
                            ha="center", color="0.2", zorder=5)
        ax.set_xlim(-box_w / 2 - 0.1, (n_columns - 1) * _COLUMN_STEP + box_w / 2 + 0.1)
        ax.set_ylim(-box_h / 2 - 0.25, (n_rows - 1) + box_h / 2 + 0.1)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(title)
        ax.text(0.0, -0.01, "blue: the value computed forward;  vermillion: the gradient of the root with respect to it",
                transform=ax.transAxes, ha="left", va="top", fontsize=8.5, color="0.25")
    return ax
