"""Slow, obviously-correct per-particle twins of the soup operators (``science/soup.md``).

Everything here loops over particles and pairs in Python and works one store row at a time.
Random numbers come from the same generator calls as the batched code (same shapes, same
order), so the twins and the kernels can be compared draw for draw; what each draw *means*
(counterpart shift, winners, melt masks, the third particle) is recomputed here by hand.
Weightwise application uses ``RefParticle`` (one ``nn.Linear`` stack per particle);
aggregating and recurrent soups use ``RefAggregating`` / ``RefRecurrent``
(``tests/reference/particle_kinds.py``); training is a hand-written SGD loop on torch autograd.
"""

from __future__ import annotations

import torch
from torch import nn

from neurosoup.chemistry.catalogue import BUILT_INS
from tests.reference.growth import (
    ref_flood,
    ref_grow,  # noqa: F401 - grow's twin, found by name
)
from tests.reference.particle_kinds import ref_aggregate, ref_kind_apply, ref_particle
from tests.reference.particles import RefParticle
from tests.reference.particles import ref_apply as ref_apply_weightwise


def ref_apply(spec, actor: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """A◁B of one pair, for every particle kind."""
    if spec.kind == "weightwise":
        return ref_apply_weightwise(spec, actor, target)
    return ref_kind_apply(spec, actor, target)

# ---- draws (same generator calls as chemistry.pairing / chemistry.operators) ----------------


def ref_draw_pairs(alive: list[int], mode: str, p: float, gen: torch.Generator):
    """List of (actor slot, counterpart slot, key)."""
    n = len(alive)
    if n < 2:
        return []
    pairs = []
    if mode == "per_actor":
        u = torch.rand(n, generator=gen, dtype=torch.float64).tolist()
        j = torch.randint(0, n - 1, (n,), generator=gen).tolist()
        for i in range(n):
            if u[i] < p:
                jj = j[i] + 1 if j[i] >= i else j[i]
                pairs.append([alive[i], alive[jj]])
    else:
        u = float(torch.rand(1, generator=gen, dtype=torch.float64)[0])
        i = int(torch.randint(0, n, (1,), generator=gen)[0])
        j = int(torch.randint(0, n - 1, (1,), generator=gen)[0])
        if j >= i:
            j += 1
        if u < p:
            pairs.append([alive[i], alive[j]])
    keys = torch.rand(len(pairs), generator=gen, dtype=torch.float64).tolist()
    return [(a, b, k) for (a, b), k in zip(pairs, keys, strict=True)]


def ref_draw_actors(alive: list[int], mode: str, p: float, gen: torch.Generator) -> list[int]:
    n = len(alive)
    if mode == "per_actor":
        u = torch.rand(n, generator=gen, dtype=torch.float64).tolist()
        return [alive[i] for i in range(n) if u[i] < p]
    u = float(torch.rand(1, generator=gen, dtype=torch.float64)[0])
    i = int(torch.randint(0, n, (1,), generator=gen)[0])
    return [alive[i]] if u < p else []


def ref_orders(steps: int, m: int, p: int, mode: str, gen: torch.Generator):
    if mode != "epoch" or m == 0:
        return None
    u = torch.rand(steps, m, p, generator=gen, dtype=torch.float64)
    return [[sorted(range(p), key=lambda k, s=s, r=r: float(u[s, r, k])) for r in range(m)]
            for s in range(steps)]


def ref_melt_masks(m: int, p: int, gen: torch.Generator) -> list[list[bool]]:
    u = torch.rand(m, p, generator=gen, dtype=torch.float64)
    masks = []
    for r in range(m):
        perm = sorted(range(p), key=lambda k, r=r: float(u[r, k]))
        keep = set(perm[: p // 2])
        masks.append([k in keep for k in range(p)])
    return masks


def ref_thirds(alive: list[int], pairs, gen: torch.Generator) -> list[int]:
    n = len(alive)
    d = torch.randint(0, max(n - 2, 1), (len(pairs),), generator=gen).tolist()
    out = []
    for (a, b, _), dd in zip(pairs, d, strict=True):
        others = [s for s in alive if s not in (a, b)]
        out.append(others[dd])
    return out


def ref_winners(targets: list[int], keys: list[float]) -> list[bool]:
    out = []
    for i, t in enumerate(targets):
        rivals = [keys[j] for j in range(len(targets)) if targets[j] == t]
        out.append(keys[i] == min(rivals))
    return out


# ---- training -------------------------------------------------------------------------------


def _sgd(w, g, lr, momentum, buf):
    buf = momentum * buf + g if momentum > 0 else g
    return w - lr * buf, buf


def _ref_train_kind(spec, w, teacher, steps, lr, momentum, buf):
    """Aggregating or recurrent: one step per step or pass (one sample: aggregates, sequence)."""
    for _ in range(steps):
        data = (w if teacher is None else teacher).detach().clone()
        net = ref_particle(spec, w)
        loss = net.loss_on(data)
        params = list(net.parameters())
        grads = torch.autograd.grad(loss, params)
        g = torch.cat([x.reshape(-1) for x in grads])
        w, buf = _sgd(w, g, lr, momentum, buf)
    return w, (buf if momentum > 0 else torch.zeros_like(buf))


def ref_train(spec, w, teacher, steps, lr, momentum, buf, orders=None):
    """steps full-batch steps (orders None) or passes of one particle; teacher None = self.

    Other kinds than weightwise see one sample, so a pass is one step (orders unused).
    """
    w, buf = w.clone(), buf.clone()
    if spec.kind != "weightwise":
        return _ref_train_kind(spec, w, teacher, steps, lr, momentum, buf)
    for s in range(steps):
        data = (w if teacher is None else teacher).detach().clone()
        net = RefParticle(spec, w)
        x = net.inputs(data)
        samples = [list(range(len(data)))] if orders is None else [[k] for k in orders[s]]
        for ks in samples:
            net.set_flat(w)
            for lin in net.linears():
                lin.weight.grad = None
            pred = net.net(x[ks])[:, 0]
            loss = nn.functional.mse_loss(pred, data[ks])
            loss.backward()
            g = torch.cat([lin.weight.grad.reshape(-1) for lin in net.linears()])
            buf = momentum * buf + g if momentum > 0 else g
            w = w - lr * buf
    return w, (buf if momentum > 0 else torch.zeros_like(buf))


# ---- one tick -------------------------------------------------------------------------------


def _replace(store, slot, w, parent, tick):
    uid = store.next_uid
    store.next_uid += 1
    store.weights[slot] = w
    store.momentum[slot] = 0.0
    store.uid[slot] = uid
    store.parent_uid[slot] = parent
    store.born_at[slot] = tick
    return uid


class _Tick:
    """What the twins of one tick share: store, config, generator, codes, events, deaths."""

    def __init__(self, store, cfg, gen, tick, bonds, codes, positions=None):
        self.store, self.cfg, self.gen, self.tick, self.bonds = store, cfg, gen, tick, bonds
        self.positions = {} if positions is None else positions  # grow: uid → (l, c, e)
        self.spec, self.codes = cfg.particle, codes
        self.alive = [s for s in range(store.capacity) if bool(store.alive[s])]
        self.events, self.deaths = [], []

    def uid(self, s):
        return int(self.store.uid[s])

    def start(self):
        return {s: self.store.weights[s].clone() for s in self.alive}


def ref_attack(t, p, name):
    pairs = ref_draw_pairs(t.alive, p["pairing"], p["rate"], t.gen)
    old = t.start()
    win = ref_winners([b for _, b, _ in pairs], [k for *_, k in pairs])
    for (a, b, _), w in zip(pairs, win, strict=True):
        t.events.append((t.codes[name], t.uid(a), t.uid(b), t.uid(b) if w else -1, w))
        if w:
            t.store.weights[b] = ref_apply(t.spec, old[a], old[b])


def ref_apply_to_other(t, p, name):
    pairs = ref_draw_pairs(t.alive, p["pairing"], p["rate"], t.gen)
    old = t.start()
    for a, b, _ in pairs:
        t.store.weights[a] = ref_apply(t.spec, old[a], old[b])
        t.events.append((t.codes[name], t.uid(a), t.uid(b), t.uid(a), True))


def ref_learn_from(t, p, name):
    cfg = t.cfg
    pairs = ref_draw_pairs(t.alive, p["pairing"], p["rate"], t.gen)
    orders = ref_orders(p["severity"], len(pairs), t.spec.n_weights, cfg.train_mode, t.gen)
    old = t.start()
    for r, (a, b, _) in enumerate(pairs):
        o = None if orders is None else [orders[s][r] for s in range(len(orders))]
        w, buf = ref_train(t.spec, old[a], old[b], p["severity"], cfg.lr, cfg.momentum,
                           t.store.momentum[a], o)
        t.store.weights[a], t.store.momentum[a] = w, buf
        t.events.append((t.codes[name], t.uid(a), t.uid(b), t.uid(a), True))


def ref_melt(t, p, name):
    store, code = t.store, t.codes[name]
    pairs = ref_draw_pairs(t.alive, p["pairing"], p["rate"], t.gen)
    masks = ref_melt_masks(len(pairs), t.spec.n_weights, t.gen)
    thirds = ref_thirds(t.alive, pairs, t.gen) if p["mode"] == "offspring" else None
    old = t.start()
    children = [torch.stack([old[a][k] if m[k] else old[b][k] for k in range(len(m))])
                for (a, b, _), m in zip(pairs, masks, strict=True)]
    if thirds is None:
        for (a, b, _), c in zip(pairs, children, strict=True):
            store.weights[a] = c
            t.events.append((code, t.uid(a), t.uid(b), t.uid(a), True))
        return
    win = ref_winners(thirds, [k for *_, k in pairs])
    olduid = {s: t.uid(s) for s in t.alive}
    for (a, b, _), c, d, w in zip(pairs, children, thirds, win, strict=True):
        if w:
            t.deaths.append((olduid[d], 2))
            new = _replace(store, d, c, olduid[a], t.tick)
            t.events.append((code, olduid[a], olduid[b], new, True))
        else:
            t.events.append((code, olduid[a], olduid[b], -1, False))


def ref_merge(t, p, name):
    pairs = ref_draw_pairs(t.alive, p["pairing"], p["rate"], t.gen)
    for a, b, _ in pairs:
        edge = (min(t.uid(a), t.uid(b)), max(t.uid(a), t.uid(b)))
        t.events.append((t.codes[name], t.uid(a), t.uid(b), -1, edge not in t.bonds))
        t.bonds.add(edge)


def ref_self_apply(t, p, name):
    for a in ref_draw_actors(t.alive, p["pairing"], p["rate"], t.gen):
        w = t.store.weights[a].clone()
        t.store.weights[a] = ref_apply(t.spec, w, w.clone())
        t.events.append((t.codes[name], t.uid(a), -1, t.uid(a), True))


def ref_mutate(t, p, name):
    actors = ref_draw_actors(t.alive, p["pairing"], p["rate"], t.gen)
    noise = torch.randn(len(actors), t.spec.n_weights, generator=t.gen, dtype=t.store.dtype)
    for r, a in enumerate(actors):
        t.store.weights[a] = t.store.weights[a] + p["sigma"] * noise[r]
        t.events.append((t.codes[name], t.uid(a), -1, t.uid(a), True))


def ref_self_train(t, p, name):
    cfg = t.cfg
    orders = ref_orders(p["steps"], len(t.alive), t.spec.n_weights, cfg.train_mode, t.gen)
    for r, s in enumerate(t.alive):
        o = None if orders is None else [orders[k][r] for k in range(len(orders))]
        w, buf = ref_train(t.spec, t.store.weights[s].clone(), None, p["steps"], cfg.lr,
                           cfg.momentum, t.store.momentum[s].clone(), o)
        t.store.weights[s], t.store.momentum[s] = w, buf


def ref_second_order_train(t, p, name):
    """MSE(f(w), −w) + MSE(f(f(w)), w) per particle; the 2nd application reads f(w) itself."""
    cfg, spec = t.cfg, t.spec
    for s in t.alive:
        w, buf = t.store.weights[s].clone(), t.store.momentum[s].clone()
        for _ in range(p["steps"]):
            if not bool(torch.isfinite(w).all()):
                break  # a non-finite particle stops training; its momentum row stays
            net = RefParticle(spec, w)
            once = torch.stack([net.net(row)[0] for row in _rows(spec, list(w))])
            twice = torch.stack([net.net(row)[0] for row in _rows(spec, list(once))])
            loss = nn.functional.mse_loss(once, -w) + nn.functional.mse_loss(twice, w)
            grads = torch.autograd.grad(loss, [lin.weight for lin in net.linears()])
            g = torch.cat([x.reshape(-1) for x in grads])
            w, buf = _sgd(w, g, cfg.lr, cfg.momentum, buf)
        t.store.weights[s] = w.detach()
        if cfg.momentum > 0:
            t.store.momentum[s] = buf.detach()


def _rows(spec, values):
    """Input rows (value, layer, cell, edge, 0, …) with the values kept in the graph."""
    from tests.reference.particles import positions

    extra = [0.0] * (spec.n_inputs - 4)
    return [torch.cat([v.reshape(1), torch.tensor([lo, c, e, *extra], dtype=v.dtype)])
            for v, (lo, c, e) in zip(values, positions(spec), strict=True)]


def ref_respawn(t, p, name):
    cfg, dead = t.cfg, []
    for s in t.alive:
        w = t.store.weights[s]
        finite = bool(torch.isfinite(w).all())
        small = finite and all((abs(float(x)) < cfg.epsilon) if cfg.strict
                               else (abs(float(x)) <= cfg.epsilon) for x in w)
        if not finite and p["divergent"]:
            dead.append((s, 0))
        elif small and p["zero"]:
            dead.append((s, 1))
    fresh = t.spec.init(len(dead), t.gen, dtype=t.store.dtype)
    for (s, cause), f in zip(dead, fresh, strict=True):
        old = t.uid(s)
        t.deaths.append((old, cause))
        new = _replace(t.store, s, f, -1, t.tick)
        t.events.append((t.codes[name], old, -1, new, True))


def _ref_rule(rule):
    """The twin of a user rule: its one-event function, event by event (no vmap)."""

    def run(t, p, name):
        one = rule.bound(t.spec, p)
        if rule.form == "pair":
            pairs = ref_draw_pairs(t.alive, p["pairing"], p["rate"], t.gen)
            noise = torch.randn(len(pairs), rule.noise_size(t.spec), generator=t.gen,
                                dtype=t.store.dtype)
            old = t.start()
            win = ref_winners([b for _, b, _ in pairs], [k for *_, k in pairs])
            for r, ((a, b, _), w) in enumerate(zip(pairs, win, strict=True)):
                t.events.append((t.codes[name], t.uid(a), t.uid(b), t.uid(b) if w else -1, w))
                if w:
                    t.store.weights[b] = one(old[a], old[b], noise[r])
        else:
            actors = ref_draw_actors(t.alive, p["pairing"], p["rate"], t.gen)
            noise = torch.randn(len(actors), rule.noise_size(t.spec), generator=t.gen,
                                dtype=t.store.dtype)
            for r, a in enumerate(actors):
                t.store.weights[a] = one(t.store.weights[a].clone(), noise[r])
                t.events.append((t.codes[name], t.uid(a), -1, t.uid(a), True))

    return run


#: the twin of every built-in operator, by catalogue name: the function ``ref_<name>`` here
#: (defined or imported; ``tests/chemistry/test_catalogue.py`` requires one for every built-in)
REF_OPERATORS = {name: globals()[f"ref_{name}"] for name in BUILT_INS if f"ref_{name}" in globals()}


def ref_step(store, cfg, gen, tick: int, bonds: set, rules=(), positions=None):
    """One tick, particle by particle, running the config's schedule in its order.

    Mutates store and bonds; returns the events as tuples (operator code, actor uid,
    counterpart uid, changed uid, applied) and the deaths (uid, cause). ``rules`` are the
    ``Rule`` objects of the user rules the schedule names; ``positions`` (uid → (l, c, e))
    are the grow operator's, mutated too.
    """
    from neurosoup.chemistry.soup import operator_codes  # codes are data of the catalogue

    t = _Tick(store, cfg, gen, tick, bonds, operator_codes(cfg), positions)
    twins = {**REF_OPERATORS, **{r.name: _ref_rule(r) for r in rules}}
    for entry in cfg.operators:
        twins[entry.name](t, entry.as_dict(), entry.name)
    for dead_uid, _ in t.deaths:
        for edge in [e for e in bonds if dead_uid in e]:
            bonds.discard(edge)
    bonded = {u for e in bonds for u in e}
    for uid in [u for u in t.positions if u not in bonded]:  # dead or left without a bond
        del t.positions[uid]
    for s in t.alive:
        store.ptype[s] = ref_type(cfg.particle, store.weights[s], cfg.epsilon, cfg.strict)
    return t.events, t.deaths


def ref_type(spec, w, eps, strict=False) -> int:
    """0 divergent, 1 zero, 2 fixpoint, 3 second order, 4 other (first match wins).

    Aggregating particles compare the aggregates of w, A◁A and A◁(A◁A).
    """
    ok = (lambda d: abs(float(d)) < eps) if strict else (lambda d: abs(float(d)) <= eps)
    if not bool(torch.isfinite(w).all()):
        return 0
    if all(ok(x) for x in w):
        return 1
    once = ref_apply(spec, w, w)
    twice = ref_apply(spec, w, once)
    if spec.kind == "aggregating":
        w, once, twice = (ref_aggregate(spec, v) for v in (w, once, twice))
    if all(ok(a - b) for a, b in zip(once, w, strict=True)):
        return 2
    if all(ok(a - b) for a, b in zip(twice, w, strict=True)):
        return 3
    return 4


def ref_components(bonds: set) -> list[set]:
    """Connected components (≥ 2 members) of a bond set, by repeated flooding."""
    nodes = {u for e in bonds for u in e}
    comps, seen = [], set()
    for start in sorted(nodes):
        if start in seen:
            continue
        comp = ref_flood(bonds, start)
        seen |= comp
        comps.append(comp)
    return comps
