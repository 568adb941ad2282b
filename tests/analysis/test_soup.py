from __future__ import annotations

import numpy as np
import pytest

from neurosoup.analysis import open_run
from neurosoup.analysis.soup import (
    counts_from_snapshots,
    distance_matrix,
    distances,
    final_counts,
    fixpoint_ancestors,
    lineage_summary,
    lineage_table,
    organism_sizes,
    pca_fit,
    pca_project,
    pca_trajectories,
    type_counts,
)
from neurosoup.particles import ConfigError


def test_counts_from_a_fixed_snapshot(tree_run):
    with open_run(tree_run) as run:
        counts = type_counts(run)
        assert counts.loc[3].to_dict() == {
            "divergent": 0,
            "zero": 0,
            "fixpoint": 2,
            "second_order": 0,
            "other": 1,
        }
        assert counts.loc[0, "other"] == 3
        assert final_counts(run)["fixpoint"] == 2
        assert counts_from_snapshots(run).equals(counts)


def test_counts_fall_back_to_snapshots(tmp_path):
    from .runfiles import write_run

    ptype = np.array([[0, 1, 2, 2, 4]])
    path = write_run(
        tmp_path / "r.h5",
        steps=np.array([7]),
        weights=np.zeros((1, 5, 14)),
        uid=np.arange(5)[None],
        ptype=ptype,
        observables={},
        obs_steps=[],
    )
    with open_run(path) as run:
        assert type_counts(run).loc[7].tolist() == [1, 1, 2, 0, 1]


def test_pca_of_points_on_a_line(line_run):
    path, t = line_run
    with open_run(path) as run:
        traj = pca_trajectories(run)
    assert len(traj) == t.size
    t_flat = t.reshape(-1)  # step-major, uid order, as in the table
    corr = np.corrcoef(traj["pc1"], t_flat)[0, 1]
    assert abs(corr) == pytest.approx(1.0, abs=1e-6)
    assert traj["pc1"].std(ddof=1) == pytest.approx(1.0, rel=1e-6)  # whitened
    assert np.abs(traj["pc2"]).max() < 1e-3
    assert traj.loc[traj["uid"] == 0, "final_type"].unique().tolist() == ["fixpoint"]
    assert traj.loc[traj["uid"] == 1, "final_type"].unique().tolist() == ["other"]


def test_pca_whitening_on_a_plane():
    rng = np.random.default_rng(1)
    basis = np.linalg.qr(rng.normal(size=(6, 2)))[0].T  # [2, 6] orthonormal
    coef = rng.normal(size=(500, 2)) * [5.0, 0.5]
    pca = pca_fit(coef @ basis + 3.0)
    scores = pca_project(pca, coef @ basis + 3.0)
    np.testing.assert_allclose(np.cov(scores.T), np.eye(2), atol=1e-9)
    assert pca.explained.sum() == pytest.approx(1.0)
    assert pca.explained[0] > 0.95
    with pytest.raises(ConfigError, match="at least 2"):
        pca_fit(np.full((3, 6), np.nan))


def test_lineage_of_a_known_tree(tree_run):
    with open_run(tree_run) as run:
        table = lineage_table(run).set_index("uid")
        assert table["depth"].to_dict() == {0: 0, 1: 0, 2: 0, 3: 1, 4: 2, 5: 0}
        assert table["root"].to_dict() == {0: 0, 1: 1, 2: 2, 3: 0, 4: 0, 5: 5}
        assert table["parent"].to_dict() == {0: -1, 1: -1, 2: -1, 3: 0, 4: 3, 5: -1}
        assert table["alive"].to_dict() == {0: False, 1: False, 2: False, 3: True, 4: True, 5: True}
        assert lineage_summary(run) == {
            "particles_born": 6,
            "roots": 4,
            "max_depth": 2,
            "surviving_lineages": 2,
            "alive_fixpoints": 2,
        }
        anc = fixpoint_ancestors(run).set_index("uid")["root"].to_dict()
        assert anc == {4: 0, 5: 5}


def test_organism_sizes(fixpoint_run):
    with open_run(fixpoint_run) as run:
        sizes = organism_sizes(run)
    assert sizes.values.tolist() == [[50, 2, 1], [100, 2, 1], [100, 3, 1]]


def test_distances_known_values():
    x = np.array([[0.0, 1.0, 2.0], [2.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    mae, mse, mim = (distance_matrix(x, m) for m in ("mae", "mse", "mim"))
    assert mae[0, 1] == pytest.approx((2 + 1 + 1) / 3)
    assert mse[0, 1] == pytest.approx((4 + 1 + 1) / 3)
    assert mim[0, 1] == 0.0  # a permutation
    assert mim[0, 2] == pytest.approx(1.0)
    for d in (mae, mse, mim):
        np.testing.assert_allclose(d, d.T)
        assert np.all(np.diag(d) == 0)
    np.testing.assert_allclose(distances(x, x[[1, 2, 0]], "mae"), [mae[0, 1], mae[1, 2], mae[2, 0]])
    with pytest.raises(ConfigError, match="unknown distance 'l2'"):
        distances(x, x, "l2")
