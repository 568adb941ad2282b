"""Batched quine populations ≡ one quine at a time (tests/reference/quine.py), and invariants."""

from __future__ import annotations

import math

import pytest
import torch

from neurosoup.particles import ConfigError, QuinePopulation, QuineSpec, trivial_mask
from neurosoup.particles.quine import draw_projections, init_weights
from neurosoup.particles.quine_train import (
    DEFAULT_LR,
    OPTIMISERS,
    EpochDraws,
    QuineOptimiser,
    TaskData,
    draw_epoch,
    train_epoch,
    train_generation,
)
from tests.reference.quine import RefQuine, make_torch_optimiser

F64 = torch.float64
SMALL = QuineSpec(hidden=4, coord_dim=3)  # N = 32: the last minibatch has 2 coordinates
AUX = QuineSpec(hidden=4, coord_dim=2, image_dim=2, n_pixels=5, n_classes=3)  # N = 48
GRADIENT_OPTS = [o for o in OPTIMISERS if o != "hill_climbing"]
TEST_LR = {**DEFAULT_LR, "hill_climbing": 0.05}  # a σ that moves a 32-weight net visibly


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def twins(pop: QuinePopulation, names: list[str], lrs: list[float]) -> list[RefQuine]:
    shapes = list(pop.spec.layer_shapes)
    return [
        RefQuine(shapes, pop.weights[i].clone(), pop.projection, pop.image_projection, n, lr)
        for i, (n, lr) in enumerate(zip(names, lrs, strict=True))
    ]


def run_both(names: list[str], epochs: int = 2, seed: int = 0):
    pop = QuinePopulation.create(SMALL, len(names), gen(seed), "paper", dtype=F64)
    lrs = [TEST_LR[n] for n in names]
    opt = QuineOptimiser(names, SMALL.n_weights, lrs, dtype=F64)
    refs = twins(pop, names, lrs)
    g = gen(seed + 1)
    n_steps = math.ceil(SMALL.n_weights / 10)
    for _ in range(epochs):
        d = draw_epoch(pop, g)
        noise = torch.randn(n_steps, len(names), SMALL.n_weights, generator=g, dtype=F64)
        train_epoch(pop, opt, EpochDraws(d.order, None, noise))
        for i, ref in enumerate(refs):
            ref.epoch(d.order[i], noise=noise[:, i])
    return pop, refs


@pytest.mark.parametrize("name", OPTIMISERS)
def test_population_equals_each_alone(name: str) -> None:
    pop, refs = run_both([name, name, name])
    for i, ref in enumerate(refs):
        torch.testing.assert_close(pop.weights[i], ref.flat(), rtol=1e-10, atol=1e-12)
    assert not torch.equal(pop.weights[0], pop.weights[1])  # members are independent


def test_mixed_population_equals_each_alone() -> None:
    names = [*OPTIMISERS, "adamax"]  # every optimiser in one population, one twice
    pop, refs = run_both(names, epochs=2, seed=3)
    for i, ref in enumerate(refs):
        torch.testing.assert_close(pop.weights[i], ref.flat(), rtol=1e-10, atol=1e-12)
    sse = pop.sse()
    for i, ref in enumerate(refs):
        assert sse[i].item() == pytest.approx(ref.sse(), rel=1e-10)


def task(seed: int = 5, m: int = 13) -> TaskData:
    g = gen(seed)
    images = torch.rand(m, 5, generator=g, dtype=F64)
    return TaskData(images, torch.randint(0, 3, (m,), generator=g))


def test_auxiliary_population_equals_each_alone() -> None:
    names, sr = ["adamax", "adamax", "sgd"], [1.0, 0.0, 1.0]  # member 1: classification only
    pop = QuinePopulation.create(AUX, 3, gen(0), "paper", dtype=F64)
    lrs = [DEFAULT_LR[n] for n in names]
    opt = QuineOptimiser(names, AUX.n_weights, lrs, dtype=F64)
    refs = twins(pop, names, lrs)
    train, test = task(5), task(6, m=7)
    g = gen(1)
    for _ in range(2):
        d = draw_epoch(pop, g, n_train=13)
        train_epoch(pop, opt, d, task=train, lam=0.01, sr_weight=sr)
        for i, ref in enumerate(refs):
            ref.epoch(d.order[i], d.image_index[i], train.images, train.labels, sr_weight=sr[i])
    acc, sse = pop.accuracy(test.images, test.labels), pop.sse(test.images)
    for i, ref in enumerate(refs):
        torch.testing.assert_close(pop.weights[i], ref.flat(), rtol=1e-10, atol=1e-12)
        assert sse[i].item() == pytest.approx(ref.sse(test.images), rel=1e-10)
        assert acc[i].item() == ref.accuracy(test.images, test.labels)
    torch.testing.assert_close(pop.regenerate(test.images)[2], refs[2].predict_all(test.images))


