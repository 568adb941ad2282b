"""Safe whitelist interpreter of SeRANN programs: text -> typed IR, or ``Death(reason)``.

The reference ``exec``s decoded programs; we never do. A program is parsed with ``ast.parse``
after cheap length and nesting checks, and walked node by node. Accepted: assignments to plain
names; calls of the known layer constructors with known arguments in allowed ranges, applying a
layer to a tensor, ``Reshape``, ``concatenate``; numeric and short string constants, tuples and
lists. Everything else (imports, attributes, dunder names, lambdas, comprehensions, operators,
subscripts, ...) is a ``Death``. Shapes follow Keras (channels-last, Dense on the last axis,
``valid`` padding, batch axis implicit) and are inferred statically; the parameter count covers
the layers reachable from ``con`` plus the two heads the builder appends. Nothing is allocated:
the IR is a tuple of small frozen records. ``interpret`` never raises.

Inputs are pre-bound: ``X_layer`` is the image ``(H, W, 1)`` and ``g_layer`` the genotype
``(100, 1)``. The program must bind ``con`` to a tensor and ``loss_balance`` to a number in
``[0, 1]``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache

from neurosoup.particles.errors import ConfigError

from .ir import (
    MAX_ELEMENTS,
    Death,
    Layer,
    Node,
    ProgramIR,
    RejectedError,
    Tensor,
    apply_layer,
    make_layer,
)

MAX_CHARS = 20_000
MAX_CACHED_CHARS = 4_000
MAX_DEPTH = 24
MAX_STATEMENTS = 200
MAX_AST_NODES = 5_000
MAX_EXPR_DEPTH = 64
MAX_SEQUENCE = 16
MAX_STR = 32
DEFAULT_PARAM_CAP = 200_000
GENOTYPE_BITS = 100

_CONSTRUCTORS = frozenset(
    {"Conv2D", "MaxPool2D", "Dense", "BatchNormalization", "Conv1D", "Reshape"}
)
_CONCAT = "concatenate"
_KEEP_BRACKETS = {c: None for c in range(0x80) if chr(c) not in "()[]{}"}
_RESERVED = _CONSTRUCTORS | {_CONCAT}
_FORBIDDEN_NODES: dict[type, str] = {
    ast.Import: "import",
    ast.ImportFrom: "import",
    ast.Attribute: "attribute access",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehension",
    ast.SetComp: "comprehension",
    ast.DictComp: "comprehension",
    ast.GeneratorExp: "comprehension",
    ast.Subscript: "subscript",
    ast.Starred: "starred expression",
    ast.FunctionDef: "function definition",
    ast.AsyncFunctionDef: "function definition",
    ast.ClassDef: "class definition",
}


@dataclass(frozen=True)
class _Concat:
    """Marker value of the name ``concatenate``."""


@dataclass(frozen=True)
class _Ctor:
    """Marker value of a constructor name."""

    name: str


def _precheck(text: str) -> Death | None:
    if not isinstance(text, str):
        return Death(reason=f"program must be str, got {type(text).__name__}", kind="syntax")
    if len(text) > MAX_CHARS:
        return Death(reason=f"program has {len(text)} characters > {MAX_CHARS}", kind="too_long")
    depth = peak = 0
    for ch in text.translate(_KEEP_BRACKETS):
        if ch in "([{":
            depth += 1
            peak = max(peak, depth)
        elif ch in ")]}":
            depth -= 1
    if peak > MAX_DEPTH:
        return Death(reason=f"brackets nested {peak} deep > {MAX_DEPTH}", kind="too_long")
    return None


class _Interpreter:
    def __init__(self, image_shape: tuple[int, ...], n_classes: int) -> None:
        self.nodes: list[Node] = [
            Node(op="input_image", params=(), inputs=(), shape=image_shape, n_params=0),
            Node(op="input_genotype", params=(), inputs=(), shape=(GENOTYPE_BITS, 1), n_params=0),
        ]
        self.env: dict[str, object] = {"X_layer": Tensor(0), "g_layer": Tensor(1)}
        self.n_classes = n_classes
        self.n_visited = 0
        self.depth = 0

    # -- expressions -------------------------------------------------------------------------
    def expr(self, node: ast.AST) -> object:
        self.n_visited += 1
        if self.n_visited > MAX_AST_NODES:
            raise RejectedError("too_long", f"more than {MAX_AST_NODES} syntax nodes")
        self.depth += 1
        if self.depth > MAX_EXPR_DEPTH:
            raise RejectedError("too_long", f"expression nested deeper than {MAX_EXPR_DEPTH}")
        try:
            return self._expr(node)
        finally:
            self.depth -= 1

    def _expr(self, node: ast.AST) -> object:
        kind = _FORBIDDEN_NODES.get(type(node))
        if kind is not None:
            line = getattr(node, "lineno", "?")
            raise RejectedError("forbidden", f"{kind} is not allowed (line {line})")
        if isinstance(node, ast.Constant):
            return self._constant(node.value)
        if isinstance(node, ast.Name):
            return self._name(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            value = self.expr(node.operand)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise RejectedError("type", "unary sign applied to a non-number")
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.Tuple | ast.List):
            if len(node.elts) > MAX_SEQUENCE:
                raise RejectedError("range", f"sequence of {len(node.elts)} items > {MAX_SEQUENCE}")
            items = tuple(self.expr(e) for e in node.elts)
            return items if isinstance(node, ast.Tuple) else list(items)
        if isinstance(node, ast.Call):
            return self._call(node)
        raise RejectedError("forbidden", f"{type(node).__name__} expressions are not allowed")

    @staticmethod
    def _constant(value: object) -> object:
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int):
            if abs(value) > 10**9:
                raise RejectedError("range", f"integer constant {value} out of range")
            return value
        if isinstance(value, float):
            if value != value or abs(value) > 1e9:
                raise RejectedError("range", f"float constant {value} out of range")
            return value
        if isinstance(value, str):
            if len(value) > MAX_STR:
                raise RejectedError("range", f"string constant longer than {MAX_STR}")
            return value
        raise RejectedError("type", f"constant of type {type(value).__name__} is not allowed")

    def _name(self, name: str) -> object:
        if name.startswith("__") or name.endswith("__"):
            raise RejectedError("forbidden", f"dunder name {name!r} is not allowed")
        if name in _CONSTRUCTORS:
            return _Ctor(name)
        if name == _CONCAT:
            return _Concat()
        if name not in self.env:
            raise RejectedError("unknown_name", f"unknown name {name!r}")
        return self.env[name]

    def _call(self, node: ast.Call) -> object:
        func = self.expr(node.func)
        if any(kw.arg is None for kw in node.keywords):
            raise RejectedError("forbidden", "**kwargs is not allowed")
        args = [self.expr(a) for a in node.args]
        kwargs: dict[str, object] = {}
        for kw in node.keywords:
            if kw.arg in kwargs:
                raise RejectedError("syntax", f"keyword {kw.arg!r} repeated")
            kwargs[str(kw.arg)] = self.expr(kw.value)
        if isinstance(func, _Ctor):
            return make_layer(func.name, args, kwargs)
        if isinstance(func, Layer):
            if kwargs or len(args) != 1 or not isinstance(args[0], Tensor):
                raise RejectedError("type", f"{func.op} must be applied to exactly one tensor")
            return self._add(apply_layer(func, args[0], self.nodes))
        if isinstance(func, _Concat):
            return self._concat(args, kwargs)
        raise RejectedError("type", f"{type(func).__name__} value is not callable")

    def _concat(self, args: list[object], kwargs: dict[str, object]) -> Tensor:
        if set(kwargs) - {"axis"} or kwargs.get("axis", -1) != -1:
            raise RejectedError("range", "concatenate accepts only axis=-1")
        if len(args) != 1 or not isinstance(args[0], list | tuple):
            raise RejectedError("type", "concatenate takes one list of tensors")
        items = args[0]
        if len(items) < 2 or not all(isinstance(t, Tensor) for t in items):
            raise RejectedError("type", "concatenate needs a list of at least two tensors")
        shapes = [self.nodes[t.node].shape for t in items]
        if len({len(s) for s in shapes}) != 1 or len({s[:-1] for s in shapes}) != 1:
            raise RejectedError("shape", f"concatenate of incompatible shapes {shapes}")
        shape = (*shapes[0][:-1], sum(s[-1] for s in shapes))
        ins = tuple(t.node for t in items)
        return self._add(Node(op="concatenate", params=(), inputs=ins, shape=shape, n_params=0))

    def _add(self, node: Node) -> Tensor:
        size = 1
        for d in node.shape:
            size *= d
        if size > MAX_ELEMENTS:
            raise RejectedError("cap", f"{node.op} output {node.shape} > {MAX_ELEMENTS} values")
        self.nodes.append(node)
        return Tensor(len(self.nodes) - 1)

    # -- statements --------------------------------------------------------------------------
    def run(self, module: ast.Module, param_cap: int) -> ProgramIR:
        if len(module.body) > MAX_STATEMENTS:
            raise RejectedError("too_long", f"{len(module.body)} statements > {MAX_STATEMENTS}")
        for stmt in module.body:
            if not isinstance(stmt, ast.Assign):
                kind = _FORBIDDEN_NODES.get(type(stmt))
                what = kind or f"{type(stmt).__name__} statement"
                raise RejectedError("forbidden", f"{what} is not allowed (line {stmt.lineno})")
            if len(stmt.targets) != 1 or not isinstance(stmt.targets[0], ast.Name):
                raise RejectedError(
                    "forbidden", f"only assignment to one name (line {stmt.lineno})"
                )
            name = stmt.targets[0].id
            if name.startswith("__") or name.endswith("__"):
                raise RejectedError("forbidden", f"dunder name {name!r} is not allowed")
            if name in _RESERVED:
                raise RejectedError("forbidden", f"cannot rebind {name!r}")
            self.env[name] = self.expr(stmt.value)
        return self._finish(param_cap)

    def _finish(self, param_cap: int) -> ProgramIR:
        con = self.env.get("con")
        if con is None:
            raise RejectedError("missing", "the program does not bind 'con'")
        if not isinstance(con, Tensor):
            raise RejectedError("type", f"'con' must be a tensor, got {type(con).__name__}")
        if "loss_balance" not in self.env:
            raise RejectedError("missing", "the program does not bind 'loss_balance'")
        alpha = self.env["loss_balance"]
        if isinstance(alpha, bool) or not isinstance(alpha, int | float):
            raise RejectedError(
                "type", f"'loss_balance' must be a number, got {type(alpha).__name__}"
            )
        if not 0.0 <= alpha <= 1.0:
            raise RejectedError("range", f"'loss_balance' must be in [0, 1], got {alpha}")
        ir = ProgramIR.from_nodes(tuple(self.nodes), con.node, float(alpha), self.n_classes)
        if ir.total_params > param_cap:
            raise RejectedError("cap", f"{ir.total_params} parameters > cap {param_cap}")
        return ir


def interpret(
    text: str,
    image_shape: tuple[int, int, int] = (8, 8, 1),
    n_classes: int = 10,
    param_cap: int = DEFAULT_PARAM_CAP,
) -> ProgramIR | Death:
    """Interpret a program without executing it.

    Args:
        text: Program source (for instance a decoded genotype).
        image_shape: Image input shape ``(H, W, C)``, channels-last.
        n_classes: Classes of the classification head appended by the builder.
        param_cap: Most parameters of the whole model (reachable program part + both heads).

    Returns:
        The typed IR, or ``Death(reason, kind)``. Never raises on a bad program.

    Raises:
        ConfigError: If ``image_shape``, ``n_classes`` or ``param_cap`` are invalid (caller
            configuration, not program, errors).
    """
    shape = tuple(image_shape)
    if len(shape) != 3 or not all(isinstance(d, int) and d >= 1 for d in shape):
        raise ConfigError(f"image_shape must be (H, W, C) positive ints, got {image_shape!r}")
    if n_classes < 1 or param_cap < 1:
        raise ConfigError(f"n_classes and param_cap must be >= 1, got {n_classes}, {param_cap}")
    death = _precheck(text)
    if death is not None:
        return death
    if len(text) > MAX_CACHED_CHARS:
        return _interpret_uncached(text, shape, n_classes, param_cap)
    return _interpret_cached(text, shape, n_classes, param_cap)


def _interpret_uncached(
    text: str, image_shape: tuple[int, ...], n_classes: int, param_cap: int
) -> ProgramIR | Death:
    """``interpret`` after the pre-checks."""
    try:
        module = ast.parse(text, mode="exec")
    except (SyntaxError, ValueError) as err:
        return Death(reason=f"syntax error: {type(err).__name__}: {err}"[:200], kind="syntax")
    except (MemoryError, RecursionError) as err:
        return Death(reason=f"too complex to parse: {type(err).__name__}"[:200], kind="too_long")
    try:
        return _Interpreter(image_shape, n_classes).run(module, param_cap)
    except RejectedError as dead:
        return dead.death
    except Exception as err:  # a bug in the interpreter must not kill the evolution loop
        return Death(reason=f"internal: {type(err).__name__}: {err}"[:200], kind="internal")


#: Results are immutable, so short programs (all decoded genotypes) are memoised.
_interpret_cached = lru_cache(maxsize=1 << 16)(_interpret_uncached)


def interpret_many(texts: list[str], **kwargs: object) -> list[ProgramIR | Death]:
    """``interpret`` over a list of programs (same keyword arguments)."""
    return [interpret(t, **kwargs) for t in texts]  # type: ignore[arg-type]


__all__ = [
    "DEFAULT_PARAM_CAP",
    "MAX_CHARS",
    "MAX_DEPTH",
    "Death",
    "ProgramIR",
    "interpret",
    "interpret_many",
]
