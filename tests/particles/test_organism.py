"""OrganismNetwork: batched forward, typing and self-training ≡ the per-particle twin (float64);
fast ≡ general path; re-substitution; dropout semantics; layout; bad input."""

from __future__ import annotations

import networkx as nx
import pytest
import torch

from neurosoup.particles import (
    ConfigError,
    OrganismNetwork,
    OrganismType,
    ParticleSpec,
    ShapeError,
)
from tests.reference.organism import RefOrganism, ref_mlp

F64 = torch.float64
OPTIONS = [("none", "none"), ("gelu", "none"), ("none", "every"), ("gelu", "every")]


def make(sizes=(2, 3, 3, 1), hidden=3, seed=0, dtype=F64, **kw) -> OrganismNetwork:
    return OrganismNetwork(sizes, hidden, generator=torch.Generator().manual_seed(seed),
                           dtype=dtype, **kw)  # fmt: skip


def twin(net: OrganismNetwork) -> RefOrganism:
    return RefOrganism(net.layer_sizes, net.spec, net.weights, net.activation, net.residual)


def mixed_weights(net: OrganismNetwork) -> torch.Tensor:
    """Weights with one particle of each type: a perfect SR, a zero, a divergent, the rest F."""
    w = net.weights
    w[0] = 0.0
    w[1] = net.spec.perfect_fixpoint(1, dtype=w.dtype)[0]
    w[2, 3] = float("nan")
    w[4] = 5e-6  # zero up to ε
    return w


def test_layout_names_graph() -> None:
    net = make((3, 2, 4), hidden=5)
    assert net.n_particles == 3 * 2 + 2 * 4
    assert net.n_weights == 55 and net.weights.shape == (14, 55)
    assert net.names[:4] == ["L0_C0_W0", "L0_C0_W1", "L0_C0_W2", "L0_C1_W0"]
    assert net.names[6] == "L1_C0_W0" and net.names[-1] == "L1_C3_W1"
    g = net.graph
    assert isinstance(g, nx.DiGraph) and g.number_of_nodes() == 9 and g.number_of_edges() == 14
    attrs = g.edges[(0, 2), (1, 1)]
    assert attrs["name"] == "L0_C1_W2" and attrs["row"] == 5 and attrs["uid"] == 5
    # row-major (c, e) = a torch Linear's (out, in): extracted matrix entry [c, e] is row c·n_in+e
    wt = net.extracted_weights()
    assert [tuple(m.shape) for m in wt] == [(2, 3), (4, 2)]
    flat = torch.cat([m.reshape(-1) for m in wt])
    one = torch.zeros(14, 5, dtype=F64)
    one[:, 4] = 1
    ref = twin(net).extracted()
    torch.testing.assert_close(flat, torch.tensor(ref, dtype=F64), rtol=0, atol=1e-14)
    assert torch.equal(net.uid, torch.arange(14))


def test_initial_weights_are_taken_in_order_and_weights_is_a_copy() -> None:
    w = torch.randn(18, 27, dtype=F64)
    net = OrganismNetwork((2, 3, 3, 1), 3, weights=w, dtype=F64)
    assert torch.equal(net.weights, w)
    net.weights[0] = 7.0
    assert torch.equal(net.weights, w)


@pytest.mark.parametrize(("activation", "residual"), OPTIONS)
def test_forward_fast_general_and_twin_agree_float64(activation: str, residual: str) -> None:
    net = make((3, 4, 4, 4, 2), hidden=3, seed=1, activation=activation, residual=residual)
    x = torch.randn(6, 3, dtype=F64, generator=torch.Generator().manual_seed(2))
    fast, general = net(x), net(x, general=True)
    with torch.no_grad():
        ref = twin(net).forward(x)
    tol = 1e-12 * max(1.0, float(ref.abs().max()))
    assert float((fast - ref).abs().max()) <= tol
    assert float((general - ref).abs().max()) <= tol


def test_fast_equals_general_float32_at_mnist_size() -> None:
    net = make((225, 5, 5, 10), hidden=5, seed=3, dtype=torch.float32)
    x = torch.rand(64, 225, generator=torch.Generator().manual_seed(4))
    fast, general = net(x), net(x, general=True)
    scale = general.abs().clamp(min=1.0)
    assert float(((fast - general).abs() / scale).max()) <= 1e-5


def test_fast_and_general_gradients_agree() -> None:
    net = make(seed=5)
    x = torch.randn(8, 2, dtype=F64)
    grads = []
    for general in (False, True):
        w = net.weights.requires_grad_(True)
        (net.evaluate(w, x, general=general) ** 2).mean().backward()
        grads.append(w.grad)
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-10, atol=1e-13)
    # column 0..3 of W1 never carry the task: their task gradient is exactly 0
    w1 = net.spec.unpack(grads[0])[0]
    assert float(w1[:, :, :4].abs().max()) == 0.0


