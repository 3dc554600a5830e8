"""Tests for helpers.diagnostics: what is drawn, what is returned, and that bad input is refused by name."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.colors import to_hex
from torch import nn

from helpers.diagnostics import (
    capture_activations,
    plot_activation_histograms,
    plot_gradient_flow,
    plot_lr_range_test,
    suggest_learning_rate,
)
from helpers.plotting import PALETTE


def _model() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3))


def _hook_count(model: nn.Module) -> int:
    return sum(len(m._forward_hooks) for m in model.modules())


# --- plot_gradient_flow -------------------------------------------------------------------------


def test_gradient_flow_from_list_of_steps_draws_one_line_per_weight():
    history = [{"fc1.weight": 1e-3 * (k + 1), "fc1.bias": 5.0, "fc2.weight": 0.5} for k in range(4)]
    ax = plot_gradient_flow(history, title="T")
    lines = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert [line.get_label() for line in lines] == ["fc1.weight", "fc2.weight"]  # biases skipped by default
    np.testing.assert_allclose(lines[0].get_ydata(), [1e-3, 2e-3, 3e-3, 4e-3])
    np.testing.assert_allclose(lines[0].get_xdata(), [0, 1, 2, 3])
    assert ax.get_yscale() == "log"
    assert ax.get_title() == "T"
    assert ax.get_xlabel() == "training step" and "gradient norm" in ax.get_ylabel()


def test_gradient_flow_from_mapping_keeps_bias_when_asked_and_draws_threshold():
    ax = plot_gradient_flow({"a.weight": [1.0, 2.0], "a.bias": [0.1, 0.2]}, skip_bias=False, threshold=1.5, log=False)
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["a.weight", "a.bias", "threshold 1.5"]
    assert ax.get_lines()[-1].get_ydata()[0] == pytest.approx(1.5)
    assert to_hex(ax.get_lines()[-1].get_color()) == PALETTE["vermillion"].lower()
    assert ax.get_yscale() == "linear"


def test_gradient_flow_first_layer_darker_than_last():
    ax = plot_gradient_flow({"l1.weight": [1.0], "l2.weight": [1.0], "l3.weight": [1.0]})
    brightness = [sum(matplotlib.colors.to_rgb(line.get_color())) for line in ax.get_lines()]
    assert brightness[0] < brightness[1] < brightness[2]


def test_gradient_flow_stops_at_overflow_and_marks_it():
    ax = plot_gradient_flow({"w.weight": [1.0, 10.0, np.inf, np.nan]})
    line, cross = ax.get_lines()
    np.testing.assert_allclose(line.get_ydata(), [1.0, 10.0])
    assert cross.get_marker() == "x"


def test_gradient_flow_missing_parameter_in_a_step_is_a_gap():
    ax = plot_gradient_flow([{"w.weight": 1.0}, {"w.weight": 2.0, "v.weight": 3.0}])
    assert [line.get_label() for line in ax.get_lines()] == ["w.weight", "v.weight"]


def test_gradient_flow_zero_norm_is_a_gap_not_an_overflow():
    ax = plot_gradient_flow({"w.weight": [1.0, 0.0, 2.0]})
    (line,) = ax.get_lines()
    ydata = np.asarray(line.get_ydata(), dtype=float)
    assert ydata[0] == 1.0 and np.isnan(ydata[1]) and ydata[2] == 2.0
    linear = plot_gradient_flow({"w.weight": [1.0, 0.0, 2.0]}, log=False)
    np.testing.assert_allclose(linear.get_lines()[0].get_ydata(), [1.0, 0.0, 2.0])


def test_gradient_flow_draws_on_given_axes():
    _, ax = plt.subplots()
    assert plot_gradient_flow({"w.weight": [1.0, 2.0]}, ax=ax) is ax


@pytest.mark.parametrize(
    ("history", "error", "name"),
    [
        ([], ValueError, "history"),
        ({}, ValueError, "history"),
        ("fc1", TypeError, "history"),
        ([{"w": 1.0}, 3.0], TypeError, "history[1]"),
        ({"w.weight": [[1.0, 2.0]]}, ValueError, "history['w.weight']"),
        ({"w.weight": ["a"]}, TypeError, "history['w.weight']"),
    ],
)
def test_gradient_flow_rejects_bad_history(history, error, name):
    with pytest.raises(error, match=name.replace("[", r"\[").replace("]", r"\]")):
        plot_gradient_flow(history)


def test_gradient_flow_rejects_bad_threshold_and_ax():
    with pytest.raises(TypeError, match="threshold"):
        plot_gradient_flow({"w.weight": [1.0]}, threshold="high")
    with pytest.raises(TypeError, match="ax"):
        plot_gradient_flow({"w.weight": [1.0]}, ax="here")


# --- capture_activations / plot_activation_histograms ---------------------------------------------


def test_capture_activations_records_each_activation_and_removes_hooks():
    model = _model()
    x = torch.randn(7, 2, 3)
    outputs = capture_activations(model, x)
    assert list(outputs) == ["2", "4"]
    assert outputs["2"].shape == (7 * 5,) and outputs["4"].shape == (7 * 4,)
    expected = torch.relu(model[1](x.flatten(1))).reshape(-1).detach().numpy()
    np.testing.assert_allclose(outputs["2"], expected, rtol=1e-6)
    assert _hook_count(model) == 0
    assert model.training  # mode untouched


def test_capture_activations_other_layer_types_and_eval_mode_kept():
    model = _model().eval()
    outputs = capture_activations(model, torch.randn(3, 6), layer_types=(nn.Linear,))
    assert list(outputs) == ["1", "3", "5"]
    assert outputs["5"].shape == (9,)
    assert not model.training


def test_capture_activations_by_name_any_type():
    model = _model()
    outputs = capture_activations(model, torch.randn(3, 6), names=["4", "3"])
    assert list(outputs) == ["3", "4"]  # in the order the modules ran
    assert outputs["3"].shape == (12,)
    assert _hook_count(model) == 0
    with pytest.raises(ValueError, match="names"):
        capture_activations(model, torch.randn(3, 6), names=["act9"])
    with pytest.raises(TypeError, match="names"):
        capture_activations(model, torch.randn(3, 6), names="2")


def test_capture_activations_module_called_twice():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)
            self.act = nn.Tanh()

        def forward(self, x):
            return self.act(self.fc(self.act(x)))

    outputs = capture_activations(Twice(), torch.randn(2, 3))
    assert list(outputs) == ["act", "act (call 2)"]


def test_capture_activations_removes_hooks_when_forward_fails():
    model = _model()
    with pytest.raises(RuntimeError):
        capture_activations(model, torch.randn(2, 99))
    assert _hook_count(model) == 0


def test_capture_activations_bad_input():
    with pytest.raises(TypeError, match="model"):
        capture_activations("net", torch.zeros(1, 6))
    with pytest.raises(TypeError, match="x must"):
        capture_activations(_model(), np.zeros((1, 6)))
    with pytest.raises(TypeError, match="layer_types"):
        capture_activations(_model(), torch.zeros(1, 6), layer_types=nn.ReLU)
    with pytest.raises(ValueError, match="layer_types"):
        capture_activations(_model(), torch.zeros(1, 6), layer_types=(nn.Sigmoid,))


def test_activation_histograms_one_panel_per_layer():
    model = _model()
    fig = plot_activation_histograms(model, torch.randn(16, 6), title="Histograms")
    axes = fig.get_axes()
    assert len(axes) == 2
    assert axes[0].get_title().startswith("2\nstd") and "% zero" in axes[0].get_title()  # ReLU: zeros counted
    assert "zero" not in axes[1].get_title()  # tanh: no exact zeros, nothing said
    assert len(axes[0].patches) == 40
    assert sum(p.get_height() for p in axes[1].patches) == 16 * 4
    assert fig._suptitle.get_text() == "Histograms"
    assert axes[0].get_xlabel() == "output value" and axes[0].get_ylabel() == "count"
    assert _hook_count(model) == 0


def test_activation_histograms_on_given_axes():
    fig, axes = plt.subplots(2, 3)
    out = plot_activation_histograms(_model(), torch.randn(4, 6), axes=axes[1], bins=5)
    assert out is fig
    assert len(axes[1][0].patches) == 5 and len(axes[1][1].patches) == 5
    assert len(axes[1][2].patches) == 0 and len(axes[0][0].patches) == 0


def test_activation_histograms_common_value_range_and_names():
    model = nn.Sequential(nn.Linear(6, 50), nn.Tanh(), nn.Linear(50, 50), nn.Tanh())
    nn.init.normal_(model[2].weight, 0.0, 5.0)
    fig = plot_activation_histograms(model, torch.randn(32, 6), names=["3"], value_range=(-1, 1), bins=10)
    (ax,) = fig.get_axes()
    assert ax.get_xlim() == (-1.0, 1.0)
    assert len(ax.patches) == 10
    assert ax.patches[0].get_x() == pytest.approx(-1.0)
    assert sum(p.get_height() for p in ax.patches) == 32 * 50  # values at the bounds are counted, not dropped


def test_activation_histograms_bad_input():
    fig, axes = plt.subplots(1, 1, squeeze=False)
    with pytest.raises(ValueError, match="axes"):
        plot_activation_histograms(_model(), torch.randn(4, 6), axes=axes[0])
    with pytest.raises(TypeError, match="axes"):
        plot_activation_histograms(_model(), torch.randn(4, 6), axes=["a", "b"])
    with pytest.raises(ValueError, match="bins"):
        plot_activation_histograms(_model(), torch.randn(4, 6), bins=0)
    with pytest.raises(ValueError, match="value_range"):
        plot_activation_histograms(_model(), torch.randn(4, 6), value_range=(1, -1))
    with pytest.raises(ValueError, match="value_range"):
        plot_activation_histograms(_model(), torch.randn(4, 6), value_range=(1, 2, 3))


# --- learning-rate range test ----------------------------------------------------------------------


def _range_test_curve():
    lrs = np.geomspace(1e-4, 10.0, 51)
    losses = 2.3 - 2.0 / (1.0 + np.exp(-(np.log10(lrs) + 2.5) * 3)) + np.where(lrs > 0.5, (lrs - 0.5) * 10, 0.0)
    return lrs, losses


def test_suggest_learning_rate_is_tenth_of_smoothed_minimum():
    lrs, losses = _range_test_curve()
    beta = 0.5
    average, smoothed = 0.0, []
    for i, loss in enumerate(losses):
        average = beta * average + (1 - beta) * loss
        smoothed.append(average / (1 - beta ** (i + 1)))
    expected = lrs[int(np.argmin(smoothed))] / 10
    assert suggest_learning_rate(lrs, losses, smooth=beta) == pytest.approx(expected)
    assert suggest_learning_rate(lrs, losses, smooth=0.0, factor=1.0) == pytest.approx(lrs[np.argmin(losses)])


def test_suggest_learning_rate_ignores_losses_after_divergence():
    lrs = np.array([1e-3, 1e-2, 1e-1, 1.0])
    losses = np.array([2.0, 1.0, np.nan, -5.0])
    assert suggest_learning_rate(lrs, losses, smooth=0.0, factor=1.0) == pytest.approx(1e-2)


def test_plot_lr_range_test_draws_curves_and_suggestion():
    lrs, losses = _range_test_curve()
    ax = plot_lr_range_test(lrs, losses, mark={"seed's lr": 1e-3}, title="R")
    labels = [line.get_label() for line in ax.get_lines()]
    suggestion = suggest_learning_rate(lrs, losses)
    assert labels[:3] == ["loss (each step)", "loss (smoothed)", labels[2]] and labels[2].startswith("minimum at lr")
    assert f"suggested lr = {suggestion:.3g}" in labels and "seed's lr" in labels
    assert ax.get_lines()[labels.index(f"suggested lr = {suggestion:.3g}")].get_xdata()[0] == pytest.approx(suggestion)
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), losses)
    assert ax.get_xscale() == "log" and ax.get_title() == "R"
    assert ax.get_ylim()[1] < losses.max()  # the final blow-up is cut off


@pytest.mark.parametrize(
    ("lrs", "losses", "kwargs", "error", "name"),
    [
        ([1e-3, 1e-2], [1.0], {}, ValueError, "same length"),
        ([1e-3], [1.0], {}, ValueError, "lrs"),
        ([0.0, 1e-2], [1.0, 2.0], {}, ValueError, "lrs"),
        ([1e-3, 1e-2], [np.nan, np.nan], {}, ValueError, "losses"),
        ([1e-3, 1e-2], [1.0, 2.0], {"smooth": 1.0}, ValueError, "smooth"),
        ("fast", [1.0, 2.0], {}, TypeError, "lrs"),
        ([1e-3, 1e-2], [[1.0, 2.0]], {}, ValueError, "losses"),
    ],
)
def test_range_test_bad_input(lrs, losses, kwargs, error, name):
    with pytest.raises(error, match=name):
        suggest_learning_rate(lrs, losses, **kwargs)
    with pytest.raises(error, match=name):
        plot_lr_range_test(lrs, losses, **kwargs)


def test_suggest_learning_rate_bad_factor():
    with pytest.raises(ValueError, match="factor"):
        suggest_learning_rate([1e-3, 1e-2], [1.0, 0.5], factor=0)
