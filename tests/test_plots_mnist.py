"""Tests for helpers.plots_mnist: what is drawn, what is returned, and clear errors for bad input."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.axes import Axes

from helpers import PALETTE, plot_confusion_matrix, plot_digit_grid, plot_most_confident_mistakes


def _digits(n: int = 12, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 28, 28))


def _tiles(ax: Axes) -> list[np.ndarray]:
    """The digits as drawn: the 28 x 28 tiles of the axes' single mosaic image."""
    (image,) = ax.images
    mosaic = np.ma.filled(image.get_array().astype(float), np.nan)
    return [mosaic[top:top + 28, left:left + 28] for top, left in ax.tile_origins]


def _captions(ax: Axes) -> list[str]:
    return [t.get_text() for t in ax.texts]


def test_digit_grid_draws_each_digit_with_its_label() -> None:
    images, labels = _digits(12), np.arange(12) % 10
    ax = plot_digit_grid(images, labels, ncols=5, title="Some digits")
    assert isinstance(ax, Axes) and len(ax.figure.axes) == 1 and len(ax.images) == 1
    tiles = _tiles(ax)
    assert len(tiles) == 12
    for tile, image in zip(tiles, images):
        np.testing.assert_allclose(tile, image)
    assert _captions(ax) == [str(d) for d in labels]
    rows = {top for top, _ in ax.tile_origins}
    cols = {left for _, left in ax.tile_origins}
    assert len(rows) == 3 and len(cols) == 5  # 3 rows of 5, the last row holding 2
    mosaic = ax.images[0].get_array()
    assert np.ma.count_masked(mosaic) == mosaic.size - 12 * 28 * 28  # white (masked) between the digits
    assert ax.get_title() == "Some digits"
    assert not ax.axison


def test_digit_grid_and_mistakes_draw_on_a_given_axes() -> None:
    fig, (left, right) = plt.subplots(1, 2)
    assert plot_digit_grid(_digits(4), [1, 2, 3, 4], ax=left) is left and len(left.images) == 1
    probs = _probabilities([0, 7, 2], [0.9, 0.8, 0.9])
    assert plot_most_confident_mistakes(_digits(3), [0, 1, 2], probs, ax=right) is right
    assert list(right.mistake_indices) == [1] and len(fig.axes) == 2
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        plot_digit_grid(_digits(4), [1, 2, 3, 4], ax=fig)
    plt.close(fig)


def test_digit_grid_accepts_tensors_in_every_layout() -> None:
    images = torch.tensor(_digits(4), requires_grad=True)
    for layout in (images, images.reshape(4, 1, 28, 28), images.reshape(4, 784)):
        ax = plot_digit_grid(layout, torch.tensor([1, 2, 3, 4]))
        np.testing.assert_allclose(_tiles(ax)[2], images[2].detach().numpy())


def test_digit_grid_with_predictions_colours_mistakes() -> None:
    labels, predictions = np.array([1, 2, 3, 4]), np.array([1, 7, 3, 9])
    ax = plot_digit_grid(_digits(4), labels, predictions, title="Predictions")
    titles = ax.texts
    assert [t.get_text() for t in titles] == ["1 → 1", "2 → 7", "3 → 3", "4 → 9"]
    assert [matplotlib.colors.to_hex(t.get_color()) for t in titles] == [
        PALETTE["blue"].lower(), PALETTE["vermillion"].lower(), PALETTE["blue"].lower(), PALETTE["vermillion"].lower()]
    assert ax.get_title() == "Predictions (2 of 4 wrong)"


def test_digit_grid_limits_the_number_of_digits() -> None:
    ax = plot_digit_grid(_digits(30), np.zeros(30, dtype=int), max_images=8, ncols=4)
    assert len(_tiles(ax)) == 8 and len(_captions(ax)) == 8


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"images": np.zeros((3, 10, 10)), "labels": [0, 1, 2]}, ValueError, "images"),
        ({"images": "digits", "labels": [0]}, TypeError, "images"),
        ({"images": np.zeros((3, 28, 28)), "labels": [0, 1]}, ValueError, "labels"),
        ({"images": np.zeros((3, 28, 28)), "labels": [0, 1.5, 2]}, ValueError, "labels"),
        ({"images": np.zeros((3, 28, 28)), "labels": [0, 1, 2], "predictions": [0]}, ValueError, "predictions"),
        ({"images": np.zeros((3, 28, 28)), "labels": [0, 1, 2], "ncols": 0}, ValueError, "ncols"),
        ({"images": np.zeros((0, 28, 28)), "labels": []}, ValueError, "images"),
    ],
)
def test_digit_grid_rejects_bad_input(kwargs: dict, error: type, name: str) -> None:
    with pytest.raises(error, match=name):
        plot_digit_grid(**kwargs)


