"""Diagnostics for training neural networks: what the gradients and the layers are doing.

Lesson 8 uses these to *see* vanishing and exploding gradients, badly scaled initialisations and a
learning-rate range test. Every function works with any ``torch.nn.Module`` and leaves it as it found
it (hooks are removed, the training/evaluation mode is untouched).

* ``plot_gradient_flow(history)``: gradient norm of each parameter over training steps. It draws
  norms that have already been computed (one ``{name: norm}`` mapping per step); it does not compute
  them, so the lesson's ``grad_norms`` exercise stays the student's.
* ``capture_activations(model, x)`` and ``plot_activation_histograms(model, x)``: the outputs of the
  chosen layers (by default every activation module) recorded by forward hooks during one forward
  pass without gradients, then drawn as one histogram per layer.
* ``suggest_learning_rate(lrs, losses)`` and ``plot_lr_range_test(lrs, losses)``: read the result of
  a learning-rate range test (the test itself is the lesson's exercise).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import nn

from ._style import PALETTE, course_style, finite_length, mark_divergence, new_axes, new_panels
from ._validate import as_float_array, same_length

#: Module types whose outputs ``capture_activations`` records by default.
ACTIVATION_TYPES: tuple[type[nn.Module], ...] = (
    nn.ReLU,
    nn.LeakyReLU,
    nn.PReLU,
    nn.ELU,
    nn.SELU,
    nn.CELU,
    nn.GELU,
    nn.SiLU,
    nn.Mish,
    nn.Sigmoid,
    nn.Tanh,
    nn.Hardtanh,
    nn.Softplus,
)

NormHistory = Sequence[Mapping[str, float]] | Mapping[str, Sequence[float] | np.ndarray]


def _depth_colours(n: int) -> list[tuple[float, float, float, float]]:
    """``n`` colours from dark (first layer) to light (last layer) on the colour-blind-safe cividis map."""
    cmap = plt.get_cmap("cividis")
    return [cmap(0.05 + 0.85 * i / max(n - 1, 1)) for i in range(n)]


def _norm_series(history: NormHistory) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Turn per-step ``{name: norm}`` mappings, or ``{name: norms}``, into ``{name: (steps, norms)}``.

    A parameter missing from some steps' mappings (it had no gradient then) is simply not drawn there.
    """
    if isinstance(history, Mapping):
        if not history:
            raise ValueError("history must hold at least one parameter's norms")
        series = {}
        for name, values in history.items():
            norms = as_float_array(f"history[{name!r}]", values, ndim=1)
            series[str(name)] = (np.arange(len(norms)), norms)
        return series
    if isinstance(history, (str, bytes)) or not isinstance(history, Sequence):
        raise TypeError(
            f"history must be a list of {{name: norm}} mappings (one per step) or a mapping {{name: norms}}, "
            f"got {type(history).__name__}"
        )
    if len(history) == 0:
        raise ValueError("history must hold at least one step")
    steps: dict[str, list[int]] = {}
    values: dict[str, list[float]] = {}
    for step, record in enumerate(history):
        if not isinstance(record, Mapping):
            raise TypeError(f"history[{step}] must be a mapping {{name: norm}}, got {type(record).__name__}")
        for name, norm in record.items():
            steps.setdefault(str(name), []).append(step)
            values.setdefault(str(name), []).append(norm)
    return {
        name: (np.array(steps[name]), as_float_array(f"history (parameter {name!r})", values[name], ndim=1)) for name in steps
    }


