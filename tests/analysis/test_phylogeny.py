"""Phylogenies in the ALife Data Standard, read back by alifedata-phyloinformatics-convert
and phylotrackpy; Newick of a known forest; summaries by the library; bad input."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import dendropy
import h5py
import numpy as np
import pandas as pd
import pytest

from neurosoup.analysis import open_run
from neurosoup.analysis.phylogeny import (
    ancestor_list,
    first_ancestor,
    newick,
    phylogeny,
    write_csv,
)
from neurosoup.analysis.phylogeny_stats import phylogeny_summary
from neurosoup.chemistry.quine_training import QuineConfig, QuineTraining
from neurosoup.chemistry.recorder import record
from neurosoup.scenarios.cli import main

from .test_evolution import write_evolution

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the library warns that its optional ete3 is absent
    from alifedata_phyloinformatics_convert import RosettaTree
    from alifedata_phyloinformatics_convert._impl import alifestd_validate
from phylotrackpy.systematics import Systematics

STANDARD = ["id", "ancestor_list", "origin_time", "destruction_time"]


def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False,
                       dtype={"destruction_time": str, "genotype": str})


def _phylotrack(path: Path) -> Systematics:
    sys_ = Systematics(lambda x: x)
    sys_.load_from_file(str(path), "id", True)
    return sys_


def test_ancestor_list_strings_have_no_spaces() -> None:
    out = ancestor_list(np.array([-1, 3, 12]), np.array([-1, 7, -1]))
    assert out.tolist() == ["[none]", "[3,7]", "[12]"]


def test_soup_export_is_the_standard_and_the_libraries_read_it(tree_run, tmp_path) -> None:
    csv = tmp_path / "tree.csv"
    assert main(["analyse", str(tree_run), "phylogeny", "--csv", str(csv)]) == 0
    t = _read_csv(csv)
    assert list(t.columns[:4]) == STANDARD
    assert list(t.columns[4:]) == ["birth_cause", "operator", "death_cause", "final_type",
                                   "organism"]  # fmt: skip
    # the fixture's known tree: 3 seeds; 3 = melt(0, 1) at tick 1; 4 child of 3; 5 a respawn
    assert t["ancestor_list"].tolist() == ["[none]"] * 3 + ["[0,1]", "[3]", "[none]"]
    assert t["origin_time"].tolist() == [0, 0, 0, 1, 2, 3]
    assert t["destruction_time"].astype(str).tolist() == ["3", "2", "1", "inf", "inf", "inf"]
    assert t["birth_cause"].tolist() == ["seed"] * 3 + ["offspring", "offspring", "respawn"]
    assert t["operator"].tolist()[:5] == ["init"] * 3 + ["melt", "melt"]
    assert t["death_cause"].tolist()[:3] == ["zero", "replaced", "replaced"]
    assert t["final_type"].tolist() == ["other", "other", "other", "other", "fixpoint",
                                        "fixpoint"]  # fmt: skip
    assert t["organism"].tolist() == [-1, -1, -1, 3, 3, -1]
    assert t["id"].is_unique
    assert t["ancestor_list"].str.fullmatch(r"\[(none|\d+(,\d+)*)\]").all()
    # the standard's readers. The library's validator fails on every two-parent table (a
    # NameError inside it, v0.19.3): validate the one-parent projection, read the full table
    # as a networkx graph (edges child → parents) and load it into phylotrackpy.
    first = t.assign(ancestor_list=ancestor_list(first_ancestor(t["ancestor_list"])))
    assert alifestd_validate(first)
    graph = RosettaTree(t, validate="ignore").as_networkx
    assert set(graph.successors(3)) == {0, 1} and set(graph.successors(4)) == {3}
    with pytest.raises(RuntimeError, match="one parent"):  # phylotrackpy: one parent only
        _phylotrack(csv)
    first.to_csv(tmp_path / "first.csv", index=False)
    sys_ = _phylotrack(tmp_path / "first.csv")
    assert sys_.get_num_roots() == 4  # 0, 1, 2, 5: load_from_file takes leaves as extant
    assert sys_.get_num_active() == 3 and sys_.get_max_depth() == 2  # living: 3, 4, 5


def test_stdout_csv_equals_the_file(tree_run, tmp_path, capsys) -> None:
    assert main(["analyse", str(tree_run), "phylogeny"]) == 0
    printed = capsys.readouterr().out
    buf = io.StringIO()
    with open_run(tree_run) as run:
        assert write_csv(run, buf) == 6
    assert printed == buf.getvalue()


def test_newick_roots_the_forest_under_one_virtual_root(tree_run, tmp_path) -> None:
    out = tmp_path / "tree.nwk"
    assert main(["analyse", str(tree_run), "phylogeny", "--format", "newick",
                 "--csv", str(out)]) == 0  # fmt: skip
    text = out.read_text().strip()
    assert text.endswith(";")
    tree = dendropy.Tree.get(data=text, schema="newick")
    label = {n: (n.taxon.label if n.taxon else n.label) for n in tree.preorder_node_iter()}
    root = tree.seed_node
    assert label[root] == "root"
    assert sorted(label[c] for c in root.child_nodes()) == ["0", "1", "2", "5"]
    node = {v: k for k, v in label.items()}
    assert label[node["4"].parent_node] == "3" and label[node["3"].parent_node] == "0"
    assert node["5"].edge.length == 3 and node["4"].edge.length == 1  # origin-time differences
    back = RosettaTree.from_newick(text)  # the library reads its own Newick back
    assert len(back.as_alife) == 7


def test_summary_through_phylotrackpy(tree_run) -> None:
    with open_run(tree_run) as run:
        s = phylogeny_summary(phylogeny(run))
    last = s.iloc[-1]
    assert s["time"].tolist() == [0, 1, 2, 3]
    assert last["living"] == 3  # 3, 4, 5
    assert last["lineages"] == 2  # founders 0 (via 3 → 4) and 5
    assert last["max_depth"] == 2  # 4 ← 3 ← 0
    assert last["mean_pairwise_distance"] == 1.0  # only 3 and 4 share a founder
    assert s["living"].tolist() == [3, 3, 3, 3]


def test_evolution_export(tmp_path) -> None:
    g0 = [(-1, set(), 0.5, True)] * 3
    g1 = [(0, {7}, 0.9, True), (0, set(), 0.5, False), (2, set(), 0.5, True)]
    path = write_evolution(tmp_path / "evo.h5", [g0, g1])
    csv = tmp_path / "evo.csv"
    assert main(["analyse", str(path), "phylogeny", "--csv", str(csv)]) == 0
    t = _read_csv(csv)
    assert list(t.columns) == [*STANDARD, "genotype", "alpha", "fitness", "alive",
                               "n_mutations"]  # fmt: skip
    assert t["ancestor_list"].tolist() == ["[none]"] * 3 + ["[0]", "[0]", "[2]"]
    assert t["origin_time"].tolist() == [0, 0, 0, 1, 1, 1]
    assert t["destruction_time"].astype(str).tolist() == ["1"] * 3 + ["inf"] * 3
    assert t["genotype"].str.len().eq(26).all() and t["genotype"][3] != t["genotype"][0]
    assert t["fitness"].tolist()[3:] == [0.9, 0.0, 0.5]
    sys_ = _phylotrack(csv)
    assert sys_.get_num_roots() == 3 and sys_.get_num_active() == 3  # living: generation 1
    tree = dendropy.Tree.get(data=newick(t), schema="newick")
    assert len(tree.leaf_nodes()) == 4  # 1, 3, 4, 5 under the virtual root


@pytest.fixture(scope="module")
def quine_soup(tmp_path_factory) -> tuple[QuineTraining, Path]:
    cfg = QuineConfig(hidden=8, population=6, steps=8, snapshot_every=4,
                      operators=[{"name": "overwrite", "rate": 0.3}])  # fmt: skip
    model = QuineTraining(cfg, seed=2, device="cpu")
    path = tmp_path_factory.mktemp("phylo") / "qsoup.h5"
    record(model, path, progress=False)
    return model, path


def test_quine_soup_export_follows_the_founders(quine_soup) -> None:
    model, path = quine_soup
    with open_run(path) as run:
        t = phylogeny(run)
        n_over = int(((run.events["operator"] == "overwrite") & run.events["applied"]).sum())
    assert n_over > 0 and len(t) == 6 + n_over and t["id"].is_unique
    alive = t[t["destruction_time"] == "inf"]
    assert sorted(alive["member"]) == list(range(6))
    parent = dict(zip(t["id"], [int(a.strip("[]")) if a != "[none]" else -1
                                for a in t["ancestor_list"]], strict=True))  # fmt: skip

    def founder(i: int) -> int:
        while parent[i] >= 0:
            i = parent[i]
        return i

    by_member = dict(zip(alive["member"], alive["id"], strict=True))
    assert [founder(by_member[m]) for m in range(6)] == model.ancestor.tolist()
    assert alifestd_validate(t)


def _organism_file(tree_run: Path, tmp_path: Path) -> Path:
    path = tmp_path / "organism.h5"
    path.write_bytes(tree_run.read_bytes())
    with h5py.File(path, "a") as f:
        f.attrs["kind"] = "organism"
    return path


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")
    return err[0]


def test_bad_input_is_one_line_exit_2(tree_run, tmp_path, capsys) -> None:
    organism = _organism_file(tree_run, tmp_path)
    assert main(["analyse", str(organism), "phylogeny"]) == 2
    assert "records no lineage" in _one_line(capsys)
    assert main(["analyse", str(tree_run), "phylogeny", "--format", "nexus"]) == 2
    assert "unknown --format 'nexus'" in _one_line(capsys)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["analyse", str(tree_run), "phylogeny", "--csv", str(blocker / "t.csv")]) == 2
    err = _one_line(capsys)  # the shared output check of every command
    assert "cannot write" in err and "choose a writable --csv" in err
    assert main(["analyse", str(tree_run), "phylogeny", "--csv", str(tmp_path)]) == 2
    assert "is a folder" in _one_line(capsys)
    assert main(["analyse", str(tree_run), "counts", "--format", "newick"]) == 2
    assert "phylogeny analysis only" in _one_line(capsys)


def test_a_file_without_lineage_tables_exports_from_its_snapshots(tree_run, tmp_path) -> None:
    path = tmp_path / "old.h5"
    path.write_bytes(tree_run.read_bytes())
    with h5py.File(path, "a") as f:
        del f["lineage"]
    with open_run(path) as run:
        t = phylogeny(run)
    assert t["ancestor_list"].tolist() == ["[none]"] * 3 + ["[0]", "[3]", "[none]"]  # no co-parent
    assert t["origin_time"].tolist() == [0, 0, 0, 1, 2, 3]
    assert t["destruction_time"].tolist() == ["3", "2", "1", "inf", "inf", "inf"]  # first absent
