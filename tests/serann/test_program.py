"""The whitelist interpreter: valid programs -> IR with Keras shapes; hostile ones -> Death."""

from __future__ import annotations

import resource
import tracemalloc

import numpy as np
import pytest
import torch

from neurosoup.particles.serann.grammar import GrammarConfig, generate_corpus
from neurosoup.particles.serann.ir import Death, ProgramIR
from neurosoup.particles.serann.model import build, n_trainable, signature
from neurosoup.particles.serann.program import interpret

JOIN = "con = concatenate([Reshape((1, -1))(X_layer), Reshape((1, -1))(g_layer)])"
TAIL = f"{JOIN}\nloss_balance = 0.5"
ANCESTOR_LIKE = (
    "X_layer = Conv2D(filters=16, kernel_size=3, strides=1)(X_layer)\n"
    "X_layer = MaxPool2D(pool_size=2)(X_layer)\n"
    "X_layer = Dense(units=65, activation='relu')(X_layer)\n"
    "g_layer = Conv1D(filters=36, kernel_size=5, strides=1)(g_layer)\n"
    "g_layer = Dense(units=50, activation='relu')(g_layer)\n"
    f"{JOIN}\n"
    "con = Dense(units=143, activation='relu')(con)\n"
    "loss_balance = 0.35"
)


def test_hand_computed_shapes_and_params() -> None:
    ir = interpret(ANCESTOR_LIKE, image_shape=(28, 28, 1), param_cap=10**7)
    assert isinstance(ir, ProgramIR)
    shapes = {n.op: n.shape for n in ir.nodes}
    assert shapes["Conv2D"] == (26, 26, 16)
    assert shapes["MaxPool2D"] == (13, 13, 16)
    assert shapes["Conv1D"] == (96, 36)
    assert shapes["concatenate"] == (1, 13 * 13 * 65 + 96 * 50)
    conv, conv1d = 3 * 3 * 1 * 16 + 16, 5 * 1 * 36 + 36
    dense_x, dense_g = (16 + 1) * 65, (36 + 1) * 50
    trunk = (13 * 13 * 65 + 96 * 50 + 1) * 143
    heads = (143 + 1) * 10 + (143 + 1) * 100
    assert ir.n_params == conv + conv1d + dense_x + dense_g + trunk
    assert ir.total_params == ir.n_params + heads
    assert ir.alpha == pytest.approx(0.35)


def test_unreachable_layers_are_not_counted() -> None:
    base = interpret(f"{TAIL}", param_cap=10**7)
    dead_end = interpret(f"{JOIN}\nX_layer = Dense(units=500)(X_layer)\nloss_balance = 0.5")
    assert isinstance(base, ProgramIR) and isinstance(dead_end, ProgramIR)
    assert dead_end.total_params == base.total_params
    assert signature(dead_end) == signature(base)


def test_signature_ignores_alpha_only() -> None:
    a = interpret(f"{JOIN}\nloss_balance = 0.1")
    b = interpret(f"{JOIN}\nloss_balance = 0.9")
    c = interpret(f"{JOIN}\ncon = Dense(units=40)(con)\nloss_balance = 0.1")
    assert isinstance(a, ProgramIR) and isinstance(b, ProgramIR) and isinstance(c, ProgramIR)
    assert signature(a) == signature(b) != signature(c)


@pytest.mark.parametrize("size", [8, 28])
def test_accepted_grammar_programs_build_with_inferred_shapes(size: int) -> None:
    progs = generate_corpus(24, seed=11, cfg=GrammarConfig.for_image(size))
    gen = torch.Generator().manual_seed(0)
    n_built = 0
    for text in progs:
        cap = 200_000 if size == 8 else 1_500_000
        ir = interpret(text, image_shape=(size, size, 1), param_cap=cap)
        if isinstance(ir, Death):
            assert ir.kind in {"shape", "cap"}, ir  # the grammar writes only whitelisted code
            continue
        net = build(ir, gen)
        assert n_trainable(net) == ir.total_params
        images, genos = torch.rand(2, size, size), torch.randint(0, 2, (2, 100)).float()
        values = net.node_values(images.unsqueeze(-1), genos)
        for node, value in zip(ir.nodes, values, strict=True):
            assert tuple(value.shape[1:]) == node.shape, (node, text)
        logits, copy = net(images, genos)
        assert logits.shape == (2, 10) and copy.shape == (2, 100)
        assert torch.isfinite(logits).all() and torch.isfinite(copy).all()
        n_built += 1
    assert n_built >= 8


