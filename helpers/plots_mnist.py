"""Pictures for the MNIST lesson: a grid of digits, a confusion matrix, and the most confident mistakes.

Images may be numpy arrays or torch tensors (on any device, with or without gradients), of shape
(n, 28, 28), (n, 1, 28, 28) or (n, 784); labels and predictions are integers of shape (n,). Each is a
single-panel plot: it draws on the ``ax`` it is given (or on a new figure) in the course style and returns
that ``Axes`` (a grid of digits is one image, so it is one panel).
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from ._style import PALETTE, course_style, new_axes
from ._validate import as_float_array

__all__ = ["plot_confusion_matrix", "plot_digit_grid", "plot_most_confident_mistakes"]


def _numpy(value: Any) -> Any:
    """Torch tensors become numpy arrays (detached, on the CPU); anything else is returned unchanged."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        return value.detach().cpu().numpy()
    return value


def _images(name: str, images: Any) -> np.ndarray:
    array = as_float_array(name, _numpy(images))
    if array.ndim == 4 and array.shape[1] == 1:
        array = array[:, 0]
    elif array.ndim == 2 and array.shape[1] == 784:
        array = array.reshape(-1, 28, 28)
    if array.ndim != 3 or array.shape[1:] != (28, 28):
        raise ValueError(f"{name} must have shape (n, 28, 28), (n, 1, 28, 28) or (n, 784), got {np.shape(_numpy(images))}")
    return array


def _labels(name: str, labels: Any, n: int) -> np.ndarray:
    array = as_float_array(name, _numpy(labels), shape=(n,))
    if not np.all(array == np.round(array)):
        raise ValueError(f"{name} must hold whole numbers (class labels)")
    return array.astype(int)


def _mosaic(
    pixels: np.ndarray, captions: list[str], colours: list[str], ncols: int, title: str, vmin: float, vmax: float,
    ax: Axes | None,
) -> Axes:
    """Draw digits as tiles of ONE image (fast: one ``imshow``, however many digits), each captioned above.

    On ``ax`` if given, else on a new figure sized to the tiles. The axes' ``tile_origins`` attribute lists
    the (row, column) of each digit's top-left pixel in the mosaic.
    """
    count = len(pixels)
    cols = min(ncols, count)
    rows = -(-count // cols)
    lines = max(caption.count("\n") + 1 for caption in captions)
    caption_px = 5 + 8 * lines  # room above each digit for its caption
    tile_h, tile_w = caption_px + 28 + 2, 28 + 6
    mosaic = np.full((rows * tile_h, cols * tile_w), np.nan)  # NaN is drawn white, between the digits
    origins = []
    for i in range(count):
        row, col = divmod(i, cols)
        top, left = row * tile_h + caption_px, col * tile_w + 3
        mosaic[top:top + 28, left:left + 28] = pixels[i]
        origins.append((top, left))
    with course_style():
        ax = new_axes(ax, figsize=(cols * tile_w / 36, rows * tile_h / 36 + 0.45))
        cmap = plt.get_cmap("gray_r").with_extremes(bad="white")
        ax.imshow(mosaic, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        for (top, left), caption, colour in zip(origins, captions, colours):
            ax.text(left + 14, top - 1.5, caption, ha="center", va="bottom", fontsize=9, color=colour, linespacing=1.1)
        ax.set_axis_off()
        ax.set_title(title)
    ax.tile_origins = origins  # type: ignore[attr-defined]
    return ax


def plot_digit_grid(
    images: Any,
    labels: Any,
    predictions: Any | None = None,
    *,
    ncols: int = 10,
    title: str = "MNIST digits",
    max_images: int = 60,
    ax: Axes | None = None,
) -> Axes:
    """Draw digits in a grid, each captioned with its label (and the model's prediction, if given).

    Parameters
    ----------
    images : array or tensor, shape (n, 28, 28), (n, 1, 28, 28) or (n, 784)
        Raw or normalised pixels (darker = more ink); one grey scale is shared by all digits.
    labels : array or tensor of int, shape (n,)
        The true digits.
    predictions : array or tensor of int, shape (n,), optional
        When given, each caption reads "7 → 1" (true → predicted), in blue when right and vermillion
        when wrong, and the title counts the mistakes.
    ncols : int
        Digits per row.
    title : str
        The title (followed by the count of mistakes when ``predictions`` is given).
    max_images : int
        Only the first ``max_images`` digits are drawn.
    ax : Axes, optional
        Where to draw; a new figure sized to the grid is made when omitted.

    Returns
    -------
    Axes
        The axes drawn on: the digits are tiles of one image; its ``tile_origins`` attribute lists the
        (row, column) of each digit's top-left pixel in that image.

    Raises
    ------
    ValueError
        If the images have another shape, the labels or predictions are not one whole number per image,
        or ``ncols`` or ``max_images`` is not a positive int.
    TypeError
        If ``images``, ``labels`` or ``predictions`` are not arrays of numbers, or ``ax`` is not an Axes.
    """
    pixels = _images("images", images)
    true = _labels("labels", labels, len(pixels))
    pred = None if predictions is None else _labels("predictions", predictions, len(pixels))
    if isinstance(ncols, bool) or not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"ncols must be a positive int, got {ncols!r}")
    if isinstance(max_images, bool) or not isinstance(max_images, int) or max_images < 1:
        raise ValueError(f"max_images must be a positive int, got {max_images!r}")
    if len(pixels) == 0:
        raise ValueError("images must hold at least one digit")
    count = min(len(pixels), max_images)
    pixels, true = pixels[:count], true[:count]
    if pred is None:
        captions, colours = [f"{t}" for t in true], [PALETTE["black"]] * count
    else:
        pred = pred[:count]
        captions = [f"{t} → {p}" for t, p in zip(true, pred)]
        colours = [PALETTE["blue"] if t == p else PALETTE["vermillion"] for t, p in zip(true, pred)]
        wrong = int(np.sum(true != pred))
        title = f"{title} ({wrong} of {count} wrong)"
    return _mosaic(pixels, captions, colours, ncols, title, float(pixels.min()), float(pixels.max()), ax)


def plot_confusion_matrix(
    cm: Any,
    *,
    class_names: list[str] | None = None,
    ax: Axes | None = None,
    title: str = "Confusion matrix",
) -> Axes:
    """Draw a confusion matrix: rows are true classes, columns predicted classes, each cell its count.

    The colour of a cell is its share of its row (of the true class), so that the mistakes stand out
    whatever the class sizes; the title gives the overall accuracy.

    Parameters
    ----------
    cm : array or tensor of int, shape (k, k)
        ``cm[i, j]`` counts the examples of true class i predicted as j (the layout of
        ``sklearn.metrics.confusion_matrix``).
    class_names : list of k str, optional
        Tick labels; default "0" .. "k-1".
    ax : Axes, optional
        Where to draw; a new figure is made when omitted.
    title : str
        The title's first line (the second gives the accuracy).

    Returns
    -------
    Axes
        The axes drawn on (a colour bar is added beside it).

    Raises
    ------
    ValueError
        If ``cm`` is not square, holds negative or fractional counts, or ``class_names`` has not k entries.
    """
    counts = as_float_array("cm", _numpy(cm), ndim=2)
    k = counts.shape[0]
    if counts.shape != (k, k) or k == 0:
        raise ValueError(f"cm must be a square (k, k) matrix, got shape {counts.shape}")
    if np.any(counts < 0) or not np.all(counts == np.round(counts)):
        raise ValueError("cm must hold non-negative counts")
    names = [str(i) for i in range(k)] if class_names is None else [str(c) for c in class_names]
    if len(names) != k:
        raise ValueError(f"class_names must have {k} entries (one per row of cm), got {len(names)}")
    totals = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    accuracy = np.trace(counts) / max(counts.sum(), 1.0)
    with course_style():
        ax = new_axes(ax, figsize=(6.2, 5.2))
        image = ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)
        for i in range(k):
            for j in range(k):
                if counts[i, j] == 0:
                    continue
                colour = "white" if share[i, j] > 0.5 else (PALETTE["vermillion"] if i != j else PALETTE["black"])
                ax.text(j, i, f"{int(counts[i, j])}", ha="center", va="center", fontsize=8.5, color=colour,
                        fontweight="bold" if i != j else "normal")
        ax.set_xticks(range(k), names)
        ax.set_yticks(range(k), names)
        ax.grid(False)
        summary = f"accuracy {accuracy:.1%} on {int(counts.sum()):,} digits"
        ax.set(xlabel="predicted digit", ylabel="true digit", title=f"{title}\n{summary}")
        colorbar = ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
        colorbar.set_label("share of the true digit's examples")
    return ax


