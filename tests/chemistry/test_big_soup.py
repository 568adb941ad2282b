"""Big soups: blocked self-training and classification give the unblocked bits; snapshots of a
big soup are chunked one frame per chunk and a reader of one frame touches only that frame.

Sizes stay small: the tests force small blocks (``block_rows``) so blocking kicks in at a few
hundred particles.
"""

from __future__ import annotations

import io
import itertools

import h5py
import numpy as np
import pytest
import torch

from neurosoup.analysis.snapshots import Snapshots
from neurosoup.chemistry import operators as ops
from neurosoup.chemistry.config import SoupConfig
from neurosoup.chemistry.recorder import Recorder
from neurosoup.chemistry.soup import Soup
from neurosoup.particles import (
    MIN_BLOCK_ROWS,
    ParticleSpec,
    ParticleStore,
    classify_with_stats,
    row_blocks,
    runformat,
)

JOURNAL = dict(lr=0.04, operators=[{"name": "attack", "rate": 0.1, "pairing": "single"},
                                   {"name": "self_train", "steps": 20}])  # fmt: skip


@pytest.mark.parametrize("block", [None, 0, 1, 8, 16, 17, 100, 8192])
def test_row_blocks_cover_the_rows_in_near_equal_blocks(block):
    for n in [0, 1, 3, 15, 16, 17, 33, 101, 999, 8193, 20000]:
        blocks = row_blocks(n, block)
        assert blocks[0][0] == 0 and blocks[-1][1] == n
        assert all(a[1] == b[0] for a, b in itertools.pairwise(blocks))
        sizes = [hi - lo for lo, hi in blocks]
        if block and n > max(block, 2 * MIN_BLOCK_ROWS):
            assert len(blocks) > 1
            assert max(sizes) <= max(block, 2 * MIN_BLOCK_ROWS)
            assert min(sizes) >= MIN_BLOCK_ROWS and max(sizes) - min(sizes) <= 1
        else:
            assert blocks == [(0, n)]


def _store(spec: ParticleSpec, n: int, dead: int, seed: int) -> ParticleStore:
    gen = torch.Generator().manual_seed(seed)
    store = ParticleStore(spec, n)
    store.add(spec.init(n, gen))
    store.momentum[:] = 0.01 * torch.randn(n, spec.n_weights, generator=gen)
    if dead:
        store.remove(torch.randperm(n, generator=gen)[:dead])
    return store


@pytest.mark.parametrize("activation", ["linear", "tanh"])
@pytest.mark.parametrize("dead", [0, 37])  # a full store (row slices) and gathered slots
@pytest.mark.parametrize(("mode", "momentum"), [("full", 0.0), ("full", 0.9), ("epoch", 0.0)])
@pytest.mark.parametrize("block", [1, 17, 64, 100])  # 1 → 16 rows (MIN_BLOCK_ROWS)
def test_blocked_self_train_is_bit_identical(activation, dead, mode, momentum, block):
    spec = ParticleSpec(activation=activation)
    n, steps = 301, 3
    blocked, whole = _store(spec, n, dead, 1), _store(spec, n, dead, 1)
    m = n - dead
    gen = torch.Generator().manual_seed(2)
    orders = ops.draw_orders(steps, m, spec.n_weights, mode, gen)
    loss_b = ops.self_train(blocked, spec, steps, 0.04, momentum, orders, block_rows=block)
    loss_w = ops.self_train(whole, spec, steps, 0.04, momentum, orders, block_rows=0)
    assert torch.equal(loss_b, loss_w)
    assert torch.equal(blocked.weights, whole.weights)
    assert torch.equal(blocked.momentum, whole.momentum)
    assert torch.equal(blocked.ptype, whole.ptype)
    assert not torch.equal(whole.weights, _store(spec, n, dead, 1).weights)  # it trained


def test_blocked_classify_is_bit_identical():
    spec = ParticleSpec()
    w = spec.init(999, torch.Generator().manual_seed(3))
    w[5] = float("nan")
    w[6] = 0.0
    w[7] = 1.0
    codes, stats = classify_with_stats(spec, w, 1e-5)
    for block in (1, 10, 17, 128):
        codes_b, stats_b = classify_with_stats(spec, w, 1e-5, block_rows=block)
        assert torch.equal(codes, codes_b)
        assert stats.keys() == stats_b.keys()
        for key, value in stats.items():
            assert torch.equal(value.isnan(), stats_b[key].isnan())
            assert torch.equal(value.nan_to_num(), stats_b[key].nan_to_num())


