"""Offline, read-only analysis: HDF5 run files → tables, statistics, figures.

Map of the package (never imports ``neurosoup.chemistry`` or ``neurosoup.scenarios``):
    load.py        open_run → Run: spec, observables, events, lineage, organisms
    snapshots.py   Snapshots, Frame: lazy per-frame access to weights, uids, types
    organism.py    organism runs: types, curves, PN_SR robustness, re-substitution, dropout
                   vs l1 pruning, heatmap, connectivity, per-layer PCA (registered "organism")
    organism_plots.py  the organism figures
    evolution.py   evolution runs: adaptation, DFE, the figures; registers the analyses
    evolution_population.py  the /population table (Population), read once per run
    evolution_genetics.py    alleles, clones + Muller, clonal interference, lineages
    evolution_evaluation.py  `neurosoup evaluate` files: read, per-genotype summary, noise
    evolution_plots.py  the evolution figures
    soup_muller.py Muller plots of a soup's lineages (the evolution Muller code)
    soup.py        type counts, whitened PCA trajectories, lineages, organism sizes, distances
    complexity.py  high-order entropy of every kind over time (analysis and figure)
    complexity.py  high-order entropy of every kind over time (analysis and figure)
    phylogeny.py   ALife-standard phylogenies (CSV, streamed) and Newick of soups, evolution
                   runs and quine soups
    phylogeny_stats.py  phylogenetic summaries over time through phylotrackpy
    quine.py       quine runs: members (SSE beside R², trivial), training, regeneration,
                   accuracy-vs-replication over λ, the quine soup
    robustness.py  noise robustness (t_verge, t_fix) and basins of stored particles
    plots.py       one function per figure (→ Figure) and save_figure (PNG + CSV)
    storyboard.py  one figure per snapshot for every kind (soup PCA map, organism heatmap,
                   evolution Muller so far, quine SSE/R²): animations and the replay page
    animate.py     every k-th storyboard frame as a GIF (Pillow) or an MP4 (ffmpeg)
    report.py      named analyses for the CLI, every figure that fits a run, the HTML report
    sweep.py       a sweep folder: index.csv, mean ± sd per grid point, one figure per result
"""

from neurosoup.particles import SnapshotError

from . import (
    complexity,  # registers complexity for every kind  # noqa: F401
    phylogeny_stats,  # registers phylogeny, phylogeny_summary  # noqa: F401
    quine,  # registers the quine analyses  # noqa: F401
    soup_muller,  # registers the soup's muller analysis  # noqa: F401
)
from . import evolution as evolution  # registers the evolution analyses
from . import organism as organism  # registers the organism analyses
from .load import Frame, Run, Snapshots, open_run
from .robustness import robustness, run_robustness, time_to_vergence
from .soup import (
    distance_matrix,
    final_counts,
    lineage_summary,
    lineage_table,
    organism_sizes,
    pca_fit,
    pca_trajectories,
    type_counts,
)

__all__ = [
    "Frame",
    "Run",
    "SnapshotError",
    "Snapshots",
    "distance_matrix",
    "final_counts",
    "lineage_summary",
    "lineage_table",
    "open_run",
    "organism_sizes",
    "pca_fit",
    "pca_trajectories",
    "robustness",
    "run_robustness",
    "time_to_vergence",
    "type_counts",
]
