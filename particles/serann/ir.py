"""Typed IR of SeRANN programs and the static shape rules of each layer (Keras semantics).

Shapes exclude the batch axis and are channels-last: an image is ``(H, W, C)``, a sequence
``(L, C)``. Dense and BatchNormalization act on the last axis of any rank; Conv2D and MaxPool2D
need rank 3, Conv1D rank 2; padding is ``valid``. Parameter counts are those of the torch module
the builder makes (BatchNormalization: 2·C trainable; Keras would also count its 2·C moving
statistics).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

GENOTYPE_BITS = 100
MAX_ELEMENTS = 1 << 20
ACTIVATIONS = frozenset({"relu", "sigmoid", "tanh", "linear"})
#: Allowed ranges (inclusive) of integer arguments.
RANGES: dict[str, tuple[int, int]] = {
    "filters": (1, 1024),
    "units": (1, 8192),
    "kernel_size": (1, 64),
    "strides": (1, 16),
    "pool_size": (1, 64),
    "target_shape": (1, MAX_ELEMENTS),
}
#: Constructor -> positional argument names in order (all may also be given as keywords).
SIGNATURES: dict[str, tuple[str, ...]] = {
    "Conv2D": ("filters", "kernel_size", "strides", "activation"),
    "Conv1D": ("filters", "kernel_size", "strides", "activation"),
    "MaxPool2D": ("pool_size", "strides"),
    "Dense": ("units", "activation"),
    "BatchNormalization": (),
    "Reshape": ("target_shape",),
}
_REQUIRED = {
    "Conv2D": ("filters", "kernel_size"),
    "Conv1D": ("filters", "kernel_size"),
    "Dense": ("units",),
    "Reshape": ("target_shape",),
}


@dataclass(frozen=True)
class Death:
    """A program that cannot become a phenotype.

    Attributes:
        reason: Human-readable cause.
        kind: One of ``syntax``, ``forbidden``, ``unknown_name``, ``type``, ``shape``, ``range``,
            ``missing``, ``cap``, ``too_long``, ``internal``.
    """

    reason: str
    kind: str = "invalid"


@dataclass(frozen=True)
class Tensor:
    """A symbolic tensor: the output of IR node ``node``."""

    node: int


@dataclass(frozen=True)
class Layer:
    """An unapplied layer: constructor name and validated arguments."""

    op: str
    params: tuple[tuple[str, object], ...]


@dataclass(frozen=True)
class Node:
    """One IR node.

    Attributes:
        op: ``input_image``, ``input_genotype``, ``Conv2D``, ``MaxPool2D``, ``Dense``,
            ``BatchNormalization``, ``Conv1D``, ``Reshape`` or ``concatenate``.
        params: Sorted (name, value) pairs, values normalised (kernel tuples, activation str).
        inputs: Ids of input nodes (earlier in the node list).
        shape: Output shape without the batch axis.
        n_params: Trainable parameters of this node.
    """

    op: str
    params: tuple[tuple[str, object], ...]
    inputs: tuple[int, ...]
    shape: tuple[int, ...]
    n_params: int


@dataclass(frozen=True)
class ProgramIR:
    """A valid program: the nodes reachable from ``con`` (renumbered), α and parameter counts.

    Attributes:
        nodes: Nodes in topological order; node 0 is the image input, node 1 the genotype input.
        output: Id of the ``con`` node.
        alpha: ``loss_balance`` α in [0, 1].
        n_classes: Classes of the classification head.
        n_params: Trainable parameters of the program part (reachable from ``con``).
        total_params: ``n_params`` plus the classification and copy heads.
    """

    nodes: tuple[Node, ...]
    output: int
    alpha: float
    n_classes: int
    n_params: int
    total_params: int

    @classmethod
    def from_nodes(
        cls, nodes: tuple[Node, ...], output: int, alpha: float, n_classes: int
    ) -> ProgramIR:
        """Keep the inputs and the nodes reachable from ``output``, renumbered in order."""
        keep = {0, 1}
        stack = [output]
        while stack:
            i = stack.pop()
            if i not in keep:
                keep.add(i)
                stack.extend(nodes[i].inputs)
        order = sorted(keep | {output})
        new_id = {old: new for new, old in enumerate(order)}
        kept = tuple(
            Node(n.op, n.params, tuple(new_id[j] for j in n.inputs), n.shape, n.n_params)
            for n in (nodes[i] for i in order)
        )
        n_params = sum(n.n_params for n in kept)
        features = flat_size(nodes[output].shape)
        heads = (features + 1) * n_classes + (features + 1) * GENOTYPE_BITS
        return cls(kept, new_id[output], alpha, n_classes, n_params, n_params + heads)

    @property
    def features(self) -> int:
        """Width of the flattened ``con`` that feeds both heads."""
        return flat_size(self.nodes[self.output].shape)

    def signature(self) -> str:
        """Architecture id: a hash of the nodes and shapes, without α."""
        text = repr((self.nodes, self.output, self.n_classes))
        return hashlib.sha1(text.encode()).hexdigest()[:16]


def flat_size(shape: tuple[int, ...]) -> int:
    """Number of values in one example of ``shape``."""
    size = 1
    for d in shape:
        size *= d
    return size


class RejectedError(Exception):
    """Raised inside the interpreter to carry a ``Death`` out of the walk; never escapes it."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.death = Death(reason=reason, kind=kind)