def test_confusion_matrix_annotates_counts_and_labels_axes() -> None:
    cm = np.array([[5, 1, 0], [0, 4, 2], [0, 0, 6]])
    ax = plot_confusion_matrix(cm, class_names=["a", "b", "c"], title="CM")
    assert isinstance(ax, Axes)
    texts = {(t.get_position(), t.get_text()) for t in ax.texts}
    assert texts == {((0, 0), "5"), ((1, 0), "1"), ((1, 1), "4"), ((2, 1), "2"), ((2, 2), "6")}
    assert ax.get_xlabel() == "predicted digit" and ax.get_ylabel() == "true digit"
    assert ax.get_title() == "CM\naccuracy 83.3% on 18 digits"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    shares = ax.images[0].get_array()
    np.testing.assert_allclose(shares[1], [0, 4 / 6, 2 / 6])
    assert len(ax.figure.axes) == 2  # the matrix and its colour bar


def test_confusion_matrix_draws_on_given_axes_and_accepts_tensors() -> None:
    _, ax = plt.subplots()
    assert plot_confusion_matrix(torch.eye(10, dtype=torch.int64) * 3, ax=ax) is ax
    assert len(ax.texts) == 10 and ax.get_title().endswith("accuracy 100.0% on 30 digits")


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"cm": np.zeros((2, 3))}, ValueError, "cm"),
        ({"cm": np.zeros(3)}, ValueError, "cm"),
        ({"cm": -np.eye(2)}, ValueError, "cm"),
        ({"cm": np.eye(2), "class_names": ["x"]}, ValueError, "class_names"),
        ({"cm": None}, TypeError, "cm"),
    ],
)
def test_confusion_matrix_rejects_bad_input(kwargs: dict, error: type, name: str) -> None:
    with pytest.raises(error, match=name):
        plot_confusion_matrix(**kwargs)


def _probabilities(predicted: list[int], confidence: list[float], classes: int = 10) -> np.ndarray:
    probs = np.zeros((len(predicted), classes))
    for row, (p, c) in enumerate(zip(predicted, confidence)):
        probs[row] = (1 - c) / (classes - 1)
        probs[row, p] = c
    return probs


def test_most_confident_mistakes_are_sorted_by_confidence() -> None:
    labels = np.array([0, 1, 2, 3, 4, 5])
    probs = _probabilities([0, 7, 2, 8, 9, 6], [0.99, 0.6, 0.95, 0.9, 0.7, 0.95])
    images = _digits(6)
    ax = plot_most_confident_mistakes(images, labels, probs, k=3, title="Worst")
    assert list(ax.mistake_indices) == [5, 3, 4]
    assert _captions(ax) == ["true 5 → 6\np = 0.95", "true 3 → 8\np = 0.90", "true 4 → 9\np = 0.70"]
    np.testing.assert_allclose(_tiles(ax)[0], images[5])
    np.testing.assert_allclose(_tiles(ax)[2], images[4])
    assert ax.get_title() == "Worst (4 wrong of 6)"


def test_most_confident_mistakes_without_mistakes() -> None:
    ax = plot_most_confident_mistakes(_digits(3), [1, 2, 3], torch.tensor(_probabilities([1, 2, 3], [0.9] * 3)))
    assert len(ax.mistake_indices) == 0 and not ax.images
    assert ax.texts[0].get_text() == "no mistakes"


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"probabilities": np.full((3, 10), 0.5)}, ValueError, "probabilities"),
        ({"probabilities": np.full((2, 10), 0.1)}, ValueError, "probabilities"),
        ({"probabilities": np.full(10, 0.1)}, ValueError, "probabilities"),
        ({"probabilities": np.full((3, 10), 0.1), "k": 0}, ValueError, "k must"),
        ({"probabilities": np.full((3, 10), 0.1), "labels": [1, 2]}, ValueError, "labels"),
    ],
)
def test_most_confident_mistakes_rejects_bad_input(kwargs: dict, error: type, name: str) -> None:
    arguments = {"images": _digits(3), "labels": [1, 2, 3], **kwargs}
    with pytest.raises(error, match=name):
        plot_most_confident_mistakes(**arguments)