@pytest.mark.parametrize("name", GRADIENT_OPTS)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_optimiser_formulas_equal_torch_optim(name: str, dtype: torch.dtype) -> None:
    n, g = 50, gen(2)
    w0 = torch.randn(n, generator=g, dtype=dtype)
    p = w0.clone().requires_grad_(True)
    topt = make_torch_optimiser(name, [p], DEFAULT_LR[name])
    ours = QuineOptimiser([name], n, dtype=dtype)
    w = w0[None].clone()
    for _ in range(25):
        grad = torch.randn(n, generator=g, dtype=dtype) * 0.3
        p.grad = grad.clone()
        topt.step()
        w = ours.step(w, grad[None])
    tol = {"rtol": 1e-12, "atol": 1e-14} if dtype == torch.float64 else {"rtol": 1e-5, "atol": 1e-6}
    torch.testing.assert_close(w[0], p.detach(), **tol)
    assert int(ours.state["step"][0]) == 25


def test_optimiser_state_round_trip_continues_identically() -> None:
    pop = QuinePopulation.create(SMALL, 2, gen(0), "works", dtype=F64)
    opt = QuineOptimiser(["adam", "adamax"], SMALL.n_weights, dtype=F64)
    g = gen(1)
    train_epoch(pop, opt, draw_epoch(pop, g))
    saved_w, saved = pop.weights.clone(), {k: v.numpy().copy() for k, v in opt.state_dict().items()}
    d = draw_epoch(pop, g)
    train_epoch(pop, opt, d)
    pop2 = QuinePopulation(SMALL, saved_w, pop.projection)
    opt2 = QuineOptimiser(["adam", "adamax"], SMALL.n_weights, dtype=F64)
    opt2.load_state_dict(saved)
    train_epoch(pop2, opt2, d)
    assert torch.equal(pop.weights, pop2.weights)


def _solve_rows(w: torch.Tensor, g: torch.Generator) -> torch.Tensor | None:
    """Table rows p_c = s·u with f(p_c) = θ_c for every c, or None if some θ_c is out of reach."""
    spec = QuineSpec(hidden=3, coord_dim=2)
    pop = QuinePopulation(spec, w, torch.zeros(spec.n_weights, 2, dtype=F64))
    dirs = torch.randn(64, 2, generator=g, dtype=F64)
    s = torch.linspace(-50, 50, 2001, dtype=F64)
    rows = []
    for c in range(spec.n_weights):
        target = w[0, c]
        for u in dirs:
            pop.projection = s[:, None] * u
            f = pop.forward(w, torch.arange(len(s))[None])[0][0] - target
            cross = torch.nonzero(torch.sign(f[:-1]) * torch.sign(f[1:]) <= 0)
            if cross.numel():
                k = int(cross[0])
                lo, hi, flo = s[k].item(), s[k + 1].item(), f[k].item()
                break
        else:
            return None
        for _ in range(200):  # bisection to machine precision
            mid = 0.5 * (lo + hi)
            pop.projection = (mid * u)[None]
            fm = pop.forward(w, torch.zeros(1, 1, dtype=torch.int64))[0].item() - target
            if (fm < 0) == (flo < 0):
                lo, flo = mid, fm
            else:
                hi = mid
        rows.append(0.5 * (lo + hi) * u)
    return torch.stack(rows)


def planted_exact_quine() -> QuinePopulation:
    """A non-zero exact quine: random matrices, then each table row solves f(p_c) = θ_c.

    The first seed whose weights all lie in the range of f is used (deterministic).
    """
    spec = QuineSpec(hidden=3, coord_dim=2)
    for seed in range(50):
        g = gen(seed)
        w = init_weights(spec, 1, g, "works", dtype=F64)
        rows = _solve_rows(w, g)
        if rows is not None:
            return QuinePopulation(spec, w, rows)
    raise AssertionError("no seed gave a reachable exact quine")


def test_regeneration_of_an_exact_quine_is_a_no_op() -> None:
    pop = planted_exact_quine()
    before = pop.weights.clone()
    m = pop.metrics()
    assert m["sse"].item() < 1e-20 and m["r2"].item() == pytest.approx(1.0, abs=1e-12)
    after = pop.regenerate()
    torch.testing.assert_close(after, before, rtol=0, atol=1e-12)
    assert float(before.abs().max()) > 0.1  # not the zero quine
    table = draw_projections(SMALL, gen())[0]
    zero = QuinePopulation(SMALL, torch.zeros(1, SMALL.n_weights), table)
    assert torch.equal(zero.regenerate(), torch.zeros(1, SMALL.n_weights))  # θ = 0 is exact too
    assert zero.classify() == ["zero"]


def test_zero_weight_trap_flags_a_shrinking_quine() -> None:
    """Scaling θ by ε scales f by ~ε³: SSE falls with R² ≈ 0, the trap the flag must catch."""
    pop = QuinePopulation.create(SMALL, 1, gen(4), "paper", dtype=F64)
    start = pop.metrics()
    shrunk = QuinePopulation(SMALL, pop.weights * 0.2, pop.projection)
    m = shrunk.metrics()
    assert m["sse"].item() < 0.1 * start["sse"].item()
    assert m["r2"].item() <= 0.1
    assert trivial_mask(start["sse"], m["sse"], m["r2"]).tolist() == [True]
    exact = planted_exact_quine()  # R² = 1: not trivial even when its SSE fell
    em = exact.metrics()
    assert trivial_mask(em["sse"] + 1.0, em["sse"], em["r2"]).tolist() == [False]
    assert trivial_mask(m["sse"], m["sse"] + 1.0, m["r2"]).tolist() == [False]  # SSE rose


