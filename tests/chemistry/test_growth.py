"""The ``grow`` operator: organisms grow the layered shape of an ON (issue 25)."""

from __future__ import annotations

import networkx as nx

from neurosoup.chemistry.config import SoupConfig
from neurosoup.chemistry.growth import adjacent, positions
from neurosoup.chemistry.recorder import record, resume
from neurosoup.chemistry.soup import Soup
from neurosoup.scenarios import make, spec
from neurosoup.scenarios.cli import main
from tests.scenarios.helpers import assert_same_file

SHAPE = [2, 2, 2, 1]  # 4 + 4 + 2 = 10 positions


def _soup(seed: int = 0, **extra) -> Soup:
    ops = [{"name": "grow", "rate": 0.5, "found_rate": 0.02, "shape": SHAPE},
           {"name": "self_train", "steps": 0}]  # fmt: skip
    return Soup(SoupConfig.from_dict({"n_particles": 20, "steps": 30, "operators": ops,
                                      **extra}), seed=seed)  # fmt: skip


def test_positions_and_adjacency_of_a_shape() -> None:
    assert positions([2, 2, 1]) == [(0, 0, 0), (0, 0, 1), (0, 1, 0), (0, 1, 1), (1, 0, 0),
                                    (1, 0, 1)]  # fmt: skip
    assert len(positions([2, 3, 3, 1])) == 18 and len(positions(SHAPE)) == 10
    # (0, c=1, e) feeds neuron 1 of layer 1, the source of (1, c', 1)
    assert adjacent((0, 1, 0), SHAPE) == [(1, 0, 1), (1, 1, 1)]
    assert adjacent((1, 0, 1), SHAPE) == [(0, 1, 0), (0, 1, 1), (2, 0, 0)]


def test_grown_organisms_are_layered_and_capped_by_the_shape() -> None:
    soup = _soup()
    for _ in range(30):
        soup.step()
        org = soup.organisms
        for a, b in org.graph.edges:  # every bond joins adjacent positions (role l → l + 1)
            pa, pb = org.where[a], org.where[b]
            assert abs(pa[0] - pb[0]) == 1 and pb in adjacent(pa, SHAPE)
        for comp in nx.connected_components(org.graph):
            held = [org.where[u] for u in comp]
            assert len(held) == len(set(held)) <= 10, "one particle per position"
    sizes = soup.organisms.sizes()
    assert max(sizes) == 10 and soup.observables["complete_organisms"] == sizes.count(10) >= 1
    assert soup.observables["largest_organism"] == 10


def test_growth_soup_resumes_like_an_uninterrupted_one(tmp_path) -> None:
    record(_soup(seed=3, checkpoint_every=4), tmp_path / "whole.h5", 12, progress=False)
    record(_soup(seed=3, checkpoint_every=4), tmp_path / "part.h5", 5, progress=False)
    resume(tmp_path / "part.h5", 7, progress=False)
    assert_same_file(tmp_path / "whole.h5", tmp_path / "part.h5")


def test_the_growth_scenario_is_registered_and_runs_small(tmp_path) -> None:
    cfg = spec("soup/organism-growth-v1").resolve()
    assert cfg.particle.n_inputs == 5 and cfg.particle.hidden == 3  # the ON's PN
    assert cfg.op("grow")["shape"] == [2, 3, 3, 1]
    soup = make("soup/organism-growth-v1", seed=1, steps=3, n_particles=12,
                **{"self_train.steps": 1})  # fmt: skip
    soup.run(progress=False)
    assert {"n_organisms", "largest_organism", "complete_organisms"} <= set(soup.observables)


def test_a_bad_shape_is_one_line(tmp_path, capsys) -> None:
    code = main(["run", "soup/organism-growth-v1", "--steps", "1", "--set", "grow.shape=[3]",
                 "--out", str(tmp_path / "x.h5")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "grow.shape must list >= 2" in err
    code = main(["run", "soup/organism-growth-v1", "--steps", "1", "--set", "grow.shape=[2,2,1]",
                 "--out", str(tmp_path / "x.h5")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "fall into 2 groups" in err
