"""Organisms: merge builds the expected components; respawn removes a dead particle's bonds."""

from __future__ import annotations

import networkx as nx
import torch

from neurosoup.chemistry.config import SoupConfig
from neurosoup.chemistry.pairing import Pairs
from neurosoup.chemistry.soup import Soup
from tests.reference.soup import ref_components


def pairs(soup: Soup, uid_pairs: list[tuple[int, int]]) -> Pairs:
    slot = {int(u): s for s, u in enumerate(soup.store.uid.tolist())}
    a = torch.tensor([slot[x] for x, _ in uid_pairs])
    b = torch.tensor([slot[y] for _, y in uid_pairs])
    return Pairs(a, b, torch.zeros(len(uid_pairs), dtype=torch.float64))


def members(soup: Soup) -> dict[int, set[int]]:
    return {k: set(v) for k, v in soup.organisms.members().items()}


def make_soup() -> Soup:
    # merge on (so organism observables exist) but practically never drawn; respawn zeros
    cfg = SoupConfig(n_particles=8, train_steps=0, merge_rate=1e-12, merge_pairing="single",
                     respawn_zero=True)
    return Soup(cfg, seed=5)


def test_merge_builds_components_with_stable_ids() -> None:
    soup = make_soup()
    ev = soup.add_bonds(pairs(soup, [(0, 1), (1, 2), (3, 4), (1, 0)]), update=True)
    assert ev.applied.tolist() == [True, True, True, False]  # re-bonding is a no-op
    orgs = members(soup)
    assert sorted(map(sorted, orgs.values())) == [[0, 1, 2], [3, 4]]
    id_big = next(k for k, v in orgs.items() if v == {0, 1, 2})
    id_small = next(k for k, v in orgs.items() if v == {3, 4})
    soup.add_bonds(pairs(soup, [(5, 6)]), update=True)
    orgs = members(soup)
    assert orgs[id_big] == {0, 1, 2} and orgs[id_small] == {3, 4}
    id_new = next(k for k, v in orgs.items() if v == {5, 6})
    assert id_new not in (id_big, id_small)
    soup.add_bonds(pairs(soup, [(2, 3)]), update=True)  # two organisms fuse: smaller id survives
    orgs = members(soup)
    assert orgs == {min(id_big, id_small): {0, 1, 2, 3, 4}, id_new: {5, 6}}
    assert [set(c) for c in ref_components(soup.organisms.bond_set())] == sorted(
        orgs.values(), key=min
    )


def test_respawn_removes_bonds_and_splits() -> None:
    soup = make_soup()
    soup.add_bonds(pairs(soup, [(0, 1), (1, 2), (2, 3), (5, 6)]), update=True)
    oid = next(k for k, v in members(soup).items() if 1 in v)
    other = next(k for k, v in members(soup).items() if 5 in v)
    slot_of_1 = int((soup.store.uid == 1).nonzero()[0, 0])
    soup.store.weights[slot_of_1] = 0.0  # a zero particle: respawn replaces it this tick
    soup.step()
    assert int(soup.store.uid[slot_of_1]) == 8, "the zero particle got a new uid"
    assert all(1 not in e for e in soup.organisms.bond_set()), "its bonds went with it"
    assert 8 not in nx.nodes(soup.organisms.graph), "the newborn has no bonds"
    orgs = members(soup)
    assert orgs[oid] == {2, 3}, "the larger remaining part keeps the organism id"
    assert orgs[other] == {5, 6}
    assert all(v != {0} for v in orgs.values()), "a lone particle is no organism"
    assert soup.observables["n_organisms"] == 2.0
    assert soup.observables["largest_organism"] == 2.0
    assert soup.observables["respawn_zero"] == 1.0
    frame = soup.datacollector.get_model_vars_dataframe()
    assert frame["organism_sizes"].iloc[-1] == [2, 2] and len(frame) == 2


def test_merge_soup_forms_organisms() -> None:
    soup = Soup(SoupConfig(n_particles=20, train_steps=0, merge_rate=0.05), seed=1)
    soup.run(30, progress=False)
    comps = ref_components(soup.organisms.bond_set())
    assert len(soup.organisms.members()) == len(comps) > 0
    assert sorted(map(sorted, soup.organisms.members().values())) == sorted(map(sorted, comps))