def plot_gradient_flow(
    history: NormHistory,
    *,
    ax: Axes | None = None,
    skip_bias: bool = True,
    log: bool = True,
    threshold: float | None = None,
    xlabel: str = "training step",
    ylabel: str = "gradient norm ‖∂L/∂θ‖",
    title: str = "Gradient norm per layer during training",
) -> Axes:
    """Draw the gradient norm of every parameter over training steps, one line per parameter.

    Lines run from dark (first layer) to light (last layer). A non-finite norm ends its line with a
    cross: the gradients overflowed at that step. On the log axis a norm of exactly 0 (a layer that
    receives no gradient at all, e.g. behind dead ReLU units) leaves a gap.

    Parameters
    ----------
    history : list of mappings, or a mapping
        Either one ``{parameter name: norm}`` mapping per step (length ``steps``), as returned by a
        function that reads ``p.grad`` after ``loss.backward()``; or ``{parameter name: norms}`` with
        each ``norms`` of shape (steps,). Norms are already computed: this function only draws them.
    ax : Axes, optional
        Where to draw; a new figure is made when omitted.
    skip_bias : bool
        Leave out parameters whose name ends in ``"bias"`` (their norms follow the weights').
    log : bool
        Logarithmic norm axis: vanishing and exploding gradients differ by orders of magnitude.
    threshold : float, optional
        Draw a dashed horizontal line there (e.g. the ``max_norm`` of gradient clipping).
    xlabel, ylabel, title : str
        Axis labels and title.

    Returns
    -------
    Axes
        The axes drawn on.

    Raises
    ------
    TypeError
        If ``history`` is neither a list of mappings nor a mapping, or a norm is not a number.
    ValueError
        If ``history`` is empty or a parameter's norms are not 1-dimensional.
    """
    series = _norm_series(history)
    if skip_bias:
        series = {name: pair for name, pair in series.items() if not name.endswith("bias")} or series
    if threshold is not None:
        threshold = float(as_float_array("threshold", threshold, ndim=0))
    with course_style():
        ax = new_axes(ax, figsize=(7.0, 4.2))
        for colour, (name, (steps, norms)) in zip(_depth_colours(len(series)), series.items()):
            stop = finite_length(norms)
            shown = np.where(norms[:stop] > 0, norms[:stop], np.nan) if log else norms[:stop]  # a zero is a gap on a log axis
            ax.plot(steps[:stop], shown, lw=1.6, color=colour, label=name)
            if 0 < stop < len(norms):
                mark_divergence(ax, steps[stop - 1], norms[stop - 1], PALETTE["vermillion"])
        if threshold is not None:
            ax.axhline(threshold, ls="--", lw=1.5, color=PALETTE["vermillion"], label=f"threshold {threshold:g}")
        if log:
            ax.set_yscale("log")
        ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
        ax.legend(fontsize=8, ncol=2 if len(series) > 6 else 1, loc="best")
    return ax


