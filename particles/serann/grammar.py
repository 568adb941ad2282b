"""The Markov-chain generator of SeRANN programs (science/serann.md, "Grammar of programs").

A program is three branches written line by line by a Markov chain over layer states: the image
branch (``X_layer = Conv2D|MaxPool2D|Dense|BatchNormalization(...)(X_layer)``), the genotype
branch (``g_layer = Conv1D|Dense|BatchNormalization(...)(g_layer)``), the join line
``con = concatenate([Reshape((1, -1))(X_layer), Reshape((1, -1))(g_layer)])``, the trunk
(``con = Dense|BatchNormalization(...)(con)``) and ``loss_balance = 0.dddd`` (U(0, 1)).

The reference samplers assume 28x28 images; at 8x8 they make ~31 % of programs shape-invalid.
``GrammarConfig.for_image(8)`` (the default) rescales the image branch (kernels 1/3/5 at
.15/.6/.25, stride 2 at .1, pool 2) and shrinks the Dense samplers so a typical program sits
near 10^5 parameters while the trunk stays >= 32 units wide (the copy head needs width).
``GrammarConfig.for_image(28)`` keeps the reference samplers. The transition probabilities
between layer states are ours (the paper's table is not reproduced here); they live in
``TRANSITIONS`` so they can be inspected and changed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurosoup.particles.errors import ConfigError

#: Markov chain over layer states, per branch: state -> ((next state, probability), ...).
#: ``start`` is the state before the first line, ``end`` closes the branch.
TRANSITIONS: dict[str, dict[str, tuple[tuple[str, float], ...]]] = {
    "image": {
        "start": (("conv", 0.55), ("dense", 0.1), ("bn", 0.05), ("pool", 0.05), ("end", 0.25)),
        "conv": (("conv", 0.2), ("pool", 0.35), ("dense", 0.1), ("bn", 0.1), ("end", 0.25)),
        "pool": (("conv", 0.2), ("dense", 0.15), ("bn", 0.05), ("end", 0.6)),
        "dense": (("dense", 0.1), ("bn", 0.1), ("end", 0.8)),
        "bn": (("conv", 0.2), ("dense", 0.2), ("pool", 0.1), ("end", 0.5)),
    },
    "genotype": {
        "start": (("conv1d", 0.45), ("dense", 0.3), ("bn", 0.05), ("end", 0.2)),
        "conv1d": (("conv1d", 0.15), ("dense", 0.35), ("bn", 0.1), ("end", 0.4)),
        "dense": (("dense", 0.1), ("bn", 0.1), ("end", 0.8)),
        "bn": (("conv1d", 0.2), ("dense", 0.3), ("end", 0.5)),
    },
    "trunk": {
        "start": (("dense", 0.75), ("bn", 0.05), ("end", 0.2)),
        "dense": (("dense", 0.25), ("bn", 0.15), ("end", 0.6)),
        "bn": (("dense", 0.5), ("end", 0.5)),
    },
}
_CONSTRUCTOR = {"conv": "Conv2D", "pool": "MaxPool2D", "conv1d": "Conv1D", "dense": "Dense"}
_VAR = {"image": "X_layer", "genotype": "g_layer", "trunk": "con"}
JOIN_LINE = "con = concatenate([Reshape((1, -1))(X_layer), Reshape((1, -1))(g_layer)])"


@dataclass(frozen=True)
class GrammarConfig:
    """Samplers of the program grammar.

    Attributes:
        image_size: Side of the square input image (8 or 28 are the presets).
        conv_filters: Probabilities of 2^k filters for k = 2..6 (4 .. 64 filters).
        conv2d_kernels: (kernel, probability) pairs of Conv2D.
        conv2d_stride2: Probability of stride 2 in Conv2D (else 1).
        pool_sizes: (pool size, probability) pairs of MaxPool2D.
        conv1d_kernels: (kernel, probability) pairs of Conv1D.
        conv1d_stride2: Probability of stride 2 in Conv1D.
        dense_image: (mean, sd) of Dense units in the image branch.
        dense_genotype: (mean, sd) of Dense units in the genotype branch.
        dense_trunk: (mean, sd) of Dense units in the trunk.
        min_trunk_units: Floor of trunk Dense units.
        p_relu: Probability of relu (else sigmoid) for Dense.
        max_lines: Most lines per branch (the chain is cut there).
    """

    image_size: int = 8
    conv_filters: tuple[float, ...] = (0.1, 0.3, 0.3, 0.2, 0.1)
    conv2d_kernels: tuple[tuple[int, float], ...] = ((1, 0.15), (3, 0.6), (5, 0.25))
    conv2d_stride2: float = 0.1
    pool_sizes: tuple[tuple[int, float], ...] = ((2, 1.0),)
    conv1d_kernels: tuple[tuple[int, float], ...] = ((3, 0.2), (5, 0.4), (7, 0.4))
    conv1d_stride2: float = 0.2
    dense_image: tuple[float, float] = (16.0, 4.0)
    dense_genotype: tuple[float, float] = (16.0, 4.0)
    dense_trunk: tuple[float, float] = (56.0, 14.0)
    min_trunk_units: int = 32
    p_relu: float = 0.8
    max_lines: int = 5

    @classmethod
    def for_image(cls, size: int) -> GrammarConfig:
        """Preset for 8x8 (rescaled, default) or 28x28 (reference samplers) images.

        Raises:
            ConfigError: If ``size`` is not 8 or 28.
        """
        if size == 8:
            return cls()
        if size == 28:
            return cls(
                image_size=28,
                conv2d_kernels=((3, 0.1), (5, 0.45), (7, 0.45)),
                conv2d_stride2=0.2,
                pool_sizes=((2, 0.7), (3, 0.3)),
                dense_image=(64.0, 8.0),
                dense_genotype=(64.0, 8.0),
                dense_trunk=(128.0, 30.0),
            )
        raise ConfigError(f"image size must be 8 or 28, got {size}; pass 8 (digits) or 28 (MNIST)")


def _choice(rng: np.random.Generator, pairs: tuple[tuple[object, float], ...]) -> object:
    probs = np.array([p for _, p in pairs], dtype=float)
    return pairs[int(rng.choice(len(pairs), p=probs / probs.sum()))][0]


def sample_units(rng: np.random.Generator, mean_sd: tuple[float, float], floor: int = 1) -> int:
    """Dense units ~ round(N(mean, sd)), at least ``floor``."""
    return max(floor, round(rng.normal(*mean_sd)))


def sample_filters(rng: np.random.Generator, cfg: GrammarConfig) -> int:
    """Conv filters 2^k, k = 2..6 with ``cfg.conv_filters`` probabilities."""
    probs = np.asarray(cfg.conv_filters, dtype=float)
    return 2 ** (2 + int(rng.choice(len(probs), p=probs / probs.sum())))


def loss_balance(rng: np.random.Generator) -> str:
    """α ~ U(0, 1), written with 4 decimals (``'0.dddd'``)."""
    return f"{rng.uniform(0.0, 1.0):.4f}"


def _activation(rng: np.random.Generator, cfg: GrammarConfig) -> str:
    return "relu" if rng.uniform() < cfg.p_relu else "sigmoid"


def _layer_line(rng: np.random.Generator, cfg: GrammarConfig, branch: str, state: str) -> str:
    var = _VAR[branch]
    if state == "bn":
        return f"{var} = BatchNormalization()({var})"
    if state == "conv":
        k = _choice(rng, cfg.conv2d_kernels)
        s = 2 if rng.uniform() < cfg.conv2d_stride2 else 1
        args = f"filters={sample_filters(rng, cfg)}, kernel_size={k}, strides={s}"
    elif state == "conv1d":
        k = _choice(rng, cfg.conv1d_kernels)
        s = 2 if rng.uniform() < cfg.conv1d_stride2 else 1
        args = f"filters={sample_filters(rng, cfg)}, kernel_size={k}, strides={s}"
    elif state == "pool":
        args = f"pool_size={_choice(rng, cfg.pool_sizes)}"
    else:  # dense
        if branch == "image":
            units = sample_units(rng, cfg.dense_image)
        elif branch == "genotype":
            units = sample_units(rng, cfg.dense_genotype)
        else:
            units = sample_units(rng, cfg.dense_trunk, cfg.min_trunk_units)
        args = f"units={units}, activation='{_activation(rng, cfg)}'"
    return f"{var} = {_CONSTRUCTOR[state]}({args})({var})"


def _branch(rng: np.random.Generator, cfg: GrammarConfig, branch: str) -> list[str]:
    table = TRANSITIONS[branch]
    lines: list[str] = []
    state = _choice(rng, table["start"])
    while state != "end" and len(lines) < cfg.max_lines:
        lines.append(_layer_line(rng, cfg, branch, str(state)))
        state = _choice(rng, table[str(state)])
    return lines


def generate_program(rng: np.random.Generator, cfg: GrammarConfig | None = None) -> str:
    """One random program in the canonical token layout.

    Args:
        rng: Source of randomness.
        cfg: Samplers; default ``GrammarConfig.for_image(8)``.

    Returns:
        Program text, lines joined by newlines, the last one ``loss_balance = 0.dddd``.
    """
    cfg = cfg or GrammarConfig()
    lines = _branch(rng, cfg, "image") + _branch(rng, cfg, "genotype") + [JOIN_LINE]
    lines += _branch(rng, cfg, "trunk")
    lines.append(f"loss_balance = {loss_balance(rng)}")
    return "\n".join(lines)


def generate_corpus(n: int, seed: int, cfg: GrammarConfig | None = None) -> list[str]:
    """``n`` programs from ``np.random.default_rng(seed)``.

    Raises:
        ConfigError: If ``n`` is negative.
    """
    if n < 0:
        raise ConfigError(f"corpus size must be >= 0, got {n}")
    rng = np.random.default_rng(seed)
    return [generate_program(rng, cfg) for _ in range(n)]


def grammar_shares(
    n: int, size: int = 8, seed: int = 0, caps: tuple[int, ...] = (200_000, 1_000_000, 2_000_000)
) -> dict[str, float]:
    """Shape-invalid and over-cap shares of ``n`` programs of the ``size`` preset.

    Args:
        n: Programs to generate.
        size: Image size preset (8 or 28).
        seed: Corpus seed.
        caps: Parameter caps; for each, the share of *valid* programs above it.

    Returns:
        ``invalid`` (share failing the interpreter without a cap), ``over_cap_<cap>``,
        parameter percentiles ``params_p10/p50/p90`` and token statistics.
    """
    from .program import Death, interpret
    from .tokens import n_tokens

    progs = generate_corpus(n, seed, GrammarConfig.for_image(size))
    results = [interpret(p, image_shape=(size, size, 1), param_cap=1 << 62) for p in progs]
    params = np.array([r.total_params for r in results if not isinstance(r, Death)])
    lengths = np.array([n_tokens(p) for p in progs])
    out = {"invalid": float(np.mean([isinstance(r, Death) for r in results]))}
    out.update({f"over_cap_{c}": float(np.mean(params > c)) for c in caps})
    out.update({f"params_p{q}": float(np.percentile(params, q)) for q in (10, 50, 90)})
    out.update(
        {
            "tokens_mean": float(lengths.mean()),
            "tokens_p99": float(np.percentile(lengths, 99)),
            "tokens_over_256": float(np.mean(lengths > 256)),
        }
    )
    return out


__all__ = [
    "JOIN_LINE",
    "TRANSITIONS",
    "GrammarConfig",
    "generate_corpus",
    "generate_program",
    "grammar_shares",
    "loss_balance",
    "sample_filters",
    "sample_units",
]

if __name__ == "__main__":
    import json
    import sys

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    print(json.dumps({s: grammar_shares(count, s) for s in (8, 28)}, indent=2))