def test_classify_matches_twin_on_every_type() -> None:
    net = make(seed=6)
    net.set_weights(mixed_weights(net))
    codes = net.classify()
    assert codes.dtype == torch.int8 and codes.shape == (18,)
    assert codes.tolist() == twin(net).classify()
    assert codes[:5].tolist() == [OrganismType.ZERO, OrganismType.SR, OrganismType.DIVERGENT,
                                  OrganismType.F, OrganismType.ZERO]  # fmt: skip
    assert [t.label for t in OrganismType] == ["divergent", "zero", "sr", "f"]


def test_self_train_matches_twin_float64() -> None:
    net = make(seed=7)
    ref = twin(net)
    for _ in range(3):  # three batches: a fresh momentum buffer each
        loss = net.self_train(5, lr=0.004, momentum=0.9)
        ref_loss = ref.self_train_phase(5, lr=0.004, momentum=0.9)
        torch.testing.assert_close(loss, torch.tensor(ref_loss, dtype=F64), rtol=1e-10, atol=1e-15)
    torch.testing.assert_close(net.weights, ref.weights(), rtol=1e-10, atol=1e-13)
    assert net.classify().tolist() == ref.classify()


@pytest.mark.parametrize(("activation", "residual"), OPTIONS)
def test_to_mlp_equals_on(activation: str, residual: str) -> None:
    net = make((4, 3, 3, 2), seed=8, activation=activation, residual=residual)
    mlp = net.to_mlp()
    assert all(lin.bias is None for lin in mlp.layers)
    x = torch.randn(1000, 4, dtype=F64, generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        y_mlp = mlp(x)
    y_ref = ref_mlp([m.tolist() for m in net.extracted_weights()], x[:20], activation, residual)
    assert float((net(x, general=True) - y_mlp).abs().max()) <= 1e-12
    assert float((y_mlp[:20] - y_ref).abs().max()) <= 1e-12
    net32 = make((4, 3, 3, 2), seed=8, dtype=torch.float32, activation=activation,
                 residual=residual)  # fmt: skip
    with torch.no_grad():
        diff = (net32(x.float(), general=True) - net32.to_mlp()(x.float())).abs().max()
    assert float(diff) <= 1e-5


def test_zeroing_particles_equals_zeroing_mlp_weights() -> None:
    net = make((5, 4, 3), hidden=5, seed=10)
    w = net.weights
    sr = torch.zeros(net.n_particles, dtype=torch.bool)
    sr[[0, 3, 7, 20, 25]] = True
    sr_w = net.spec.perfect_fixpoint(int(sr.sum()), dtype=F64)
    sr_w[:, 4] = torch.tensor([0.7, -0.3, 1.2, 0.5, -2.0])  # W1[0, 4]: an exact SR with w̃ ≠ 0
    w[sr] = sr_w
    net.set_weights(w)
    assert bool((net.classify()[sr] == OrganismType.SR).all())
    dropped = net.zero_particles(net.classify() == OrganismType.SR)
    assert bool((dropped.weights[sr] == 0).all()) and torch.equal(dropped.weights[~sr], w[~sr])
    assert bool((dropped.classify()[sr] == OrganismType.ZERO).all())
    assert torch.equal(net.weights, w)  # the original is untouched
    assert torch.equal(torch.cat([m.reshape(-1) for m in net.extracted_weights()])[sr],
                       sr_w[:, 4])  # fmt: skip
    mlp = net.to_mlp()
    with torch.no_grad():
        flat_mask = sr.split([20, 12])
        for lin, m in zip(mlp.layers, flat_mask, strict=True):
            lin.weight[m.view_as(lin.weight)] = 0.0
        x = torch.randn(50, 5, dtype=F64)
        assert float((dropped(x, general=True) - mlp(x)).abs().max()) <= 1e-12


def test_bad_input() -> None:
    with pytest.raises(ConfigError, match="hidden"):
        OrganismNetwork((2, 1), hidden=0)
    with pytest.raises(ConfigError, match="linear"):
        OrganismNetwork((2, 1), spec=ParticleSpec(5, 3, 1, activation="tanh"))
    with pytest.raises(ConfigError, match="5 inputs"):
        OrganismNetwork((2, 1), spec=ParticleSpec(4, 3, 1))
    with pytest.raises(ConfigError, match="layer"):
        OrganismNetwork((2,))
    with pytest.raises(ConfigError, match="layer size"):
        OrganismNetwork((2, 0, 1))
    with pytest.raises(ConfigError, match="activation"):
        OrganismNetwork((2, 1), activation="relu")
    with pytest.raises(ConfigError, match="residual"):
        OrganismNetwork((2, 1), residual="some")
    with pytest.raises(ShapeError, match="rows"):
        OrganismNetwork((2, 3, 1), weights=torch.zeros(5, 27))
    net = make()
    with pytest.raises(ShapeError, match=r"\[B, 2\]"):
        net(torch.zeros(4, 3, dtype=F64))
    with pytest.raises(ShapeError, match="mask"):
        net.zero_particles(torch.zeros(3, dtype=torch.bool))