HOSTILE: dict[str, tuple[str, set[str]]] = {
    "syntax": ("con = Dense(units=4)(\nloss_balance = 0.5", {"syntax"}),
    "import": (f"import os\n{TAIL}", {"forbidden"}),
    "from_import": (f"from os import system\n{TAIL}", {"forbidden"}),
    "dunder_name": (f"x = __builtins__\n{TAIL}", {"forbidden"}),
    "dunder_target": (f"__x__ = 1\n{TAIL}", {"forbidden"}),
    "attribute": (f"x = X_layer.shape\n{TAIL}", {"forbidden"}),
    "attr_call": (f"x = ().__class__.__bases__\n{TAIL}", {"forbidden"}),
    "unknown_call": (f"x = open('f')\n{TAIL}", {"unknown_name"}),
    "unknown_layer": (f"X_layer = LSTM(units=3)(X_layer)\n{TAIL}", {"unknown_name"}),
    "lambda": (f"f = lambda: 0\n{TAIL}", {"forbidden"}),
    "comprehension": (f"x = [i for i in (1, 2)]\n{TAIL}", {"forbidden"}),
    "generator": (f"x = list(i for i in (1, 2))\n{TAIL}", {"unknown_name", "forbidden"}),
    "huge_dense": (
        f"con = concatenate([X_layer, X_layer])\nX_layer = Dense(units=99999999)(X_layer)\n{TAIL}",
        {"range"},
    ),
    "huge_model": (
        f"{JOIN}\ncon = Dense(units=8000)(con)\ncon = Dense(units=8000)(con)\nloss_balance = 0.5",
        {"cap"},
    ),
    "zero_units": (f"X_layer = Dense(units=0)(X_layer)\n{TAIL}", {"range"}),
    "negative_filters": (
        f"X_layer = Conv2D(filters=-4, kernel_size=3)(X_layer)\n{TAIL}",
        {"range"},
    ),
    "kernel_too_big": (f"X_layer = Conv2D(filters=4, kernel_size=9)(X_layer)\n{TAIL}", {"shape"}),
    "pool_too_big": (f"X_layer = MaxPool2D(pool_size=9)(X_layer)\n{TAIL}", {"shape"}),
    "conv_wrong_rank": (f"g_layer = Conv2D(filters=4, kernel_size=1)(g_layer)\n{TAIL}", {"shape"}),
    "bad_reshape": (f"X_layer = Reshape((7, -1))(X_layer)\n{TAIL}", {"shape"}),
    "missing_con": ("X_layer = Dense(units=4)(X_layer)\nloss_balance = 0.5", {"missing"}),
    "missing_alpha": (JOIN, {"missing"}),
    "tensor_alpha": (f"{JOIN}\nloss_balance = con", {"type"}),
    "alpha_out_of_range": (f"{JOIN}\nloss_balance = 3.5", {"range"}),
    "string_alpha": (f"{JOIN}\nloss_balance = 'x'", {"type"}),
    "con_not_tensor": ("con = 3\nloss_balance = 0.5", {"type"}),
    "unknown_kwarg": (
        f"X_layer = Dense(units=4, kernel_initializer='zeros')(X_layer)\n{TAIL}",
        {"forbidden"},
    ),
    "bad_activation": (f"X_layer = Dense(units=4, activation='exp')(X_layer)\n{TAIL}", {"range"}),
    "kwargs_splat": (f"X_layer = Dense(**{{'units': 3}})(X_layer)\n{TAIL}", {"forbidden"}),
    "binop": (f"x = 2 ** 10 ** 10\n{TAIL}", {"forbidden"}),
    "subscript": (f"x = (1, 2)[0]\n{TAIL}", {"forbidden"}),
    "expression_stmt": (f"Dense(units=3)\n{TAIL}", {"forbidden"}),
    "for_loop": (f"for i in (1, 2):\n    x = i\n{TAIL}", {"forbidden"}),
    "def": (f"def f():\n    return 1\n{TAIL}", {"forbidden"}),
    "rebind_ctor": (f"Dense = 3\n{TAIL}", {"forbidden"}),
    "call_tensor": (f"x = X_layer(g_layer)\n{TAIL}", {"type"}),
    "very_long": ("x = 1\n" * 5000 + TAIL, {"too_long"}),
    "deeply_nested": ("x = " + "(" * 200 + "1" + ")" * 200 + f"\n{TAIL}", {"too_long"}),
    "unary_chain": ("x = " + "-" * 5000 + "1\n" + TAIL, {"too_long"}),
    "call_chain": ("x = Dense(units=3)" + "(X_layer)" * 3000 + "\n" + TAIL, {"too_long"}),
    "deep_list": ("x = " + "[" * 100000 + "]" * 100000, {"too_long"}),
    "many_statements": ("x = 1\n" * 300 + TAIL, {"too_long"}),
    "not_a_string": (b"con = 1", {"syntax"}),  # type: ignore[dict-item]
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_programs_are_rejected_with_a_reason(name: str) -> None:
    text, kinds = HOSTILE[name]
    result = interpret(text)
    assert isinstance(result, Death), name
    assert result.kind in kinds, (name, result)
    assert result.reason


def test_rejection_does_not_allocate() -> None:
    texts = [t for t, _ in HOSTILE.values()]
    interpret(texts[0])  # warm caches and imports
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    for _ in range(3):
        for text in texts:
            interpret(text)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_growth_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    # A Dense(99999999) or Dense(8000) x2 model would need >= 256 MB; parsing the longest
    # hostile input needs a few MB.
    assert peak < 48 * 2**20
    assert rss_growth_kb < 64 * 1024


def test_interpreter_allocates_no_tensors() -> None:
    import neurosoup.particles.serann.ir as ir_mod
    import neurosoup.particles.serann.program as program_mod

    for mod in (ir_mod, program_mod):
        assert "torch" not in vars(mod)
        assert "numpy" not in vars(mod) and "np" not in vars(mod)


def test_positional_and_tuple_arguments_follow_keras() -> None:
    text = (
        "X_layer = Conv2D(8, (3, 1), (1, 1))(X_layer)\n"
        "X_layer = MaxPool2D(pool_size=(2, 2), strides=(1, 2))(X_layer)\n"
        f"{TAIL}"
    )
    ir = interpret(text)
    assert isinstance(ir, ProgramIR)
    assert [n.shape for n in ir.nodes if n.op == "MaxPool2D"] == [(5, 4, 8)]


def test_8x8_grammar_shares_are_moderate() -> None:
    progs = generate_corpus(1500, seed=5)
    res = [interpret(p, param_cap=10**9) for p in progs]
    invalid = np.mean([isinstance(r, Death) for r in res])
    params = np.array([r.total_params for r in res if isinstance(r, ProgramIR)])
    assert all(r.kind == "shape" for r in res if isinstance(r, Death))
    assert 0.0 < invalid < 0.2  # rescaled grammar: reference samplers gave 31 % at 8x8
    assert 3e4 < np.median(params) < 3e5  # typical programs near 1e5 parameters


def test_bad_caller_configuration_raises_config_error() -> None:
    from neurosoup.particles.errors import ConfigError

    with pytest.raises(ConfigError, match="image_shape"):
        interpret(TAIL, image_shape=(8, 8))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="param_cap"):
        interpret(TAIL, param_cap=0)


def test_results_are_cached_and_identical() -> None:
    a, b = interpret(ANCESTOR_LIKE, param_cap=10**7), interpret(ANCESTOR_LIKE, param_cap=10**7)
    assert a is b
    assert interpret(ANCESTOR_LIKE, param_cap=10) != a  # the cap is part of the key
