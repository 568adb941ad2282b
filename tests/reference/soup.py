"""Slow, obviously-correct per-particle twins of the soup operators (``science/soup.md``).

Everything here loops over particles and pairs in Python and works one store row at a time.
Random numbers come from the same generator calls as the batched code (same shapes, same
order), so the twins and the kernels can be compared draw for draw; what each draw *means*
(counterpart shift, winners, melt masks, the third particle) is recomputed here by hand.
Weightwise application uses ``RefParticle`` (one ``nn.Linear`` stack per particle);
training is a hand-written SGD loop on torch autograd.
"""

from __future__ import annotations

import torch
from torch import nn

from tests.reference.particles import RefParticle, ref_apply

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


def ref_train(spec, w, teacher, steps, lr, momentum, buf, orders=None):
    """steps full-batch steps (orders None) or passes of one particle; teacher None = self."""
    w, buf = w.clone(), buf.clone()
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


def ref_step(store, cfg, gen, tick: int, bonds: set, rules=()):
    """One tick, particle by particle. Mutates store and bonds; returns the events as tuples
    (operator, actor uid, counterpart uid, changed uid, applied) and the deaths (uid, cause)."""
    spec = cfg.particle
    alive = [s for s in range(store.capacity) if bool(store.alive[s])]
    events, deaths = [], []
    uid = lambda s: int(store.uid[s])  # noqa: E731

    def start():
        return {s: store.weights[s].clone() for s in alive}

    if cfg.attack_rate > 0:
        pairs = ref_draw_pairs(alive, cfg.attack_pairing, cfg.attack_rate, gen)
        old = start()
        win = ref_winners([b for _, b, _ in pairs], [k for *_, k in pairs])
        for (a, b, _), w in zip(pairs, win, strict=True):
            events.append((0, uid(a), uid(b), uid(b) if w else -1, w))
            if w:
                store.weights[b] = ref_apply(spec, old[a], old[b])
    if cfg.apply_to_other_rate > 0:
        pairs = ref_draw_pairs(alive, cfg.apply_to_other_pairing, cfg.apply_to_other_rate, gen)
        old = start()
        for a, b, _ in pairs:
            store.weights[a] = ref_apply(spec, old[a], old[b])
            events.append((1, uid(a), uid(b), uid(a), True))
    if cfg.learn_from_rate > 0:
        pairs = ref_draw_pairs(alive, cfg.learn_from_pairing, cfg.learn_from_rate, gen)
        orders = ref_orders(cfg.learn_from_severity, len(pairs), spec.n_weights,
                            cfg.train_mode, gen)
        old = start()
        for r, (a, b, _) in enumerate(pairs):
            o = None if orders is None else [orders[s][r] for s in range(len(orders))]
            w, buf = ref_train(spec, old[a], old[b], cfg.learn_from_severity, cfg.lr,
                               cfg.momentum, store.momentum[a], o)
            store.weights[a], store.momentum[a] = w, buf
            events.append((2, uid(a), uid(b), uid(a), True))
    if cfg.melt_rate > 0:
        pairs = ref_draw_pairs(alive, cfg.melt_pairing, cfg.melt_rate, gen)
        masks = ref_melt_masks(len(pairs), spec.n_weights, gen)
        thirds = ref_thirds(alive, pairs, gen) if cfg.melt_mode == "offspring" else None
        old = start()
        children = [torch.stack([old[a][k] if m[k] else old[b][k] for k in range(len(m))])
                    for (a, b, _), m in zip(pairs, masks, strict=True)]
        if thirds is None:
            for (a, b, _), c in zip(pairs, children, strict=True):
                store.weights[a] = c
                events.append((3, uid(a), uid(b), uid(a), True))
        else:
            win = ref_winners(thirds, [k for *_, k in pairs])
            olduid = {s: uid(s) for s in alive}
            for (a, b, _), c, d, w in zip(pairs, children, thirds, win, strict=True):
                if w:
                    deaths.append((olduid[d], 2))
                    new = _replace(store, d, c, olduid[a], tick)
                    events.append((3, olduid[a], olduid[b], new, True))
                else:
                    events.append((3, olduid[a], olduid[b], -1, False))
    if cfg.merge_rate > 0:
        pairs = ref_draw_pairs(alive, cfg.merge_pairing, cfg.merge_rate, gen)
        for a, b, _ in pairs:
            edge = (min(uid(a), uid(b)), max(uid(a), uid(b)))
            events.append((4, uid(a), uid(b), -1, edge not in bonds))
            bonds.add(edge)
    for code, rule in enumerate(rules, start=7):
        pairs = ref_draw_pairs(alive, rule.pairing, rule.rate, gen)
        noise = torch.randn(len(pairs), rule.noise_size(spec), generator=gen,
                            dtype=store.dtype)
        old = start()
        win = ref_winners([b for _, b, _ in pairs], [k for *_, k in pairs])
        for r, ((a, b, _), w) in enumerate(zip(pairs, win, strict=True)):
            events.append((code, uid(a), uid(b), uid(b) if w else -1, w))
            if w:
                store.weights[b] = rule.fn(old[a], old[b], noise[r])
    if cfg.self_apply_rate > 0:
        actors = ref_draw_actors(alive, cfg.self_apply_pairing, cfg.self_apply_rate, gen)
        for a in actors:
            store.weights[a] = ref_apply(spec, store.weights[a].clone(), store.weights[a].clone())
            events.append((5, uid(a), -1, uid(a), True))
    if cfg.train_steps > 0:
        orders = ref_orders(cfg.train_steps, len(alive), spec.n_weights, cfg.train_mode, gen)
        for r, s in enumerate(alive):
            o = None if orders is None else [orders[t][r] for t in range(len(orders))]
            w, buf = ref_train(spec, store.weights[s].clone(), None, cfg.train_steps, cfg.lr,
                               cfg.momentum, store.momentum[s].clone(), o)
            store.weights[s], store.momentum[s] = w, buf
    if cfg.respawn_divergent or cfg.respawn_zero:
        dead = []
        for s in alive:
            w = store.weights[s]
            finite = bool(torch.isfinite(w).all())
            small = finite and all((abs(float(x)) < cfg.epsilon) if cfg.strict
                                   else (abs(float(x)) <= cfg.epsilon) for x in w)
            if not finite and cfg.respawn_divergent:
                dead.append((s, 0))
            elif small and cfg.respawn_zero:
                dead.append((s, 1))
        fresh = spec.init(len(dead), gen, dtype=store.dtype)
        for (s, cause), f in zip(dead, fresh, strict=True):
            old = uid(s)
            deaths.append((old, cause))
            new = _replace(store, s, f, -1, tick)
            events.append((6, old, -1, new, True))
    for dead_uid, _ in deaths:
        for edge in [e for e in bonds if dead_uid in e]:
            bonds.discard(edge)
    for s in alive:
        store.ptype[s] = ref_type(spec, store.weights[s], cfg.epsilon, cfg.strict)
    return events, deaths


def ref_type(spec, w, eps, strict=False) -> int:
    """0 divergent, 1 zero, 2 fixpoint, 3 second order, 4 other (first match wins)."""
    ok = (lambda d: abs(float(d)) < eps) if strict else (lambda d: abs(float(d)) <= eps)
    if not bool(torch.isfinite(w).all()):
        return 0
    if all(ok(x) for x in w):
        return 1
    once = ref_apply(spec, w, w)
    if all(ok(a - b) for a, b in zip(once, w, strict=True)):
        return 2
    twice = ref_apply(spec, w, once)
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
        comp, frontier = {start}, [start]
        while frontier:
            u = frontier.pop()
            for a, b in bonds:
                for x, y in ((a, b), (b, a)):
                    if x == u and y not in comp:
                        comp.add(y)
                        frontier.append(y)
        seen |= comp
        comps.append(comp)
    return comps