def test_metrics_definitions() -> None:
    pop = QuinePopulation.create(SMALL, 3, gen(0), "works", dtype=F64)
    m = pop.metrics()
    pred = pop.predict_weights(chunk=7)  # chunked ≡ unchunked
    torch.testing.assert_close(pred, pop.predict_weights(), rtol=1e-12, atol=1e-14)
    n = SMALL.n_weights
    sse = ((pred - pop.weights) ** 2).sum(1)
    var = ((pop.weights - pop.weights.mean(1, keepdim=True)) ** 2).sum(1)
    torch.testing.assert_close(m["sse"], sse)
    torch.testing.assert_close(m["r2"], 1 - sse / var)
    torch.testing.assert_close(pop.margin(), torch.sqrt(sse / n))
    torch.testing.assert_close(pop.quotient(), torch.log(n / sse))
    const = QuinePopulation(SMALL, torch.full((1, n), 0.5, dtype=F64), pop.projection)
    assert math.isnan(const.r2().item())


def test_paper_sizes_and_start_loss() -> None:
    assert QuineSpec.vanilla().n_weights == 20_100
    assert QuineSpec.auxiliary(784).n_weights == 21_100
    assert QuineSpec.auxiliary(64).n_weights == 21_100
    assert QuineSpec.vanilla(32).n_weights == 2_080


def test_generation_regenerates_after_t_epochs() -> None:
    pop = QuinePopulation.create(SMALL, 2, gen(0), "paper", dtype=F64)
    opt = QuineOptimiser(["adamax", "adamax"], SMALL.n_weights, dtype=F64)
    g1, g2 = gen(9), gen(9)
    out = train_generation(pop, opt, g1, 2)
    pop2 = QuinePopulation.create(SMALL, 2, gen(0), "paper", dtype=F64)
    opt2 = QuineOptimiser(["adamax", "adamax"], SMALL.n_weights, dtype=F64)
    for _ in range(2):
        train_epoch(pop2, opt2, draw_epoch(pop2, g2))
    assert torch.equal(out, pop2.predict_weights())
    assert int(opt.state["step"][0]) == 2 * math.ceil(SMALL.n_weights / 10)


def test_determinism() -> None:
    def run(seed: int) -> torch.Tensor:
        g = gen(seed)
        pop = QuinePopulation.create(SMALL, 4, g, "works")
        opt = QuineOptimiser(["adamax", "sgd", "hill_climbing", "rmsprop"], SMALL.n_weights)
        for _ in range(2):
            train_epoch(pop, opt, draw_epoch(pop, g), g)
        return pop.weights

    assert torch.equal(run(0), run(0))
    assert not torch.equal(run(0), run(1))


def test_projection_is_independent_of_population_size() -> None:
    a = QuinePopulation.create(SMALL, 1, gen(3))
    b = QuinePopulation.create(SMALL, 5, gen(3))
    assert torch.equal(a.projection, b.projection)
    assert not a.projection.requires_grad


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: QuineOptimiser(["adamx"], 32), r"optimiser 'adamx'.*Did you mean 'adamax'"),
        (lambda: QuineOptimiser(["sgd"], 32, [-1.0]), r"learning rate must be finite and > 0"),
        (lambda: QuinePopulation.create(SMALL, 0, gen()), r"Q >= 1 members.*got 0"),
        (lambda: QuinePopulation.create(SMALL, 1, gen(), "he"), r"unknown quine init 'he'"),
        (
            lambda: QuinePopulation(SMALL, torch.zeros(1, 32), torch.zeros(31, 3)),
            r"projection must be \[N, coord_dim\] = \[32, 3\].*got \[31, 3\]",
        ),
        (
            lambda: QuinePopulation(AUX, torch.zeros(1, 48), torch.zeros(48, 2), torch.zeros(4, 2)),
            r"image_projection \[n_pixels, image_dim\] = \[5, 2\], got \[4, 2\]",
        ),
        (lambda: QuineSpec(hidden=0), r"hidden must be an int >= 1, got 0"),
        (lambda: QuineSpec(image_dim=5), r"needs n_pixels >= 1"),
    ],
)
def test_bad_input(make, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make()


def test_negative_lambda_is_refused() -> None:
    pop = QuinePopulation.create(AUX, 1, gen(), dtype=F64)
    opt = QuineOptimiser(["adamax"], AUX.n_weights, dtype=F64)
    with pytest.raises(ConfigError, match=r"task weight λ must be a number >= 0, got -0.5"):
        train_epoch(pop, opt, draw_epoch(pop, gen(), 13), task=task(), lam=-0.5)