def test_blocked_soup_equals_unblocked_soup(monkeypatch):
    """A journal soup whose blocks are 50 rows gives the same weights and observables."""
    cfg = SoupConfig(n_particles=400, **JOURNAL)
    monkeypatch.setattr(ops, "BLOCK_ROWS", 0)
    whole = Soup(cfg, seed=4, device="cpu")
    whole.run(3, progress=False)
    monkeypatch.setattr(ops, "BLOCK_ROWS", 50)
    blocked = Soup(cfg, seed=4, device="cpu")
    blocked.run(3, progress=False)
    assert torch.equal(whole.store.weights, blocked.store.weights)
    assert torch.equal(whole.store.ptype, blocked.store.ptype)
    assert whole.observables == blocked.observables


class CountingFile(io.RawIOBase):
    """A read-only file object that counts the bytes HDF5 reads through it."""

    def __init__(self, path):
        self._f = open(path, "rb")  # noqa: SIM115 - closed in close()
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset, whence=io.SEEK_SET):
        return self._f.seek(offset, whence)

    def tell(self):
        return self._f.tell()

    def readinto(self, buffer):
        n = self._f.readinto(buffer)
        self.bytes_read += n or 0
        return n

    def close(self):
        self._f.close()
        super().close()


def _big_run(path, n: int, frames: int) -> Soup:
    cfg = SoupConfig(n_particles=n, lr=0.04, operators=[{"name": "self_train", "steps": 1}])
    soup = Soup(cfg, seed=5, device="cpu")
    rec = Recorder.create(path, soup)
    soup.run(frames - 1, progress=False)
    rec.close()
    return soup


def test_snapshots_of_a_big_soup_are_chunked_per_frame_and_read_frame_by_frame(
    tmp_path, monkeypatch
):
    from neurosoup.chemistry import run_blocks

    monkeypatch.setattr(run_blocks, "_CHUNK_BYTES", 64 << 10)  # split frames above 64 kB here
    n, frames = 6000, 5
    path = tmp_path / "big.h5"
    soup = _big_run(path, n, frames)
    p = soup.spec.n_weights
    with h5py.File(path) as f:
        group = f[runformat.PARTICLES]
        weights = group["weights/value"]
        assert weights.shape == (frames, n, p)
        rows = weights.chunks[1]
        assert weights.chunks[0] == 1 and weights.chunks[2] == p  # one frame per chunk
        assert rows < n and rows * p * 4 <= 64 << 10  # the particle axis is split
        assert weights.compression is None  # floats are not compressed
        for name in ("uid", "ptype", "parent_uid", "born_at"):
            ds = group[f"{name}/value"]
            assert ds.chunks[0] == 1 and ds.compression == "gzip", name
        expected = weights[2]
        frame_bytes = weights.dtype.itemsize * n * p
    counter = CountingFile(path)
    with h5py.File(counter, "r") as f:
        snaps = Snapshots(path, f[runformat.PARTICLES])
        before = counter.bytes_read
        got = snaps.weights(int(snaps.steps[2]))
        read = counter.bytes_read - before
    counter.close()
    np.testing.assert_array_equal(got, expected)
    assert path.stat().st_size > frames * frame_bytes  # the file holds every frame …
    assert frame_bytes <= read < 1.25 * frame_bytes  # … reading one frame reads about one


_BUDGET_SCRIPT = """
import json, resource, sys
import torch
from neurosoup.scenarios import make
torch.set_num_threads(2)
soup = make("soup/journal-v1", n_particles=1_000_000)
soup.run(2, progress=False, threads=2)
s = soup.store
fields = [s.weights, s.momentum, s.alive, s.uid, s.parent_uid, s.born_at, s.ptype]
print(json.dumps({"store": sum(t.numel() * t.element_size() for t in fields),
                  "raw": s.weights.numel() * s.weights.element_size(),
                  "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""


@pytest.mark.slow
def test_a_journal_soup_of_a_million_particles_keeps_the_memory_budget():
    """Store ≤ 3× the raw weight bytes, whole process ≤ 2 GB (issue 15 §2), two ticks."""
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _BUDGET_SCRIPT], capture_output=True,
                         text=True, check=True, timeout=600)  # fmt: skip
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["store"] <= 3 * r["raw"]
    assert r["rss"] <= 2 << 30
