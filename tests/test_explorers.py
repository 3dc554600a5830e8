"""helpers.explorers: the static figure (what is drawn) and the widget (a slider change re-runs and redraws)."""

from __future__ import annotations

import base64
import html
import warnings

import numpy as np
import pytest

from helpers import explorers
from helpers.explorers import DescentExplorer, descent_explorer, has_widget_frontend

MS = np.linspace(0.0, 10.0, 21)
CS = np.linspace(-5.0, 5.0, 11)
GRID = (MS[None, :] - 5.0) ** 2 + CS[:, None] ** 2 + 1.0


class FakeRun:
    """Stands in for the lesson's gradient_descent: a path and losses that depend on lr and epochs."""

    def __init__(self, fail_after: int | None = None):
        self.calls: list[tuple[float, int]] = []
        self.fail_after = fail_after

    def __call__(self, lr, epochs):
        self.calls.append((lr, epochs))
        if self.fail_after is not None and len(self.calls) > self.fail_after:
            raise ValueError("the student's function broke")
        steps = np.arange(epochs + 1, dtype=float)
        path = np.column_stack([5.0 * (1 - np.exp(-lr * steps)), -2.0 * np.exp(-lr * steps)])
        losses = 10.0 * np.exp(-lr * steps) + 1.0
        return path, losses


def make(run=None, **options):
    return descent_explorer(run or FakeRun(), (MS, CS, GRID), **options)


def surface_and_loss_axes(explorer: DescentExplorer):
    ax_surface, ax_loss = explorer.figure.axes[:2]
    return ax_surface, ax_loss


def path_line(ax):
    return next(line for line in ax.get_lines() if line.get_label() == "descent path")


def test_static_explorer_draws_the_run_on_the_surface_and_its_loss_curve():
    run = FakeRun()
    explorer = make(run, lr=0.02, epochs=50, static=True, xlabel="m", ylabel="c", title="Toy")
    assert run.calls == [(0.02, 50)]
    assert explorer.widget is None and explorer.lr_slider is None
    expected_path, expected_losses = FakeRun()(0.02, 50)
    ax_surface, ax_loss = surface_and_loss_axes(explorer)
    np.testing.assert_allclose(np.column_stack(path_line(ax_surface).get_data()), expected_path)
    assert ax_surface.get_title() == "Toy: lr = 0.02, 50 epochs"
    assert (ax_surface.get_xlabel(), ax_surface.get_ylabel()) == ("m", "c")
    assert ax_surface.get_xlim() == (0.0, 10.0) and ax_surface.get_ylim() == (-5.0, 5.0)
    assert len(ax_surface.collections) >= 1  # the contour of the surface
    np.testing.assert_allclose(ax_loss.get_lines()[0].get_ydata(), expected_losses)
    assert ax_loss.get_title() == f"Loss: final loss {expected_losses[-1]:.3g}"
    assert explorer.redraws == 1


def test_static_explorer_shows_itself_as_one_png_image(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *objs, **kw: shown.extend(objs))
    explorer = make(static=True)
    explorer._ipython_display_()
    (image,) = shown
    assert image.format == "png" and image.data == explorer.png()
    assert image.data.startswith(b"\x89PNG")


def test_a_diverging_run_is_cut_where_it_leaves_the_grid_and_writes_nothing_to_stderr(capfd):
    def diverging(lr, epochs):
        steps = np.arange(epochs + 1, dtype=float)
        growth = (-3.0) ** steps  # overflows to inf: numpy would warn
        path = np.column_stack([5.0 + growth, 0.1 * growth])
        losses = np.exp(50.0 * steps)  # overflows too
        return path, losses

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning would fail the test
        explorer = make(diverging, lr=0.05, epochs=800, static=True)
    ax_surface, ax_loss = surface_and_loss_axes(explorer)
    xs, ys = path_line(ax_surface).get_data()
    # Inside the grid: steps 0 and 1 (m = 6, 2); step 2 (m = 14) is the first outside and the last drawn.
    np.testing.assert_allclose(xs, [6.0, 2.0, 14.0])
    assert ax_loss.get_title() == "Loss: diverged"
    out, err = capfd.readouterr()
    assert err == ""


