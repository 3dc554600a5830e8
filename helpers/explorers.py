"""Interactive explorers: sliders that re-run the student's own code and redraw its pictures.

In JupyterLab (or Jupyter Notebook, VS Code, Colab) an explorer is a small ipywidgets app: move a slider
and the figure below it is drawn again from a new run of the function it was given. Executed with no one
to move a slider (``nbgrader validate`` and ``autograde``, nbval, ``jupyter nbconvert --execute``, a plain
script) it shows the same figure once, for its starting values, as a static image, and never imports
ipywidgets. ``static=True`` or ``False`` decides by hand; the environment variable
``COURSE_STATIC_EXPLORERS=1`` makes every explorer static.

The explorers compute no exercise's answer: they call the functions they are given and draw with
``helpers.plotting``.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
import sys
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ._style import PALETTE
from ._validate import as_float_array
from .plotting import plot_loss_curve, plot_loss_surface

#: ``run(lr, epochs) -> (path, losses)``: ``path`` has shape (epochs + 1, 2), one ``(m, c)`` row per step
#: (row 0 is the start), and ``losses`` shape (epochs + 1,).
DescentRun = Callable[[float, int], tuple[Any, Any]]

STATIC_ENV = "COURSE_STATIC_EXPLORERS"


def _ipython_kernel() -> bool:
    """Whether this code runs in an IPython kernel (as opposed to a plain interpreter or a terminal IPython)."""
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def has_widget_frontend(environ: Mapping[str, str] | None = None) -> bool:
    """Whether widgets shown now will reach a person who can move them.

    False under nbgrader (``NBGRADER_EXECUTION`` is set while it validates or grades), when
    ``COURSE_STATIC_EXPLORERS`` is set to anything but ``0``, and outside an IPython kernel. In a kernel,
    True when a Jupyter server started it for a notebook (JupyterLab, Notebook: ``JPY_SESSION_NAME``), in
    VS Code (``VSCODE_PID``) and in Colab; False otherwise, e.g. under nbval or ``nbconvert --execute``.
    """
    env = os.environ if environ is None else environ
    if env.get("NBGRADER_EXECUTION") or env.get(STATIC_ENV, "0") not in ("", "0"):
        return False
    if not _ipython_kernel():
        return False
    return bool(env.get("JPY_SESSION_NAME") or env.get("VSCODE_PID") or "google.colab" in sys.modules)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _within(path: np.ndarray, ms: np.ndarray, cs: np.ndarray) -> np.ndarray:
    """The rows of ``path`` up to the first that leaves the grid (or is not finite), plus that one if finite:
    a diverging path is drawn until it leaves the picture, not as a band of lines out to 1e300."""
    with np.errstate(invalid="ignore", over="ignore"):
        inside = (
            np.isfinite(path).all(axis=1)
            & (path[:, 0] >= ms.min()) & (path[:, 0] <= ms.max())
            & (path[:, 1] >= cs.min()) & (path[:, 1] <= cs.max())
        )
    if inside.all():
        return path
    first_out = int(np.argmin(inside))
    keep = first_out + (1 if np.isfinite(path[first_out]).all() else 0)
    return path[:max(keep, 1)] if np.isfinite(path[0]).all() else path[:0]


def _verdict(losses: np.ndarray) -> str:
    finite = losses[np.isfinite(losses)]
    if len(finite) < len(losses) or (len(finite) > 1 and finite[-1] > finite[0]):
        return "diverged"
    return f"final loss {finite[-1]:.3g}"


class DescentExplorer:
    """Gradient descent's path on the loss surface and its loss curve, for a learning rate and a number of
    epochs that two sliders set. Build it with :func:`descent_explorer`.

    ``figure`` is the figure last drawn, ``path`` and ``losses`` what ``run`` last returned; in widget mode
    ``lr_slider``, ``epochs_slider``, ``status`` and ``output`` are the widgets and ``widget`` holds them all
    (all ``None`` when static). ``redraws`` counts the figures drawn.
    """

    def __init__(
        self,
        run: DescentRun,
        surface: tuple[Any, Any, Any],
        *,
        lr: float = 0.01,
        epochs: int = 100,
        lr_range: tuple[float, float] = (1e-4, 1e-1),
        max_epochs: int = 1000,
        xlabel: str = "slope m",
        ylabel: str = "intercept c",
        title: str = "Gradient descent",
        static: bool | None = None,
        loss_label: str | None = None,
    ) -> None:
        if not callable(run):
            raise TypeError(f"run must be a function run(lr, epochs) -> (path, losses), got {type(run).__name__}")
        if not (isinstance(surface, tuple | list) and len(surface) == 3):
            raise TypeError("surface must be a tuple (ms, cs, losses), as plot_loss_surface takes them")
        ms, cs, grid = surface
        self.ms = as_float_array("surface ms", ms, ndim=1)
        self.cs = as_float_array("surface cs", cs, ndim=1)
        self.grid = as_float_array("surface losses", grid, shape=(len(self.cs), len(self.ms)))
        low, high = (float(v) for v in lr_range)
        if not 0 < low < high:
            raise ValueError(f"lr_range must be (low, high) with 0 < low < high, got {lr_range!r}")
        if not low <= lr <= high:
            raise ValueError(f"lr={lr!r} is outside lr_range {lr_range!r}")
        if not (isinstance(epochs, int | np.integer) and 1 <= epochs <= max_epochs):
            raise ValueError(f"epochs must be an int from 1 to max_epochs={max_epochs}, got {epochs!r}")
        self.run, self.lr_range, self.max_epochs = run, (low, high), int(max_epochs)
        self.labels = {"xlabel": xlabel, "ylabel": ylabel, "title": title}
        self.loss_label = loss_label  # the loss and its unit, e.g. "MSE in k€²", on the colour bar and the curve
        self.static = not has_widget_frontend() if static is None else bool(static)
        self.redraws = 0
        self.figure: Figure | None = None
        self._png: bytes | None = None
        self.path = self.losses = np.empty(0)
        self.lr_slider = self.epochs_slider = self.status = self.output = self.widget = None
        # The first run and drawing raise, so that a notebook cell (and nbval, and nbgrader) shows the error.
        self.draw(float(lr), int(epochs))
        if not self.static:
            self._build_widget(float(lr), int(epochs))

    # -- drawing -------------------------------------------------------------------------------------
    def _run(self, lr: float, epochs: int) -> tuple[np.ndarray, np.ndarray]:
        # A diverging run overflows on purpose: keep numpy's warnings off the student's screen.
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            result = self.run(lr, epochs)
        if not (isinstance(result, tuple | list) and len(result) == 2):
            raise TypeError(f"run(lr, epochs) must return (path, losses), got {type(result).__name__}")
        path = as_float_array(f"path returned by run({lr:.3g}, {epochs})", result[0], shape=(epochs + 1, 2))
        losses = as_float_array(f"losses returned by run({lr:.3g}, {epochs})", result[1], shape=(epochs + 1,))
        return path, losses

    def draw(self, lr: float, epochs: int) -> Figure:
        """Run descent with ``lr`` and ``epochs`` and draw a new figure (also kept as ``self.figure``)."""
        path, losses = self._run(lr, epochs)
        figure = Figure(figsize=(11.0, 4.2), dpi=100, layout="constrained")
        ax_surface, ax_loss = figure.subplots(1, 2, width_ratios=[1.25, 1])
        verdict = _verdict(losses)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            shown = _within(path, self.ms, self.cs) if verdict == "diverged" else path
            plot_loss_surface(self.ms, self.cs, self.grid, path=shown, ax=ax_surface,
                              xlabel=self.labels["xlabel"], ylabel=self.labels["ylabel"], loss_label=self.loss_label or "loss",
                              title=f"{self.labels['title']}: lr = {lr:.3g}, {epochs} epochs")
            ax_surface.set(xlim=(self.ms[0], self.ms[-1]), ylim=(self.cs[0], self.cs[-1]))
            plot_loss_curve(losses, ax=ax_loss, title=f"Loss: {verdict}",
                            **({"ylabel": f"loss ({self.loss_label})"} if self.loss_label else {}))
            if verdict == "diverged":
                ax_loss.title.set_color(PALETTE["vermillion"])
        self.figure, self.path, self.losses, self._png = figure, path, losses, None
        self.redraws += 1
        return figure

    def png(self) -> bytes:
        """The current figure as PNG bytes (rendered once per drawing)."""
        if self._png is None:
            self._png = _png(self.figure)
        return self._png

    # -- widgets ---------------------------------------------------------------------------------------
    def _build_widget(self, lr: float, epochs: int) -> None:
        import ipywidgets as widgets  # only when someone can move the sliders

        low, high = self.lr_range
        self.lr_slider = widgets.FloatLogSlider(
            value=lr, base=10, min=math.log10(low), max=math.log10(high), step=0.05, readout_format=".3g",
            description="learning rate", continuous_update=False, style={"description_width": "initial"},
            layout=widgets.Layout(width="420px"),
        )
        self.epochs_slider = widgets.IntSlider(
            value=epochs, min=1, max=self.max_epochs, step=1, description="epochs", continuous_update=False,
            style={"description_width": "initial"}, layout=widgets.Layout(width="420px"),
        )
        self.status = widgets.HTML()
        self.output = widgets.Output()
        self.widget = widgets.VBox([widgets.HBox([self.lr_slider, self.epochs_slider]), self.status, self.output])
        self.widget.add_class("course-explorer")
        self._show_figure()
        self.lr_slider.observe(self._on_change, names="value")
        self.epochs_slider.observe(self._on_change, names="value")

    def _show_figure(self) -> None:
        png = base64.b64encode(self.png()).decode("ascii")
        # Replacing the outputs in one assignment swaps the picture without a blank flash.
        self.output.outputs = (
            {"output_type": "display_data", "data": {"image/png": png, "text/plain": "<descent explorer figure>"}, "metadata": {}},
        )
        self.status.value = f"<span>{_verdict(self.losses)} after {len(self.losses) - 1} epochs</span>"

    def _on_change(self, _change: dict) -> None:
        try:
            self.draw(float(self.lr_slider.value), int(self.epochs_slider.value))
        except Exception as error:  # shown next to the sliders: a callback's traceback would go nowhere useful
            message = html.escape(f"could not draw: {type(error).__name__}: {error}")
            self.status.value = f'<span style="color: {PALETTE["vermillion"]}">{message}</span>'
            return
        self._show_figure()

    # -- display ---------------------------------------------------------------------------------------
    def _ipython_display_(self) -> None:
        from IPython.display import Image, display

        if self.static:
            display(Image(data=self.png(), format="png"))
            return
        # The widget, with the starting figure as a fallback where widgets cannot be drawn (a notebook reopened
        # later, a viewer without a widget manager): frontends that can draw the widget prefer it.
        if not hasattr(self.widget, "_repr_mimebundle_"):  # ipywidgets 7 (as some hosted services still have)
            display(self.widget)
            return
        bundle = dict(self.widget._repr_mimebundle_())
        bundle["image/png"] = base64.b64encode(self.png()).decode("ascii")
        display(bundle, raw=True)


def descent_explorer(run: DescentRun, surface: tuple[Any, Any, Any], **options: Any) -> DescentExplorer:
    """Explore gradient descent with a learning-rate slider (log scale) and an epochs slider.

    As the last line of a cell it shows itself: the widget in JupyterLab, the figure for the starting values
    elsewhere (see :func:`has_widget_frontend`). The first run's errors are raised.

    Parameters
    ----------
    run : callable
        ``run(lr, epochs) -> (path, losses)``, as the lesson's ``gradient_descent`` does: ``path`` of shape
        (epochs + 1, 2), one ``(m, c)`` row per step, and ``losses`` of shape (epochs + 1,).
    surface : (ms, cs, losses)
        The grid that ``plot_loss_surface`` contours: shapes (p,), (q,), (q, p).
    **options
        ``lr`` and ``epochs`` (starting values, default 0.01 and 100), ``lr_range`` (default (1e-4, 0.1)),
        ``max_epochs`` (default 1000), ``xlabel``, ``ylabel``, ``title``, ``loss_label`` (the loss and its unit,
        e.g. ``"MSE in k€²"``, on the colour bar and the loss axis), and ``static`` (default: static unless a
        person can move the sliders).

    Returns
    -------
    DescentExplorer
        The explorer: ``figure``, ``path`` and ``losses`` hold what was drawn last.

    Raises
    ------
    TypeError
        If ``run`` is not callable, ``surface`` is not a triple, or ``run`` does not return ``(path, losses)``.
    ValueError
        If a shape is wrong, ``lr_range`` is not increasing and positive, ``lr`` is outside it, or ``epochs`` is
        not from 1 to ``max_epochs``.
    """
    return DescentExplorer(run, surface, **options)
