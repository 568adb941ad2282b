"""dropout_table: specialist dropout and l1 pruning from a weights array + layer sizes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neurosoup.analysis.organism import dropout_table, l1_prune_mask
from neurosoup.particles import ConfigError, OrganismNetwork, OrganismType


def network_with_types(seed: int = 0) -> tuple[OrganismNetwork, torch.Tensor]:
    net = OrganismNetwork((4, 3, 2), 3, generator=torch.Generator().manual_seed(seed),
                          dtype=torch.float64)  # fmt: skip
    w = net.weights
    sr = torch.tensor([1, 5, 13])
    fix = net.spec.perfect_fixpoint(3, dtype=torch.float64)
    fix[:, 4] = torch.tensor([1e-3, 2.0, -0.5])  # W1[0, 4] = w̃ of an exact SR
    w[sr] = fix
    w[7] = 0.0
    net.set_weights(w)
    return net, sr


def test_dropout_table_matches_direct_evaluation() -> None:
    net, sr = network_with_types()
    codes = net.classify()
    assert codes[sr].tolist() == [OrganismType.SR] * 3 and int(codes[7]) == OrganismType.ZERO
    x = torch.randn(40, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    y = torch.randint(0, 2, (40,), generator=torch.Generator().manual_seed(2))
    table = dropout_table(net.weights.numpy(), (x.numpy(), y.numpy()), layer_sizes=(4, 3, 2))
    assert list(table.columns) == ["strategy", "n_removed", "metric", "delta"]
    assert table["strategy"].tolist() == ["none", "zero_sr", "zero_f", "zero_zero", "l1"]
    assert table["n_removed"].tolist() == [0, 3, 14, 1, 3]

    def acc(out):
        return float((out.argmax(1) == y).double().mean())

    t = table.set_index("strategy")
    assert t.loc["none", "metric"] == acc(net(x))
    assert t.loc["zero_sr", "metric"] == acc(net.zero_particles(codes == OrganismType.SR)(x))
    assert t.loc["zero_f", "metric"] == acc(net.zero_particles(codes == OrganismType.F)(x))
    assert t.loc["zero_sr", "delta"] == t.loc["zero_sr", "metric"] - t.loc["none", "metric"]
    # l1 by hand: the 3 smallest |w̃| over both layers → 0 (the zero particle is one of them)
    wt = torch.cat([m.reshape(-1) for m in net.extracted_weights()])
    keep = wt.abs().argsort()[3:]
    pruned = torch.zeros_like(wt)
    pruned[keep] = wt[keep]
    h = x @ pruned[:12].view(3, 4).T
    assert t.loc["l1", "metric"] == acc(h @ pruned[12:].view(2, 3).T)
    assert table.attrs["l1_overlap_sr"] == 1  # the SR with w̃ = 1e-3 is among the smallest


def test_mae_metric_and_model_input() -> None:
    net, _ = network_with_types(3)
    x = torch.randn(20, 4, dtype=torch.float64)
    y = torch.randn(20, 2, dtype=torch.float64)

    class Model:
        network = net

    table = dropout_table(Model(), (x, y))
    assert table.attrs["metric"] == "mae"
    assert table.loc[0, "metric"] == pytest.approx(float((net(x) - y).abs().mean()))


def test_l1_ties_break_by_index_and_bad_input() -> None:
    mask = l1_prune_mask(torch.tensor([0.5, -0.1, 0.1, 0.1, 2.0]), 2)
    assert mask.tolist() == [False, True, True, False, False]
    with pytest.raises(ConfigError, match="layer_sizes"):
        dropout_table(np.zeros((18, 27)), (np.zeros((1, 2)), np.zeros(1)))
