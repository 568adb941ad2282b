"""``ParticleSpec``: the layout of a particle network's flat weight vector.

A particle network (PN) is a bias-free MLP ``y = W_L·φ(…φ(W_1·x))`` with one output. Its
weights live in one flat vector ``w [n_weights]``: W1, W2, …, each row-major with row = output
unit (torch ``Linear`` layout), so weight (layer l, cell c, edge e) sits at
``offset[l] + c·in_l + e`` (``science/particles.md`` §1).

Two more kinds from the 2019 paper (§9) share the class: ``aggregating`` (an MLP
aggregates → aggregates, width ``aggregates`` in and out) and ``recurrent`` (a stack of
bias-free simple RNN layers, each a kernel K [out, in] then a recurrent matrix R [out, out] in
the flat vector, 1 input and 1 output per time step). See ``particle_kinds.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import torch
from torch import Tensor

from .errors import ConfigError, ShapeError

ACTIVATIONS = ("linear", "tanh", "sigmoid", "relu", "gelu")
ENCODINGS = ("global", "per_layer", "alife2019")
INITS = ("xavier", "torch")
KINDS = ("weightwise", "aggregating", "recurrent")
AGGREGATIONS = ("mean", "max")
FLOAT_DTYPES = (torch.float32, torch.float64)


@dataclass(frozen=True)
class ParticleSpec:
    """Architecture of one particle network; shared by every particle of a soup.

    Args:
        n_inputs: inputs per weight: value, layer, cell, edge, then auxiliary inputs (≥ 4).
        hidden: width of every hidden layer.
        n_outputs: must be 1 (weightwise application maps one weight to one weight).
        depth: number of weight matrices (3 in every reference).
        activation: φ after every hidden layer: one of ``ACTIVATIONS``.
        encoding: position normalisation: ``global``, ``per_layer`` or ``alife2019``.
        weight_init: ``xavier`` (Glorot-uniform, default) or ``torch`` (U(±1/√fan_in)).
        kind: ``weightwise`` (default, §1–4), ``aggregating`` or ``recurrent`` (§9). The
            other kinds ignore positions: leave ``n_inputs``, ``n_outputs`` and ``encoding``
            at their defaults for them.
        aggregates: number of aggregates A of an ``aggregating`` particle (its input and
            output width, 4 in the 2019 paper).
        aggregation: how an ``aggregating`` particle aggregates a collection: ``mean``
            (default) or ``max``.
    """

    n_inputs: int = 4
    hidden: int = 2
    n_outputs: int = 1
    depth: int = 3
    activation: str = "linear"
    encoding: str = "global"
    weight_init: str = "xavier"
    kind: str = "weightwise"
    aggregates: int = 4
    aggregation: str = "mean"

    def __post_init__(self) -> None:
        for name in ("n_inputs", "hidden", "n_outputs", "depth", "aggregates"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigError(f"ParticleSpec.{name} must be an int, got {value!r}")
        if self.n_inputs < 4:
            raise ConfigError(
                f"ParticleSpec.n_inputs must be >= 4 (value, layer, cell, edge), "
                f"got {self.n_inputs}"
            )
        if self.hidden < 1:
            raise ConfigError(f"ParticleSpec.hidden must be >= 1, got {self.hidden}")
        if self.n_outputs != 1:
            raise ConfigError(
                f"ParticleSpec.n_outputs must be 1 (a particle maps one weight to one weight), "
                f"got {self.n_outputs}"
            )
        if self.depth < 2:
            raise ConfigError(f"ParticleSpec.depth must be >= 2 weight matrices, got {self.depth}")
        _check_choice("activation", self.activation, ACTIVATIONS)
        _check_choice("encoding", self.encoding, ENCODINGS)
        _check_choice("weight_init", self.weight_init, INITS)
        _check_choice("kind", self.kind, KINDS)
        _check_choice("aggregation", self.aggregation, AGGREGATIONS)
        self._check_kind_fields()

    def _check_kind_fields(self) -> None:
        """Fields that belong to one kind must stay at their defaults for the others."""
        if self.kind != "weightwise":
            for name, default in (("n_inputs", 4), ("n_outputs", 1), ("encoding", "global")):
                if getattr(self, name) != default:
                    raise ConfigError(
                        f"ParticleSpec.{name} applies to weightwise particles only; "
                        f"leave it at {default!r} for kind {self.kind!r}"
                    )
        if self.kind != "aggregating":
            for name, default in (("aggregates", 4), ("aggregation", "mean")):
                if getattr(self, name) != default:
                    raise ConfigError(
                        f"ParticleSpec.{name} applies to aggregating particles only; "
                        f"leave it at {default!r} for kind {self.kind!r}"
                    )
        elif self.aggregates < 1:  # then P >= 2·A, so every collection holds >= 2 weights
            raise ConfigError(
                f"ParticleSpec.aggregates must be >= 1 (collections of the weight vector), "
                f"got {self.aggregates}; the 2019 paper used 4"
            )

    @cached_property
    def layer_shapes(self) -> tuple[tuple[int, int], ...]:
        """(out, in) of each weight matrix in flat order, first layer first.

        recurrent: kernel then recurrent matrix of each layer, (h, 1), (h, h), (h, h), (h, h),
        …, (1, h), (1, 1).
        """
        h = self.hidden
        if self.kind == "aggregating":
            a = self.aggregates
            return ((h, a),) + ((h, h),) * (self.depth - 2) + ((a, h),)
        if self.kind == "recurrent":
            sizes = [(h, 1)] + [(h, h)] * (self.depth - 2) + [(1, h)]
            return tuple(m for out, n_in in sizes for m in ((out, n_in), (out, out)))
        return ((h, self.n_inputs),) + ((h, h),) * (self.depth - 2) + ((self.n_outputs, h),)

    @cached_property
    def offsets(self) -> tuple[int, ...]:
        """Flat index where each weight matrix starts."""
        out, k = [], 0
        for rows, cols in self.layer_shapes:
            out.append(k)
            k += rows * cols
        return tuple(out)

    @property
    def n_weights(self) -> int:
        """P, the length of the flat weight vector (14 for 4-2-1)."""
        return sum(r * c for r, c in self.layer_shapes)

    @property
    def is_linear(self) -> bool:
        """True when φ is the identity, so the network collapses to one row vector."""
        return self.activation == "linear"

    @property
    def name(self) -> str:
        """Short label: ``4-2-1``, ``aggregating 4-2-4``, ``recurrent 1-2-1``."""
        if self.kind == "aggregating":
            return f"aggregating {self.aggregates}-{self.hidden}-{self.aggregates}"
        if self.kind == "recurrent":
            return f"recurrent 1-{self.hidden}-1"
        return f"{self.n_inputs}-{self.hidden}-{self.n_outputs}"

    def unpack(self, w: Tensor) -> list[Tensor]:
        """Per-layer matrix views of a batch of flat weights.

        w: [N, n_weights]. Returns views [N, out_l, in_l], one per layer (no copy).
        """
        check_weights(self, w, "w")
        return [
            w[:, off : off + r * c].view(w.shape[0], r, c)
            for off, (r, c) in zip(self.offsets, self.layer_shapes, strict=True)
        ]

    def pack(self, mats: list[Tensor]) -> Tensor:
        """Inverse of ``unpack``: [N, out_l, in_l] matrices → [N, n_weights]."""
        return torch.cat([m.reshape(m.shape[0], m.shape[1] * m.shape[2]) for m in mats], dim=1)

    def init(
        self,
        n: int,
        generator: torch.Generator | None = None,
        *,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str | None = None,
    ) -> Tensor:
        """Fresh random particles, U(−a, a) per matrix; a from ``weight_init``.

        Returns: [n, n_weights]. Deterministic for a given generator state.
        """
        if n < 0:
            raise ConfigError(f"number of particles must be >= 0, got {n}")
        if generator is not None and device is None:
            device = generator.device
        u = torch.rand(n, self.n_weights, generator=generator, dtype=dtype, device=device)
        bounds = torch.empty(self.n_weights, dtype=dtype, device=u.device)
        for off, (rows, cols) in zip(self.offsets, self.layer_shapes, strict=True):
            if self.weight_init == "xavier":
                a = math.sqrt(6.0 / (cols + rows))
            else:
                a = 1.0 / math.sqrt(cols)
            bounds[off : off + rows * cols] = a
        return (2.0 * u - 1.0) * bounds

    def perfect_fixpoint(self, n: int = 1, *, dtype: torch.dtype = torch.float32) -> Tensor:
        """The hand-made perfect fixpoint: W_l[0, 0] = 1 in every layer, all else 0.

        Then f(x) = x₀, so self-application returns w exactly. Returns [n, n_weights].
        recurrent: K_l[0, 0] = 1, every recurrent matrix 0, so the output sequence is the input.
        aggregating particles have none (a rank-h map of A aggregates): ConfigError.
        """
        if self.kind == "aggregating":
            raise ConfigError(
                "aggregating particles have no hand-made perfect fixpoint; "
                "use kind 'weightwise' or 'recurrent'"
            )
        offsets = self.offsets[0::2] if self.kind == "recurrent" else self.offsets
        w = torch.zeros(n, self.n_weights, dtype=dtype)
        w[:, list(offsets)] = 1.0
        return w

    def to_dict(self) -> dict[str, int | str]:
        """JSON-ready fields; ``ParticleSpec(**spec.to_dict()) == spec``.

        A weightwise spec writes exactly the fields it always wrote (no ``kind``), so stored
        configs of existing runs stay byte-identical; other kinds write ``kind`` and their own
        fields instead of the weightwise-only ones.
        """
        if self.kind == "aggregating":
            extra = {"aggregates": self.aggregates, "aggregation": self.aggregation}
            return {**self._common(), **extra}
        if self.kind == "recurrent":
            return self._common()
        return {
            "n_inputs": self.n_inputs,
            "hidden": self.hidden,
            "n_outputs": self.n_outputs,
            "depth": self.depth,
            "activation": self.activation,
            "encoding": self.encoding,
            "weight_init": self.weight_init,
        }

    def _common(self) -> dict[str, int | str]:
        return {
            "kind": self.kind,
            "hidden": self.hidden,
            "depth": self.depth,
            "activation": self.activation,
            "weight_init": self.weight_init,
        }


def _check_choice(field: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(
            f"unknown {field} {value!r}; expected one of {', '.join(repr(a) for a in allowed)}"
        )


def check_weights(spec: ParticleSpec, w: object, name: str = "weights") -> Tensor:
    """Raise ``ShapeError`` unless ``w`` is a float32/float64 tensor [N, spec.n_weights]."""
    if not isinstance(w, Tensor):
        raise ShapeError(
            f"{name} must be a torch.Tensor [N, {spec.n_weights}], got {type(w).__name__}"
        )
    if w.dim() != 2 or w.shape[1] != spec.n_weights:
        raise ShapeError(
            f"{name} must have shape [N, {spec.n_weights}] for a {spec.name} particle, "
            f"got {list(w.shape)}"
        )
    if w.dtype not in FLOAT_DTYPES:
        raise ShapeError(f"{name} must be float32 or float64, got {w.dtype}")
    return w


def check_pair(spec: ParticleSpec, a: Tensor, b: Tensor, names: tuple[str, str]) -> None:
    """Raise ``ShapeError`` unless ``a`` and ``b`` are matching weight batches."""
    check_weights(spec, a, names[0])
    check_weights(spec, b, names[1])
    if a.shape != b.shape:
        raise ShapeError(
            f"{names[0]} and {names[1]} must have the same shape, "
            f"got {list(a.shape)} and {list(b.shape)}"
        )
    if a.dtype != b.dtype:
        raise ShapeError(f"{names[0]} is {a.dtype} but {names[1]} is {b.dtype}; use one dtype")
    if a.device != b.device:
        raise ShapeError(
            f"{names[0]} is on {a.device} but {names[1]} is on {b.device}; move both to one device"
        )


#: The fewest rows a block of ``row_blocks`` holds: torch sends a [n, 3] @ [3, k] product of
#: n ≤ 3 rows down another CPU path whose float results differ in the last bit (measured with
#: torch 2.13), so a block that small would break "blocked ≡ one call".
MIN_BLOCK_ROWS = 8


def row_blocks(n: int, block_rows: int | None) -> list[tuple[int, int]]:
    """Split rows ``0 … n−1`` into near-equal ``(start, stop)`` blocks of at most ``block_rows``.

    None, 0 or ``n ≤ block_rows`` gives one block. Equal splits leave no small tail: every
    block holds more than half of ``block_rows`` rows, and at least ``MIN_BLOCK_ROWS``
    (``block_rows`` is raised to 2·``MIN_BLOCK_ROWS`` when smaller).
    """
    if not block_rows:
        return [(0, n)]
    block = max(int(block_rows), 2 * MIN_BLOCK_ROWS)
    k = max(1, -(-n // block))
    return [(n * i // k, n * (i + 1) // k) for i in range(k)]