def capture_activations(
    model: nn.Module,
    x: torch.Tensor,
    *,
    layer_types: tuple[type[nn.Module], ...] = ACTIVATION_TYPES,
    names: Sequence[str] | None = None,
) -> dict[str, np.ndarray]:
    """Record the output of every sub-module of ``model`` of one of ``layer_types`` during one forward pass.

    The pass runs under ``torch.no_grad()`` in the model's current mode (training or evaluation), and
    the hooks are removed afterwards, even if the forward pass raises.

    Parameters
    ----------
    model : nn.Module
        Any module. Activations applied as functions inside ``forward`` (``F.relu``) are not modules
        and are not seen; pass ``layer_types=(nn.Linear,)`` to record the pre-activations instead.
    x : torch.Tensor
        A batch the model accepts, e.g. shape (batch, 1, 28, 28).
    layer_types : tuple of module classes
        Which modules to record (default: the common activation functions).
    names : sequence of str, optional
        Record only the sub-modules with these names (as in ``model.named_modules()``), whatever their
        type; ``layer_types`` is then ignored.

    Returns
    -------
    dict
        ``{module name: outputs flattened to shape (batch * units,)}`` in the order the modules ran.
        A module called twice appears twice, the second time as ``"name (call 2)"``.

    Raises
    ------
    TypeError
        If ``model`` is not a module, ``x`` not a tensor, ``layer_types`` not a tuple of classes, or ``names``
        not a list of strings.
    ValueError
        If ``names`` holds a name that is not a sub-module, or no sub-module is of ``layer_types``.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if not isinstance(layer_types, tuple) or not layer_types or not all(isinstance(t, type) for t in layer_types):
        raise TypeError("layer_types must be a non-empty tuple of module classes, e.g. (nn.ReLU, nn.Tanh)")
    if names is not None:
        if isinstance(names, str) or not all(isinstance(n, str) for n in names) or not len(names):
            raise TypeError("names must be a non-empty list of module names, e.g. ['act1', 'act3']")
        modules = dict(model.named_modules())
        missing = [n for n in names if n not in modules or not n]
        if missing:
            raise ValueError(f"names holds {missing}, which are not sub-modules of model; it has {[n for n in modules if n]}")
        targets = [(name, module) for name, module in model.named_modules() if name in set(names)]
    else:
        targets = [(name, module) for name, module in model.named_modules() if name and isinstance(module, layer_types)]
    if not targets:
        raise ValueError(
            f"model has no sub-module of layer_types {tuple(t.__name__ for t in layer_types)}; "
            "pass layer_types=(nn.Linear,) for models that apply activations as functions"
        )
    recorded: dict[str, np.ndarray] = {}

    def make_hook(name: str):
        def hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
            key, call = name, 1
            while key in recorded:
                call += 1
                key = f"{name} (call {call})"
            recorded[key] = output.detach().float().reshape(-1).cpu().numpy().copy()

        return hook

    handles = [module.register_forward_hook(make_hook(name)) for name, module in targets]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    return recorded


def plot_activation_histograms(
    model: nn.Module,
    x: torch.Tensor,
    *,
    layer_types: tuple[type[nn.Module], ...] = ACTIVATION_TYPES,
    names: Sequence[str] | None = None,
    bins: int = 40,
    value_range: tuple[float, float] | None = None,
    axes: Sequence[Axes] | np.ndarray | None = None,
    title: str | None = "Layer outputs on one batch",
    xlabel: str = "output value",
    colour: str = PALETTE["blue"],
) -> Figure:
    """One histogram per recorded layer of the values it outputs on the batch ``x``.

    The layers are found and recorded as in ``capture_activations`` (forward hooks, removed afterwards).
    Each panel is titled with the layer's name and the standard deviation of its outputs, and, if there are
    any, the share of outputs that are exactly zero (inactive ReLU units).

    Parameters
    ----------
    model : torch.nn.Module
        Any module.
    x : torch.Tensor
        A batch the model accepts, e.g. shape (batch, 1, 28, 28).
    layer_types : tuple of module classes
        Which modules to record (default: the common activation functions).
    names : sequence of str, optional
        Record only the sub-modules with these names, whatever their type.
    bins : int
        Bins per histogram.
    value_range : (low, high), optional
        The same value axis for every panel (e.g. ``(-1, 1)`` for tanh), so that shrinking or saturating
        layers can be compared at a glance (values outside it are counted in the first or last bin); by
        default each panel fits its own values.
    axes : sequence of Axes, optional
        At least one per layer (e.g. a row of ``plt.subplots``), to draw several models in one figure;
        otherwise a new row of panels is made.
    title : str or None
        The figure's title, when it makes the figure.
    xlabel : str
        The label of every panel's value axis.
    colour : str
        The bars' colour.

    Returns
    -------
    Figure
        The figure holding the panels, one per recorded layer, in the order the layers ran.

    Raises
    ------
    TypeError
        If ``model``, ``x``, ``layer_types``, ``names`` or ``axes`` are of the wrong kind.
    ValueError
        If ``bins`` is not a positive integer, ``value_range`` is not increasing, ``names`` holds a name that is
        not a sub-module, no module is recorded, or ``axes`` holds fewer axes than layers.
    """
    if not isinstance(bins, int) or isinstance(bins, bool) or bins < 1:
        raise ValueError(f"bins must be a positive integer, got {bins!r}")
    if value_range is not None:
        bounds = as_float_array("value_range", value_range, shape=(2,))
        if not bounds[0] < bounds[1]:
            raise ValueError(f"value_range must be (low, high) with low < high, got {tuple(bounds)}")
        value_range = (float(bounds[0]), float(bounds[1]))
    outputs = capture_activations(model, x, layer_types=layer_types, names=names)
    with course_style():
        if axes is None:
            fig, panel_axes = new_panels(len(outputs), (2.4, 2.6))
        else:
            panel_axes = list(np.ravel(np.asarray(axes, dtype=object)))
            if not all(isinstance(a, Axes) for a in panel_axes):
                raise TypeError("axes must be a sequence of matplotlib Axes")
            if len(panel_axes) < len(outputs):
                raise ValueError(f"axes must hold at least {len(outputs)} Axes (one per layer), got {len(panel_axes)}")
            fig = panel_axes[0].figure
        for ax, (name, values) in zip(panel_axes, outputs.items()):
            finite = values[np.isfinite(values)]
            ax.hist(np.clip(finite, *value_range) if value_range else finite, bins=bins, range=value_range, color=colour, alpha=0.85)
            if value_range:
                ax.set_xlim(value_range)
            zero_share = float(np.mean(values == 0.0)) if len(values) else 0.0
            zeros = f", {100 * zero_share:.0f}% zero" if zero_share > 0 else ""
            ax.set_title(f"{name}\nstd {np.std(finite):.2g}{zeros}", fontsize=9, fontweight="normal")
            ax.set_xlabel(xlabel, fontsize=9)
            ax.set_ylabel("count", fontsize=9)
            ax.set_yticks([])
            ax.tick_params(labelsize=8)
        if title and axes is None:
            fig.suptitle(title, fontweight="bold")
    return fig


def _smoothed(losses: np.ndarray, beta: float) -> np.ndarray:
    """Exponential moving average with bias correction (as in the fastai learning-rate finder)."""
    out = np.empty_like(losses)
    average = 0.0
    for i, loss in enumerate(losses):
        average = beta * average + (1.0 - beta) * loss
        out[i] = average / (1.0 - beta ** (i + 1))
    return out


def _range_test_arrays(lrs, losses, beta) -> tuple[np.ndarray, np.ndarray]:
    lrs_arr = as_float_array("lrs", lrs, ndim=1)
    loss_arr = as_float_array("losses", losses, ndim=1)
    same_length(lrs=lrs_arr, losses=loss_arr)
    if len(lrs_arr) < 2:
        raise ValueError(f"lrs must hold at least 2 learning rates, got {len(lrs_arr)}")
    if np.any(lrs_arr <= 0) or not np.all(np.isfinite(lrs_arr)):
        raise ValueError("lrs must be positive finite learning rates")
    if not 0.0 <= float(beta) < 1.0:
        raise ValueError(f"smooth must be in [0, 1), got {beta!r}")
    finite = np.isfinite(loss_arr)
    if not finite.any():
        raise ValueError("losses holds no finite value")
    stop = len(loss_arr) if finite.all() else int(np.argmin(finite))
    return lrs_arr[:stop], loss_arr[:stop]


def suggest_learning_rate(
    lrs: Sequence[float] | np.ndarray,
    losses: Sequence[float] | np.ndarray,
    *,
    smooth: float = 0.8,
    factor: float = 10.0,
) -> float:
    """Suggest a learning rate from a range test: the rate of the lowest smoothed loss, divided by ``factor``.

    At the minimum the loss has just stopped falling, so the rate there is already too large to train
    with; a tenth of it is a common, robust choice.

    Parameters
    ----------
    lrs : array_like, shape (steps,)
        The learning rates of the test, positive (a range test raises them geometrically).
    losses : array_like, shape (steps,)
        ``losses[k]`` was measured at ``lrs[k]``; losses after the first non-finite one are ignored.
    smooth : float
        Weight of the exponential moving average that smooths the losses, in [0, 1).
    factor : float
        The rate at the minimum is divided by this (positive).

    Returns
    -------
    float
        The suggested learning rate.

    Raises
    ------
    ValueError
        If the lengths differ, fewer than 2 rates are given, a rate is not positive and finite, no loss is
        finite, or ``smooth`` or ``factor`` is out of range.
    """
    if float(factor) <= 0:
        raise ValueError(f"factor must be positive, got {factor!r}")
    lrs_arr, loss_arr = _range_test_arrays(lrs, losses, smooth)
    smoothed = _smoothed(loss_arr, float(smooth))
    return float(lrs_arr[int(np.argmin(smoothed))] / float(factor))


def plot_lr_range_test(
    lrs: Sequence[float] | np.ndarray,
    losses: Sequence[float] | np.ndarray,
    *,
    ax: Axes | None = None,
    smooth: float = 0.8,
    factor: float = 10.0,
    mark: Mapping[str, float] | None = None,
    title: str = "Learning-rate range test",
) -> Axes:
    """Plot the loss against the learning rate of a range test, and mark the suggested rate.

    The raw losses are drawn faintly, their smoothed version boldly; the minimum of the smoothed loss and
    ``suggest_learning_rate(...)`` (that rate divided by ``factor``) are marked. The loss axis is cut a
    little above the first loss so that the final blow-up does not squash the curve.

    Parameters
    ----------
    lrs : array_like, shape (steps,)
        The learning rates of the test, positive (a range test raises them geometrically).
    losses : array_like, shape (steps,)
        ``losses[k]`` was measured at ``lrs[k]``; losses after the first non-finite one are not drawn.
    ax : Axes, optional
        Where to draw; a new figure is made when omitted.
    smooth : float
        Weight of the exponential moving average, in [0, 1).
    factor : float
        As in ``suggest_learning_rate``.
    mark : mapping {label: learning rate}, optional
        Labelled vertical lines, e.g. ``{"seed's lr": 1e-3}``.
    title : str
        The title.

    Returns
    -------
    Axes
        The axes drawn on.

    Raises
    ------
    ValueError
        As ``suggest_learning_rate``.
    """
    lrs_arr, loss_arr = _range_test_arrays(lrs, losses, smooth)
    smoothed = _smoothed(loss_arr, float(smooth))
    best = int(np.argmin(smoothed))
    suggestion = suggest_learning_rate(lrs_arr, loss_arr, smooth=smooth, factor=factor)
    with course_style():
        ax = new_axes(ax, figsize=(7.0, 4.2))
        ax.plot(lrs_arr, loss_arr, lw=1, alpha=0.35, color=PALETTE["blue"], label="loss (each step)")
        ax.plot(lrs_arr, smoothed, lw=2.2, color=PALETTE["blue"], label="loss (smoothed)")
        ax.plot(lrs_arr[best], smoothed[best], "o", ms=9, color=PALETTE["orange"], mec="black",
                label=f"minimum at lr = {lrs_arr[best]:.3g}")
        ax.axvline(suggestion, color=PALETTE["green"], lw=2, label=f"suggested lr = {suggestion:.3g}")
        for (label, value), colour in zip((mark or {}).items(), (PALETTE["purple"], PALETTE["vermillion"], PALETTE["sky"])):
            ax.axvline(float(as_float_array(f"mark[{label!r}]", value, ndim=0)), color=colour, ls="--", lw=1.5, label=label)
        ax.set_xscale("log")
        top = max(float(smoothed[0]), float(np.median(loss_arr))) * 1.3
        bottom = float(np.min(loss_arr))
        ax.set_ylim(bottom - 0.05 * (top - bottom), top)
        ax.set(xlabel="learning rate (log scale)", ylabel="training loss", title=title)
        ax.legend(fontsize=9, loc="lower left")
    return ax