def plot_most_confident_mistakes(
    images: Any,
    labels: Any,
    probabilities: Any,
    *,
    k: int = 12,
    ncols: int = 6,
    title: str = "The most confident mistakes",
    ax: Axes | None = None,
) -> Axes:
    """Draw the ``k`` wrongly classified digits whose wrong prediction had the highest probability.

    Each digit is captioned "true 4 → 9" and the probability the model gave to its (wrong) answer,
    most confident first.

    Parameters
    ----------
    images : array or tensor, shape (n, 28, 28), (n, 1, 28, 28) or (n, 784)
        The digits' pixels.
    labels : array or tensor of int, shape (n,)
        The true digits.
    probabilities : array or tensor, shape (n, c)
        The model's class probabilities (softmax of its outputs); each row sums to 1.
    k : int
        How many mistakes to draw at most.
    ncols : int
        Digits per row.
    title : str
        The title (followed by the count of mistakes).
    ax : Axes, optional
        Where to draw; a new figure sized to the grid is made when omitted.

    Returns
    -------
    Axes
        The axes drawn on; its ``mistake_indices`` attribute holds the drawn digits' indices, shape (<= k,).

    Raises
    ------
    ValueError
        If the shapes disagree, a row of ``probabilities`` is not a distribution, or ``k`` is not a positive int.
    """
    pixels = _images("images", images)
    true = _labels("labels", labels, len(pixels))
    probs = as_float_array("probabilities", _numpy(probabilities), ndim=2)
    if probs.shape[0] != len(pixels):
        raise ValueError(f"probabilities must have one row per image ({len(pixels)}), got shape {probs.shape}")
    if np.any(probs < -1e-6) or not np.allclose(probs.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError("probabilities must be non-negative and each row must sum to 1 (apply softmax to the logits)")
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    predicted = probs.argmax(axis=1)
    confidence = probs.max(axis=1)
    wrong = np.flatnonzero(predicted != true)
    chosen = wrong[np.argsort(-confidence[wrong], kind="stable")][:k]
    title = f"{title} ({len(wrong)} wrong of {len(true):,})"
    if len(chosen) == 0:
        with course_style():
            ax = new_axes(ax, figsize=(5, 1.5))
            ax.set_axis_off()
            ax.text(0.5, 0.5, "no mistakes", ha="center", va="center", fontsize=12)
            ax.set_title(title)
    else:
        captions = [f"true {true[i]} → {predicted[i]}\np = {confidence[i]:.2f}" for i in chosen]
        ax = _mosaic(pixels[chosen], captions, [PALETTE["vermillion"]] * len(chosen), ncols, title,
                     float(pixels.min()), float(pixels.max()), ax)
    ax.mistake_indices = chosen  # type: ignore[attr-defined]
    return ax