def test_the_explorer_is_static_under_nbgrader_nbval_and_plain_python(monkeypatch):
    monkeypatch.setattr(explorers, "_ipython_kernel", lambda: True)
    assert has_widget_frontend({"JPY_SESSION_NAME": "lesson.ipynb"})  # JupyterLab, Notebook
    assert has_widget_frontend({"VSCODE_PID": "12"})
    assert not has_widget_frontend({"JPY_SESSION_NAME": "lesson.ipynb", "NBGRADER_EXECUTION": "validate"})
    assert not has_widget_frontend({"JPY_SESSION_NAME": "lesson.ipynb", "COURSE_STATIC_EXPLORERS": "1"})
    assert has_widget_frontend({"JPY_SESSION_NAME": "lesson.ipynb", "COURSE_STATIC_EXPLORERS": "0"})
    assert not has_widget_frontend({})  # nbval, nbconvert --execute: a kernel, but nobody at the sliders
    monkeypatch.setattr(explorers, "_ipython_kernel", lambda: False)
    assert not has_widget_frontend({"JPY_SESSION_NAME": "lesson.ipynb"})
    monkeypatch.undo()
    assert make().static  # pytest is plain Python


def test_moving_a_slider_reruns_descent_and_redraws_with_new_data():
    run = FakeRun()
    explorer = make(run, lr=0.01, epochs=100, static=False)
    assert explorer.lr_slider.min == pytest.approx(-4) and explorer.lr_slider.max == pytest.approx(-1)
    assert (explorer.epochs_slider.min, explorer.epochs_slider.max) == (1, 1000)
    (first,) = explorer.output.outputs
    first_png = base64.b64decode(first["data"]["image/png"])
    first_path = np.column_stack(path_line(surface_and_loss_axes(explorer)[0]).get_data())

    explorer.lr_slider.value = 0.05
    assert run.calls[-1] == (pytest.approx(0.05), 100)
    ax_surface, ax_loss = surface_and_loss_axes(explorer)
    new_path = np.column_stack(path_line(ax_surface).get_data())
    np.testing.assert_allclose(new_path, FakeRun()(0.05, 100)[0])
    assert not np.allclose(new_path, first_path)
    assert ax_surface.get_title().startswith("Gradient descent: lr = 0.05, 100 epochs")
    (second,) = explorer.output.outputs  # the picture is replaced, not appended
    second_png = base64.b64decode(second["data"]["image/png"])
    assert second_png != first_png and second_png == explorer.png()

    explorer.epochs_slider.value = 10
    assert run.calls[-1] == (pytest.approx(0.05), 10)
    assert len(surface_and_loss_axes(explorer)[1].get_lines()[0].get_ydata()) == 11
    assert explorer.redraws == 3
    assert "after 10 epochs" in explorer.status.value


def test_an_error_in_the_students_function_is_shown_next_to_the_sliders():
    explorer = make(FakeRun(fail_after=1), static=False)
    before = explorer.output.outputs
    explorer.lr_slider.value = 0.05  # must not raise: a callback's exception would be lost
    assert "could not draw: ValueError: the student's function broke" in html.unescape(explorer.status.value)
    assert explorer.output.outputs == before


def test_the_widget_mode_displays_the_sliders_and_the_picture_with_a_static_fallback(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *objs, **kw: shown.extend(objs))
    explorer = make(static=False)
    explorer._ipython_display_()
    (bundle,) = shown
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == explorer.widget.model_id
    assert base64.b64decode(bundle["image/png"]) == explorer.png()  # the fallback where widgets cannot be drawn
    assert explorer.output in explorer.widget.children and explorer.status in explorer.widget.children


def test_bad_arguments_and_bad_returns_are_named():
    with pytest.raises(ValueError, match=r"path returned by run\(0.01, 100\) must have shape \(101, 2\)"):
        make(lambda lr, epochs: (np.zeros((epochs, 2)), np.zeros(epochs + 1)))
    with pytest.raises(TypeError, match=r"must return \(path, losses\)"):
        make(lambda lr, epochs: np.zeros((epochs + 1, 2)))
    with pytest.raises(ValueError, match=r"surface losses must have shape \(11, 21\)"):
        descent_explorer(FakeRun(), (MS, CS, GRID.T))
    with pytest.raises(ValueError, match="outside lr_range"):
        make(lr=0.5)
    with pytest.raises(ValueError, match="epochs must be an int from 1 to max_epochs=1000"):
        make(epochs=0)
    with pytest.raises(TypeError, match="run must be a function"):
        descent_explorer("gradient_descent", (MS, CS, GRID))
    with pytest.raises(NotImplementedError):  # a student's stub: the notebook cell shows this error
        make(lambda lr, epochs: (_ for _ in ()).throw(NotImplementedError()))
