"""Organism networks (ON): a layered network whose every edge weight is a particle.

``science/organism.md``. Each edge (l, c, e) — from neuron e of neuron layer l into neuron c of
neuron layer l+1 — is a linear, bias-free 5-input particle M_{l,c,e}; a neuron sums the outputs
of its incoming particles in auxiliary mode: O(l+1, c) = Σ_e M_{l,c,e}(0, 0, 0, 0, O(l, e)).
Particles are rows of one ``ParticleStore``, enumerated layer → cell → edge (row-major (c, e),
a torch ``Linear`` weight's (out, in) order), so each ON layer is a contiguous slice.

Because a linear bias-free particle acts on its auxiliary input as a scalar weight
w̃ = M(0, 0, 0, 0, 1), the ON equals the bias-free MLP with weights w̃. ``forward`` uses that
(one batched w̃ computation, one matmul per layer); ``forward(general=True)`` evaluates every
particle on every sample and is the test oracle of the shortcut.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from functools import cached_property

import networkx as nx
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .apply import apply_auxiliary, extracted_weight
from .classify import ParticleType, classify
from .errors import ConfigError, ShapeError
from .network import FLOAT_DTYPES, ParticleSpec, check_weights
from .store import ParticleStore
from .train import self_train_step

ON_ACTIVATIONS = ("none", "gelu")
ON_RESIDUALS = ("none", "every")


class OrganismType(enum.IntEnum):
    """Particle types inside an organism, in the order they are tested (Def. 8 typing)."""

    DIVERGENT = 0
    ZERO = 1
    SR = 2
    F = 3

    @property
    def label(self) -> str:
        """Lower-case name used in tables and files (``sr``)."""
        return self.name.lower()


ORGANISM_TYPE_LABELS: tuple[str, ...] = tuple(t.label for t in OrganismType)

# ParticleType code → OrganismType code: fixpoint → SR; second order and other → F
_FROM_PARTICLE_TYPE = torch.tensor(
    [
        OrganismType.DIVERGENT,
        OrganismType.ZERO,
        OrganismType.SR,
        OrganismType.F,
        OrganismType.F,
    ],
    dtype=torch.int8,
)
assert len(_FROM_PARTICLE_TYPE) == len(ParticleType)


def organism_spec(hidden: int) -> ParticleSpec:
    """The particle spec of an ON: ``ParticleSpec(5, hidden, 1)``, linear, global encoding."""
    if isinstance(hidden, bool) or not isinstance(hidden, int) or hidden < 1:
        raise ConfigError(f"hidden must be an int >= 1 (the paper uses 3 or 5), got {hidden!r}")
    return ParticleSpec(n_inputs=5, hidden=hidden, n_outputs=1)


def check_organism_spec(spec: object) -> ParticleSpec:
    """Raise ``ConfigError`` unless ``spec`` is a linear 5-input particle spec."""
    if not isinstance(spec, ParticleSpec):
        raise ConfigError(f"spec must be a ParticleSpec, got {type(spec).__name__}")
    if not spec.is_linear:
        raise ConfigError(
            f"organism particles must be linear (a nonlinear particle is no scalar weight), "
            f"got activation {spec.activation!r}; use ParticleSpec(5, h, 1)"
        )
    if spec.n_inputs != 5:
        raise ConfigError(
            f"organism particles need exactly 5 inputs (value, layer, cell, edge, aux), "
            f"got {spec.n_inputs}; use ParticleSpec(5, h, 1)"
        )
    return spec


def _check_layer_sizes(layer_sizes: object) -> tuple[int, ...]:
    if isinstance(layer_sizes, str) or not isinstance(layer_sizes, Sequence):
        raise ConfigError(f"layer_sizes must be a sequence of ints, got {layer_sizes!r}")
    sizes = tuple(layer_sizes)
    if len(sizes) < 2:
        raise ConfigError(f"layer_sizes needs at least an input and an output size, got {sizes}")
    for n in sizes:
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ConfigError(f"every layer size must be an int >= 1, got {sizes}")
    return sizes


def _check_choice(name: str, value: object, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ConfigError(
            f"unknown {name} {value!r}; expected one of {', '.join(repr(a) for a in allowed)}"
        )
    return str(value)


def residual_layers(layer_sizes: Sequence[int], residual: str) -> tuple[bool, ...]:
    """Per weight layer: True where its input is added to its output.

    ``every`` adds the input of each width→width layer, i.e. a layer between two hidden neuron
    layers of equal size; ``none`` never.
    """
    r = len(layer_sizes) - 1
    return tuple(
        residual == "every" and 0 < layer < r - 1 and layer_sizes[layer] == layer_sizes[layer + 1]
        for layer in range(r)
    )


def mlp_forward(
    mats: Sequence[Tensor], x: Tensor, activation: str = "none", residual: str = "none"
) -> Tensor:
    """The bias-free MLP y = W_r ⋯ φ(W_1 x) with the ON options (differentiable).

    mats: [n_{l+1}, n_l] per layer; x: [B, n_0]. Returns [B, n_r].
    """
    sizes = [mats[0].shape[1]] + [m.shape[0] for m in mats]
    skips = residual_layers(sizes, residual)
    h = x
    for layer, W in enumerate(mats):
        out = h @ W.T
        h = out + h if skips[layer] else out
        if activation == "gelu" and layer < len(mats) - 1:
            h = F.gelu(h)
    return h


class OrganismNetwork:
    """An organism network whose edges are particles of one ``ParticleStore``.

    Args:
        layer_sizes: neuron layer sizes n_0 (input) … n_r (output), e.g. ``(2, 3, 3, 1)``.
        hidden: particle hidden width h (particles are ``ParticleSpec(5, h, 1)``, h² + 6h
            weights each).
        activation: ``none`` or ``gelu``, applied after every hidden neuron layer.
        residual: ``none`` or ``every`` (add the input of each width→width layer).
        weights: optional initial particles [N, P] in layer → cell → edge order; otherwise
            xavier-uniform from ``generator``.
        generator: torch generator for the initial weights.
        dtype: float32 or float64.
        device: the store's device (default: the generator's, else CPU).
        spec: optional explicit particle spec (must be linear with 5 inputs); overrides
            ``hidden``.
    """

    def __init__(
        self,
        layer_sizes: Sequence[int],
        hidden: int = 3,
        activation: str = "none",
        residual: str = "none",
        *,
        weights: Tensor | None = None,
        generator: torch.Generator | None = None,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str | None = None,
        spec: ParticleSpec | None = None,
    ) -> None:
        self.layer_sizes = _check_layer_sizes(layer_sizes)
        self.spec = check_organism_spec(spec) if spec is not None else organism_spec(hidden)
        self.hidden = self.spec.hidden
        self.activation = _check_choice("activation", activation, ON_ACTIVATIONS)
        self.residual = _check_choice("residual", residual, ON_RESIDUALS)
        if dtype not in FLOAT_DTYPES:
            raise ConfigError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
        if device is None:
            device = generator.device if generator is not None else "cpu"
        counts = [a * b for a, b in zip(self.layer_sizes[:-1], self.layer_sizes[1:], strict=True)]
        self.layer_counts: tuple[int, ...] = tuple(counts)
        self.layer_offsets: tuple[int, ...] = tuple([0, *torch.tensor(counts).cumsum(0).tolist()])
        n = self.layer_offsets[-1]
        if weights is None:
            weights = self.spec.init(n, generator, dtype=dtype, device=device)
        else:
            check_weights(self.spec, weights, "weights")
            if weights.shape[0] != n:
                raise ShapeError(
                    f"weights must have {n} rows for layer sizes {list(self.layer_sizes)}, "
                    f"got {weights.shape[0]}"
                )
        self.store = ParticleStore(self.spec, n, device=device, dtype=dtype)
        self.store.add(weights.detach())

    # ---- layout -------------------------------------------------------------------------
    @property
    def n_particles(self) -> int:
        """N = Σ_l n_l · n_{l+1}."""
        return self.layer_offsets[-1]

    @property
    def n_weights(self) -> int:
        """P, the number of weights of one particle (h² + 6h)."""
        return self.spec.n_weights

    @property
    def device(self) -> torch.device:
        """The store's device."""
        return self.store.device

    @property
    def dtype(self) -> torch.dtype:
        """The store's float dtype."""
        return self.store.dtype

    @property
    def weights(self) -> Tensor:
        """The particles' flat weights [N, P] (a copy: write through ``set_weights``)."""
        return self.store.weights.detach().clone()

    @property
    def uid(self) -> Tensor:
        """Store uids of the particles, [N] int64."""
        return self.store.uid.clone()

    @cached_property
    def index(self) -> Tensor:
        """(l, c, e) of every particle, [N, 3] int64, in row order."""
        rows = []
        for layer, (n_in, n_out) in enumerate(
            zip(self.layer_sizes[:-1], self.layer_sizes[1:], strict=True)
        ):
            c, e = torch.meshgrid(torch.arange(n_out), torch.arange(n_in), indexing="ij")
            rows.append(torch.stack([torch.full_like(c, layer), c, e], dim=-1).reshape(-1, 3))
        return torch.cat(rows)

    @cached_property
    def names(self) -> list[str]:
        """``L{l}_C{c}_W{e}`` of every particle, in row order."""
        return [f"L{lo}_C{c}_W{e}" for lo, c, e in self.index.tolist()]

    @property
    def graph(self) -> nx.DiGraph:
        """Neurons ``(layer, index)`` as nodes; particle (l, c, e) is edge (l, e) → (l+1, c).

        Each edge carries ``row`` (store row), ``uid``, ``name`` and ``l``, ``c``, ``e``.
        """
        g = nx.DiGraph()
        for layer, size in enumerate(self.layer_sizes):
            g.add_nodes_from(((layer, i) for i in range(size)), layer=layer)
        uids = self.store.uid.tolist()
        for row, ((lo, c, e), name) in enumerate(zip(self.index.tolist(), self.names, strict=True)):
            g.add_edge((lo, e), (lo + 1, c), row=row, uid=uids[row], name=name, l=lo, c=c, e=e)
        return g

    def layer_rows(self, layer: int) -> slice:
        """The store rows of weight layer ``layer`` (a contiguous slice)."""
        return slice(self.layer_offsets[layer], self.layer_offsets[layer + 1])

    def set_weights(self, weights: Tensor) -> None:
        """Replace all particles' weights. weights: [N, P]."""
        check_weights(self.spec, weights, "weights")
        if weights.shape[0] != self.n_particles:
            raise ShapeError(f"weights must have {self.n_particles} rows, got {weights.shape[0]}")
        self.store.set_weights(torch.arange(self.n_particles), weights.detach())

    def copy(self) -> OrganismNetwork:
        """A deep copy (same uids, options, device and dtype)."""
        other = OrganismNetwork.__new__(OrganismNetwork)
        other.__dict__.update({k: v for k, v in self.__dict__.items() if k != "store"})
        other.store = self.store.clone()
        return other

    # ---- the task -----------------------------------------------------------------------
    def _check_x(self, x: object) -> Tensor:
        n0 = self.layer_sizes[0]
        if not isinstance(x, Tensor) or x.dim() != 2 or x.shape[1] != n0:
            shape = list(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ShapeError(f"x must be a tensor [B, {n0}] (the ON's input size), got {shape}")
        return x

    def extracted_matrices(self, w: Tensor) -> list[Tensor]:
        """w̃ of every particle of weights ``w`` [N, P], as [n_{l+1}, n_l] per layer."""
        wt = extracted_weight(self.spec, w)  # [N]
        return [
            wt[self.layer_rows(layer)].view(n_out, n_in)
            for layer, (n_in, n_out) in enumerate(
                zip(self.layer_sizes[:-1], self.layer_sizes[1:], strict=True)
            )
        ]

    def evaluate(self, w: Tensor, x: Tensor, *, general: bool = False) -> Tensor:
        """The ON with particle weights ``w`` [N, P] on x [B, n_0] → [B, n_r] (differentiable).

        ``general=False``: w̃ for all rows in one batched call, then one matmul per layer.
        ``general=True``: every particle of a layer evaluated on (0, 0, 0, 0, x_e) for every
        sample in one batched call, outputs summed per cell.
        """
        x = self._check_x(x)
        if not general:
            return mlp_forward(self.extracted_matrices(w), x, self.activation, self.residual)
        skips = residual_layers(self.layer_sizes, self.residual)
        r = len(self.layer_sizes) - 1
        h = x
        for layer in range(r):
            n_in, n_out = self.layer_sizes[layer], self.layer_sizes[layer + 1]
            # particle (c, e) sees column e of h: [n_out * n_in, B]
            inputs = h.T.repeat(n_out, 1)
            y = apply_auxiliary(self.spec, w[self.layer_rows(layer)], inputs)
            out = y.view(n_out, n_in, -1).sum(dim=1).T
            h = out + h if skips[layer] else out
            if self.activation == "gelu" and layer < r - 1:
                h = F.gelu(h)
        return h

    def forward(self, x: Tensor, general: bool = False) -> Tensor:
        """The ON's output. x: [B, n_0] → [B, n_r]; ``general`` as in ``evaluate``."""
        with torch.no_grad():
            return self.evaluate(self.store.weights, x, general=general)

    __call__ = forward

    def extracted_weights(self) -> list[Tensor]:
        """w̃ = M(0, 0, 0, 0, 1) per layer, [n_{l+1}, n_l] each (torch ``Linear`` layout)."""
        with torch.no_grad():
            return [m.clone() for m in self.extracted_matrices(self.store.weights)]

    def to_mlp(self) -> OrganismMLP:
        """Re-substitution: the bias-free MLP with weights w̃ and the same options."""
        return OrganismMLP(self.extracted_weights(), self.activation, self.residual)

    # ---- particles ----------------------------------------------------------------------
    def classify(self, epsilon: float = 1e-5) -> Tensor:
        """Type of every particle: [N] int8 codes of ``OrganismType``.

        divergent → zero → SR (|M(enc_i) − w_i| ≤ ε for every own weight) → F.
        """
        codes = classify(self.spec, self.store.weights, epsilon)
        return _FROM_PARTICLE_TYPE.to(codes.device)[codes.long()]

    def self_train(
        self, steps: int = 1, lr: float = 0.004, momentum: float = 0.9
    ) -> Tensor:
        """``steps`` self-train steps of every particle with one fresh SGD (momentum) buffer.

        Returns the per-particle loss [N] before the last step.
        """
        w, buf, loss = self.store.weights, None, None
        for _ in range(steps):
            w, loss, buf = self_train_step(self.spec, w, lr, momentum=momentum, buf=buf)
        if loss is None:
            raise ConfigError(f"steps must be >= 1, got {steps}")
        self.set_weights(w)
        return loss

    def zero_particles(self, mask: Tensor) -> OrganismNetwork:
        """A copy in which the particles in ``mask`` ([N] bool) have all weights 0."""
        if not isinstance(mask, Tensor) or mask.shape != (self.n_particles,):
            shape = list(mask.shape) if isinstance(mask, Tensor) else type(mask).__name__
            raise ShapeError(f"mask must be a bool tensor [{self.n_particles}], got {shape}")
        other = self.copy()
        other.store.weights[mask.to(device=self.device, dtype=torch.bool)] = 0.0
        other.store.ptype[:] = -1
        return other

    def __repr__(self) -> str:
        sizes = "-".join(map(str, self.layer_sizes))
        return (
            f"OrganismNetwork({sizes}, h={self.hidden}, {self.n_particles} particles, "
            f"activation={self.activation}, residual={self.residual})"
        )


class OrganismMLP(nn.Module):
    """The bias-free MLP an ON re-substitutes into (same activation and residual options)."""

    def __init__(
        self, mats: Sequence[Tensor], activation: str = "none", residual: str = "none"
    ) -> None:
        super().__init__()
        self.activation = _check_choice("activation", activation, ON_ACTIVATIONS)
        self.residual = _check_choice("residual", residual, ON_RESIDUALS)
        self.layers = nn.ModuleList()
        for m in mats:
            lin = nn.Linear(m.shape[1], m.shape[0], bias=False, dtype=m.dtype, device=m.device)
            with torch.no_grad():
                lin.weight.copy_(m)
            self.layers.append(lin)

    def forward(self, x: Tensor) -> Tensor:
        """x: [B, n_0] → [B, n_r]."""
        return mlp_forward([lin.weight for lin in self.layers], x, self.activation, self.residual)


def hidden_from_n_weights(n_weights: int) -> int:
    """The hidden width h with h² + 6h = ``n_weights`` (``ShapeError`` when there is none)."""
    h = round((-6 + math.sqrt(36 + 4 * n_weights)) / 2)
    if h < 1 or h * h + 6 * h != n_weights:
        raise ShapeError(f"{n_weights} weights per particle is no 5-h-h-1 particle (h² + 6h)")
    return h


__all__ = [
    "ON_ACTIVATIONS",
    "ON_RESIDUALS",
    "ORGANISM_TYPE_LABELS",
    "OrganismMLP",
    "OrganismNetwork",
    "OrganismType",
    "check_organism_spec",
    "hidden_from_n_weights",
    "mlp_forward",
    "organism_spec",
    "residual_layers",
]
