"""Neural network quines (Chang & Lipson 2018), batched over populations (``science/quine.md``).

A quine prints its own weights one coordinate at a time: f_θ(c) ≈ θ_c for c ∈ {0…N−1}. The
coordinate enters through a fixed random projection P [N, d] (row p_c = one-hot(c)·P), which is
data shared by every quine of a run, never a parameter. Vanilla: h0 = σ(p_c), h1 = σ(W1·h0),
h2 = σ(W2·h1), f = w_out·h2 with σ = SELU, no biases, linear output. The auxiliary quine feeds
h0 = σ([p_c ; P_img·x]) for an image x and also classifies it: logits = W_cls·h2.

A population of Q independent quines keeps its weights as one [Q, N] tensor; every kernel here
runs on all Q at once with batched matmuls, so each member behaves exactly as if it were alone.
The flat θ is W1, W2, w_out (, W_cls), each row-major with row = output unit (torch ``Linear``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from functools import cached_property
from typing import Any

import torch
from torch import Tensor
from torch.nn import functional as F

from .errors import ConfigError, ShapeError

INIT_PRESETS = ("paper", "works")
FLOAT_DTYPES = (torch.float32, torch.float64)
#: max|θ| at or below this classifies a quine as ``zero`` (``science/quine.md``, Pitfalls).
ZERO_TOL = 1e-5
#: a quine whose SSE fell while R² ≤ this is flagged ``trivial`` (it shrank, it did not copy).
TRIVIAL_R2 = 0.1
QUINE_CLASSES = ("divergent", "zero", "other")


def _check_int(name: str, value: object, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"QuineSpec.{name} must be an int >= {low}, got {value!r}")
    if value < low:
        raise ConfigError(f"QuineSpec.{name} must be an int >= {low}, got {value}")


@dataclass(frozen=True)
class QuineSpec:
    """Architecture of a quine; shared by every member of a population.

    Args:
        hidden: H, width of both hidden layers (100 in the paper).
        coord_dim: d, width of the coordinate projection p_c (100 vanilla, 50 auxiliary).
        image_dim: width of the image projection P_img·x; 0 = vanilla quine (no images).
        n_pixels: pixels per image (64 for sklearn digits, 784 for MNIST); auxiliary only.
        n_classes: classes of the auxiliary task; auxiliary only.
    """

    hidden: int = 100
    coord_dim: int = 100
    image_dim: int = 0
    n_pixels: int = 0
    n_classes: int = 10

    def __post_init__(self) -> None:
        _check_int("hidden", self.hidden, 1)
        _check_int("coord_dim", self.coord_dim, 1)
        _check_int("image_dim", self.image_dim, 0)
        _check_int("n_pixels", self.n_pixels, 0)
        _check_int("n_classes", self.n_classes, 2)
        if self.image_dim > 0 and self.n_pixels < 1:
            raise ConfigError(
                f"an auxiliary quine (image_dim = {self.image_dim}) needs n_pixels >= 1, got "
                f"{self.n_pixels}; pass n_pixels=64 for sklearn digits or 784 for MNIST"
            )
        if self.image_dim == 0 and self.n_pixels > 0:
            raise ConfigError(
                f"n_pixels = {self.n_pixels} needs image_dim >= 1 (a vanilla quine sees no "
                "images); pass image_dim=50 for the auxiliary quine or n_pixels=0"
            )

    @classmethod
    def vanilla(cls, hidden: int = 100, coord_dim: int | None = None) -> QuineSpec:
        """The paper's vanilla quine (N = 20,100 at H = 100)."""
        return cls(hidden=hidden, coord_dim=hidden if coord_dim is None else coord_dim)

    @classmethod
    def auxiliary(cls, n_pixels: int = 64, hidden: int = 100, n_classes: int = 10) -> QuineSpec:
        """The paper's auxiliary quine (N = 21,100 at H = 100): half coordinate, half image."""
        half = max(hidden // 2, 1)
        return cls(hidden, half, hidden - half or 1, n_pixels, n_classes)

    @property
    def is_auxiliary(self) -> bool:
        """True when the quine also classifies images."""
        return self.image_dim > 0

    @property
    def in_dim(self) -> int:
        """Width of h0: coordinate projection plus image projection."""
        return self.coord_dim + self.image_dim

    @cached_property
    def layer_shapes(self) -> tuple[tuple[int, int], ...]:
        """(out, in) of W1, W2, w_out (, W_cls), in flat order."""
        h = self.hidden
        shapes = ((h, self.in_dim), (h, h), (1, h))
        return (*shapes, (self.n_classes, h)) if self.is_auxiliary else shapes

    @cached_property
    def offsets(self) -> tuple[int, ...]:
        """Flat index where each matrix starts (one more entry: n_weights)."""
        out = [0]
        for r, c in self.layer_shapes:
            out.append(out[-1] + r * c)
        return tuple(out)

    @property
    def n_weights(self) -> int:
        """N, the number of weights (and of coordinates a quine must print)."""
        return self.offsets[-1]

    def unpack(self, w: Tensor) -> list[Tensor]:
        """Views [Q, out, in] of each matrix of w: [Q, N]."""
        return [
            w[:, a:b].reshape(w.shape[0], r, c)
            for (a, b), (r, c) in zip(
                zip(self.offsets[:-1], self.offsets[1:], strict=True), self.layer_shapes,
                strict=True,
            )
        ]  # fmt: skip

    def to_dict(self) -> dict[str, int]:
        """JSON-ready dict of the fields."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QuineSpec:
        """Inverse of ``to_dict``; unknown keys raise ``ConfigError``."""
        known = [f.name for f in fields(cls)]
        for key in data:
            if key not in known:
                raise ConfigError(f"unknown QuineSpec field `{key}`; known: {', '.join(known)}")
        return cls(**data)


def _check_dtype(dtype: torch.dtype) -> None:
    if dtype not in FLOAT_DTYPES:
        raise ConfigError(f"quine dtype must be torch.float32 or torch.float64, got {dtype}")


def _check_init(init: str) -> None:
    if init not in INIT_PRESETS:
        raise ConfigError(
            f"unknown quine init {init!r}; expected one of {', '.join(map(repr, INIT_PRESETS))}"
        )


def draw_projections(
    spec: QuineSpec,
    generator: torch.Generator,
    init: str = "paper",
    *,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> tuple[Tensor, Tensor | None]:
    """The fixed tables of a run: P [N, d] and, for auxiliary quines, P_img [n_pixels, image_dim].

    ``paper``: N(0, 1/(3·in_dim)) table, the std of the torch-default weights of W1 (1/√300 at
    the paper's sizes), and P_img with std 1/√(3·n_pixels). ``works``: unit-std table and P_img
    with std 1/√n_pixels (our decision; the science doc fixes only the table). Drawn first from
    ``generator``, so the tables do not depend on the population size.
    """
    _check_init(init)
    _check_dtype(dtype)
    dev = generator.device if device is None else torch.device(device)
    std = 1.0 / math.sqrt(3 * spec.in_dim) if init == "paper" else 1.0
    proj = torch.randn(spec.n_weights, spec.coord_dim, generator=generator, device=dev)
    proj = (proj * std).to(dtype)
    img = None
    if spec.is_auxiliary:
        istd = 1.0 / math.sqrt((3 if init == "paper" else 1) * spec.n_pixels)
        img = torch.randn(spec.n_pixels, spec.image_dim, generator=generator, device=dev)
        img = (img * istd).to(dtype)
    return proj, img


def init_weights(
    spec: QuineSpec,
    n_quines: int,
    generator: torch.Generator,
    init: str = "paper",
    *,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> Tensor:
    """Initial weights [Q, N]: ``paper`` = torch-default U(±1/√fan_in), ``works`` = He-normal."""
    _check_init(init)
    _check_dtype(dtype)
    check_population_size(n_quines)
    dev = generator.device if device is None else torch.device(device)
    parts = []
    for rows, fan_in in spec.layer_shapes:
        shape = (n_quines, rows * fan_in)
        if init == "paper":
            bound = 1.0 / math.sqrt(fan_in)
            u = torch.rand(shape, generator=generator, device=dev, dtype=torch.float64)
            parts.append((2.0 * u - 1.0) * bound)
        else:
            z = torch.randn(shape, generator=generator, device=dev, dtype=torch.float64)
            parts.append(z * math.sqrt(2.0 / fan_in))
    return torch.cat(parts, dim=1).to(dtype)


def check_population_size(n_quines: object) -> int:
    """Q as an int >= 1, or ``ConfigError``."""
    if isinstance(n_quines, bool) or not isinstance(n_quines, int) or n_quines < 1:
        raise ConfigError(f"a quine population needs Q >= 1 members (an int), got {n_quines!r}")
    return n_quines


class QuinePopulation:
    """Q independent quines of one ``QuineSpec`` sharing the run's fixed projections.

    Args:
        spec: the architecture.
        weights: [Q, N] float32 or float64; the population owns (and replaces) this tensor.
        projection: P [N, coord_dim], same dtype and device.
        image_projection: P_img [n_pixels, image_dim] for auxiliary quines, else None.
    """

    def __init__(
        self,
        spec: QuineSpec,
        weights: Tensor,
        projection: Tensor,
        image_projection: Tensor | None = None,
    ) -> None:
        if not isinstance(spec, QuineSpec):
            raise ConfigError(f"spec must be a QuineSpec, got {type(spec).__name__}")
        n = spec.n_weights
        if weights.dim() != 2 or weights.shape[1] != n:
            raise ShapeError(f"weights must be [Q, {n}], got {list(weights.shape)}")
        check_population_size(int(weights.shape[0]))
        _check_dtype(weights.dtype)
        if tuple(projection.shape) != (n, spec.coord_dim):
            raise ConfigError(
                f"projection must be [N, coord_dim] = [{n}, {spec.coord_dim}] for this spec, got "
                f"{list(projection.shape)}; draw it with draw_projections(spec, generator)"
            )
        if spec.is_auxiliary:
            want = (spec.n_pixels, spec.image_dim)
            if image_projection is None or tuple(image_projection.shape) != want:
                got = None if image_projection is None else list(image_projection.shape)
                raise ConfigError(
                    f"an auxiliary quine needs image_projection [n_pixels, image_dim] = "
                    f"{list(want)}, got {got}; draw it with draw_projections(spec, generator)"
                )
        elif image_projection is not None:
            raise ConfigError("a vanilla quine takes no image_projection; pass None")
        for name, t in (("projection", projection), ("image_projection", image_projection)):
            if t is not None and (t.dtype != weights.dtype or t.device != weights.device):
                raise ShapeError(
                    f"{name} must have the weights' dtype and device ({weights.dtype}, "
                    f"{weights.device}), got ({t.dtype}, {t.device})"
                )
        self.spec = spec
        self.weights = weights
        self.projection = projection
        self.image_projection = image_projection

    @classmethod
    def create(
        cls,
        spec: QuineSpec,
        n_quines: int,
        generator: torch.Generator,
        init: str = "paper",
        *,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str | None = None,
    ) -> QuinePopulation:
        """Draw the tables, then Q members' weights, all from ``generator`` (the run's seed)."""
        check_population_size(n_quines)
        proj, img = draw_projections(spec, generator, init, dtype=dtype, device=device)
        w = init_weights(spec, n_quines, generator, init, dtype=dtype, device=device)
        return cls(spec, w, proj, img)

    # ---- shape helpers -----------------------------------------------------------------
    @property
    def n_quines(self) -> int:
        """Q, the number of members."""
        return int(self.weights.shape[0])

    @property
    def n_weights(self) -> int:
        """N."""
        return self.spec.n_weights

    def image_features(self, images: Tensor) -> Tensor:
        """P_img·x of every image: images [..., n_pixels] → [..., image_dim]."""
        if self.image_projection is None:
            raise ConfigError("a vanilla quine takes no images; pass images=None")
        if images.shape[-1] != self.spec.n_pixels:
            raise ShapeError(
                f"images must have {self.spec.n_pixels} pixels in the last axis, got "
                f"{list(images.shape)}"
            )
        return images.to(self.weights.dtype) @ self.image_projection

    # ---- forward -----------------------------------------------------------------------
    def forward(
        self, weights: Tensor, coords: Tensor, features: Tensor | None = None
    ) -> tuple[Tensor, Tensor | None]:
        """Predictions of member q at its coordinates coords[q].

        weights: [Q, N]; coords: [Q, B] int64; features: [Q, B, image_dim] projected images
        (auxiliary only). Returns (f [Q, B], logits [Q, B, n_classes] or None).
        """
        spec = self.spec
        mats = spec.unpack(weights)
        h = self.projection[coords]  # [Q, B, d]
        if spec.is_auxiliary:
            if features is None:
                raise ConfigError("an auxiliary quine needs an image per coordinate")
            h = torch.cat([h, features], dim=-1)
        h = F.selu(h)
        h = F.selu(torch.bmm(h, mats[0].transpose(1, 2)))
        h = F.selu(torch.bmm(h, mats[1].transpose(1, 2)))
        f = torch.bmm(h, mats[2].transpose(1, 2))[..., 0]
        logits = torch.bmm(h, mats[3].transpose(1, 2)) if spec.is_auxiliary else None
        return f, logits

    def _paired_features(self, images: Tensor | None) -> Tensor | None:
        """Projected images [N, image_dim] for the all-coordinate pass: image c mod M at c."""
        if not self.spec.is_auxiliary:
            if images is not None:
                raise ConfigError("a vanilla quine takes no images; pass images=None")
            return None
        if images is None:
            raise ConfigError(
                "an auxiliary quine's prediction depends on the image: pass the test images; "
                "coordinate c is paired with image c mod n_images"
            )
        feats = self.image_features(images)
        idx = torch.arange(self.n_weights, device=feats.device) % feats.shape[0]
        return feats[idx]

    @torch.no_grad()
    def predict_weights(
        self, images: Tensor | None = None, *, weights: Tensor | None = None, chunk: int = 4096
    ) -> Tensor:
        """f_θ(c) at every coordinate c of every member: [Q, N] (no gradient).

        Auxiliary quines pair coordinate c with images[c mod n_images] (images: [M, n_pixels]).
        ``weights`` (default: the population's) lets callers evaluate other [Q, N] stacks.
        """
        w = self.weights if weights is None else weights
        q, n = w.shape
        feats = self._paired_features(images)
        out = torch.empty_like(w)
        for a in range(0, n, chunk):
            c = torch.arange(a, min(a + chunk, n), device=w.device)
            fb = None if feats is None else feats[c].expand(q, -1, -1)
            out[:, a : a + c.shape[0]] = self.forward(w, c.expand(q, -1), fb)[0]
        return out

    # ---- metrics -----------------------------------------------------------------------
    def metrics(self, images: Tensor | None = None) -> dict[str, Tensor]:
        """All replication metrics from one prediction pass, each [Q] (``science/quine.md``).

        sse = Σ_c (f(c) − θ_c)², r2 = 1 − SSE/Σ(θ − θ̄)² (NaN if all weights are equal),
        margin = √(SSE/N), quotient = ln(N/SSE), rho0 = SSE/Σθ², weight_rms, output_rms.
        """
        w = self.weights
        pred = self.predict_weights(images)
        return replication_metrics(w, pred)

    def sse(self, images: Tensor | None = None) -> Tensor:
        """Σ_c (f_θ(c) − θ_c)² per member: [Q]."""
        return self.metrics(images)["sse"]

    def r2(self, images: Tensor | None = None) -> Tensor:
        """R²_rep per member: [Q] (1 = copy, 0 = guessing the mean)."""
        return self.metrics(images)["r2"]

    def margin(self, images: Tensor | None = None) -> Tensor:
        """Average weight prediction margin √(SSE/N) per member: [Q]."""
        return self.metrics(images)["margin"]

    def quotient(self, images: Tensor | None = None) -> Tensor:
        """Self-replicating quotient ln(N/SSE) per member: [Q]."""
        return self.metrics(images)["quotient"]

    @torch.no_grad()
    def accuracy(self, images: Tensor, labels: Tensor, *, chunk: int = 4096) -> Tensor:
        """Classification accuracy per member: [Q]; test image i is paired with coordinate i mod N.

        images: [M, n_pixels]; labels: [M] int64.
        """
        if not self.spec.is_auxiliary:
            raise ConfigError("accuracy needs an auxiliary quine (image_dim > 0)")
        feats = self.image_features(images)
        m = feats.shape[0]
        if labels.shape != (m,):
            raise ShapeError(f"labels must be [{m}], got {list(labels.shape)}")
        q = self.n_quines
        correct = torch.zeros(q, dtype=torch.int64, device=self.weights.device)
        for a in range(0, m, chunk):
            i = torch.arange(a, min(a + chunk, m), device=feats.device)
            c = (i % self.n_weights).expand(q, -1)
            logits = self.forward(self.weights, c, feats[i].expand(q, -1, -1))[1]
            correct += (logits.argmax(dim=-1) == labels[i].to(logits.device)).sum(dim=1)
        return correct.to(self.weights.dtype) / m

    # ---- self-application --------------------------------------------------------------
    @torch.no_grad()
    def regenerate(self, images: Tensor | None = None) -> Tensor:
        """θ ← f_θ(C): every weight replaced at once by the member's own prediction.

        Returns the new weights [Q, N] (also stored in ``self.weights``).
        """
        self.weights = self.predict_weights(images)
        return self.weights

    def classify(self) -> list[str]:
        """``divergent`` (non-finite), ``zero`` (max|θ| ≤ 1e-5) or ``other``, per member."""
        return [QUINE_CLASSES[int(k)] for k in classify_codes(self.weights)]


def classify_codes(weights: Tensor) -> Tensor:
    """Class codes [Q] int8 of weights [Q, N]: 0 divergent, 1 zero, 2 other (first match)."""
    finite = torch.isfinite(weights).all(dim=1)
    zero = weights.abs().amax(dim=1) <= ZERO_TOL
    codes = torch.full((weights.shape[0],), 2, dtype=torch.int8, device=weights.device)
    codes[zero] = 1
    codes[~finite] = 0
    return codes


def replication_metrics(weights: Tensor, pred: Tensor) -> dict[str, Tensor]:
    """SSE, R²_rep, margin, quotient, ρ₀, weight and output RMS of [Q, N] weights and predictions.

    Every metric is [Q]. R² is NaN where all weights of a member are equal (no variance).
    """
    n = weights.shape[1]
    sse = ((pred - weights) ** 2).sum(dim=1)
    centred = weights - weights.mean(dim=1, keepdim=True)
    ss = (centred * centred).sum(dim=1)
    nan = torch.full_like(sse, float("nan"))
    r2 = torch.where(ss > 0, 1.0 - sse / torch.where(ss > 0, ss, 1.0), nan)
    sq = (weights * weights).sum(dim=1)
    rho0 = torch.where(sq > 0, sse / torch.where(sq > 0, sq, 1.0), nan)
    return {
        "sse": sse,
        "r2": r2,
        "margin": torch.sqrt(sse / n),
        "quotient": torch.log(n / sse),
        "rho0": rho0,
        "weight_rms": torch.sqrt(sq / n),
        "output_rms": torch.sqrt((pred * pred).sum(dim=1) / n),
    }


def trivial_mask(
    sse_start: Tensor, sse: Tensor, r2: Tensor, threshold: float = TRIVIAL_R2
) -> Tensor:
    """The zero-weight trap: SSE fell while R² ≤ ``threshold`` (or R² is NaN). All [Q] → bool.

    Guessing zero scores Σθ², so shrinking weights lowers SSE with no copying; such a quine
    is ``trivial``, however low its SSE.
    """
    return (sse < sse_start) & ~(r2 > threshold)


__all__ = [
    "INIT_PRESETS",
    "QUINE_CLASSES",
    "TRIVIAL_R2",
    "ZERO_TOL",
    "QuinePopulation",
    "QuineSpec",
    "check_population_size",
    "classify_codes",
    "draw_projections",
    "init_weights",
    "replication_metrics",
    "trivial_mask",
]
