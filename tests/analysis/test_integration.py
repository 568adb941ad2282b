"""A real run file from the soup engine and recorder, read back by the analysis."""

from __future__ import annotations

import numpy as np

from neurosoup.analysis import open_run
from neurosoup.analysis.robustness import one_thread
from neurosoup.analysis.soup import counts_from_snapshots, organism_sizes, type_counts
from neurosoup.scenarios.cli import main


def test_recorded_merge_soup_agrees_with_its_observables(tmp_path, capsys):
    path = tmp_path / "merge.h5"
    with one_thread():
        assert (
            main(
                [
                    "run",
                    "soup/merge-v1",
                    "--seed",
                    "2",
                    "--steps",
                    "60",
                    "--quiet",
                    "--out",
                    str(path),
                ]
            )
            == 0
        )
    with open_run(path) as run:
        assert run.spec["scenario"] == "soup/merge-v1"
        obs = run.observables
        assert len(obs) == 61 and len(run.snapshots) >= 2
        assert counts_from_snapshots(run).equals(type_counts(run).loc[run.snapshots.steps])
        sizes = organism_sizes(run)
        n_org = sizes.groupby("step")["count"].sum().reindex(run.snapshots.steps, fill_value=0)
        largest = sizes.groupby("step")["size"].max().reindex(run.snapshots.steps, fill_value=0)
        np.testing.assert_array_equal(n_org, obs.loc[run.snapshots.steps, "n_organisms"])
        np.testing.assert_array_equal(largest, obs.loc[run.snapshots.steps, "largest_organism"])
        assert sizes["count"].sum() > 0  # organisms did form, so the comparison means something
        assert len(run.lineage) == len(run.births) >= 20