def _dead(kind: str, reason: str) -> RejectedError:
    return RejectedError(kind, reason)


def _int_arg(name: str, value: object, n: int) -> tuple[int, ...]:
    """An int or an n-tuple of ints within ``RANGES[name]``, as an n-tuple."""
    vals = value if isinstance(value, tuple | list) else (value,) * n
    if len(vals) != n or not all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
        raise _dead("type", f"{name} must be an int or {n} ints, got {value!r}")
    lo, hi = RANGES[name]
    if not all(lo <= v <= hi for v in vals):
        raise _dead("range", f"{name}={value!r} outside [{lo}, {hi}]")
    return tuple(vals)  # type: ignore[arg-type]


def make_layer(op: str, args: list[object], kwargs: dict[str, object]) -> Layer:
    """Validate a constructor call's arguments (names, types, ranges) into a ``Layer``."""
    names = SIGNATURES[op]
    if len(args) > len(names):
        raise _dead("type", f"{op} takes at most {len(names)} positional arguments")
    given = dict(zip(names, args, strict=False))
    for key, value in kwargs.items():
        if key not in names:
            raise _dead("forbidden", f"{op} has no argument {key!r}")
        if key in given:
            raise _dead("type", f"{op} got {key!r} twice")
        given[key] = value
    for key in _REQUIRED.get(op, ()):
        if key not in given:
            raise _dead("missing", f"{op} needs {key}")
    dims = 2 if op in ("Conv2D", "MaxPool2D") else 1
    params: dict[str, object] = {}
    for key, value in given.items():
        if key == "activation":
            act = "linear" if value is None else value
            if act not in ACTIVATIONS:
                raise _dead("range", f"activation {value!r} not in {sorted(ACTIVATIONS)}")
            params[key] = act
        elif key == "target_shape":
            if not isinstance(value, tuple | list) or not 1 <= len(value) <= 4:
                raise _dead("type", f"Reshape target must be 1-4 ints, got {value!r}")
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
                raise _dead("type", f"Reshape target must be ints, got {value!r}")
            if sum(v == -1 for v in value) > 1 or any(v == 0 or v < -1 for v in value):
                raise _dead("range", f"Reshape target {value!r}: positive sizes and at most one -1")
            params[key] = tuple(value)
        elif key in ("filters", "units"):
            params[key] = _int_arg(key, value, 1)[0]
        else:
            params[key] = _int_arg(key, value, dims)
    if op in ("Conv2D", "Conv1D"):
        params.setdefault("strides", (1,) * dims)
        params.setdefault("activation", "linear")
    if op == "Dense":
        params.setdefault("activation", "linear")
    if op == "MaxPool2D":
        params.setdefault("pool_size", (2, 2))
        params.setdefault("strides", params["pool_size"])
    return Layer(op, tuple(sorted(params.items())))


def _window(op: str, size: int, k: int, s: int) -> int:
    if k > size:
        raise _dead("shape", f"{op} window {k} larger than its input {size}")
    return (size - k) // s + 1


def apply_layer(layer: Layer, x: Tensor, nodes: list[Node]) -> Node:
    """Infer the output node of ``layer`` applied to tensor ``x``."""
    shape = nodes[x.node].shape
    p = dict(layer.params)
    op = layer.op
    rank = len(shape)
    if op in ("Conv2D", "MaxPool2D") and rank != 3:
        raise _dead("shape", f"{op} needs a rank-3 (H, W, C) input, got {shape}")
    if op == "Conv1D" and rank != 2:
        raise _dead("shape", f"Conv1D needs a rank-2 (L, C) input, got {shape}")
    if op == "Conv2D":
        (kh, kw), (sh, sw), f = p["kernel_size"], p["strides"], p["filters"]
        out = (_window(op, shape[0], kh, sh), _window(op, shape[1], kw, sw), f)
        n = kh * kw * shape[2] * f + f
    elif op == "Conv1D":
        (k,), (s,), f = p["kernel_size"], p["strides"], p["filters"]
        out, n = (_window(op, shape[0], k, s), f), k * shape[1] * f + f
    elif op == "MaxPool2D":
        (ph, pw), (sh, sw) = p["pool_size"], p["strides"]
        out = (_window(op, shape[0], ph, sh), _window(op, shape[1], pw, sw), shape[2])
        n = 0
    elif op == "Dense":
        out, n = (*shape[:-1], p["units"]), (shape[-1] + 1) * p["units"]
    elif op == "BatchNormalization":
        out, n = shape, 2 * shape[-1]
    else:  # Reshape
        target = p["target_shape"]
        total, known = flat_size(shape), flat_size(tuple(v for v in target if v != -1))
        if -1 in target:
            if total % known:
                raise _dead("shape", f"cannot reshape {shape} to {target}")
            target = tuple(total // known if v == -1 else v for v in target)
        if flat_size(target) != total:
            raise _dead("shape", f"cannot reshape {shape} to {target}")
        out, n = target, 0
    return Node(op, tuple(sorted(p.items())), (x.node,), tuple(out), n)


__all__ = ["ACTIVATIONS", "RANGES", "Death", "Layer", "Node", "ProgramIR", "Tensor", "flat_size"]
