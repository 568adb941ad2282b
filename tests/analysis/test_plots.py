from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from neurosoup.analysis import open_run, plots
from neurosoup.analysis.report import run_figures, write_report
from neurosoup.analysis.soup import final_counts, type_counts
from neurosoup.particles import ConfigError

from .runfiles import ALL_FIGURES


def _labelled(fig: Figure) -> None:
    assert any(ax.get_xlabel() for ax in fig.axes)
    assert all(ax.get_ylabel() for ax in fig.axes)
    assert any(ax.get_title() for ax in fig.axes)


def test_figures_use_agg_and_stay_out_of_pyplot(tree_run):
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    with open_run(tree_run) as run:
        fig = plots.counts_figure(type_counts(run))
    assert isinstance(fig.canvas, FigureCanvasAgg)
    assert plt.get_fignums() == []


def test_every_figure_renders_and_its_csv_matches(fixpoint_run, tmp_path):
    with open_run(fixpoint_run) as run:
        figs = run_figures(run, robustness_clones=3, basin_steps=50)
        assert set(figs) == set(ALL_FIGURES)
        for name, (build, data) in figs.items():
            fig = build()
            assert isinstance(fig, Figure), name
            _labelled(fig)
            fig.canvas.draw()
            png, csv = plots.save_figure(fig, data, tmp_path, name)
            assert png.stat().st_size > 1000
            back = pd.read_csv(csv)
            frame = data.to_frame() if isinstance(data, pd.Series) else data
            frame = frame.reset_index() if frame.index.name is not None else frame
            assert list(back.columns) == [str(c) for c in frame.columns], name
            for col in frame.columns:
                if pd.api.types.is_numeric_dtype(frame[col]):
                    np.testing.assert_allclose(back[str(col)], frame[col], equal_nan=True)
                else:
                    assert (
                        back[str(col)].fillna("").astype(str).tolist()
                        == frame[col].fillna("").astype(str).tolist()
                    )


def test_final_bar_heights_equal_counts(tree_run):
    with open_run(tree_run) as run:
        final = final_counts(run)
        fig = plots.final_counts_figure(final)
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights == final.tolist() == [0, 0, 2, 0, 1]


def test_stacked_counts_top_equals_population(tree_run):
    with open_run(tree_run) as run:
        counts = type_counts(run)
        fig = plots.counts_figure(counts)
    top = fig.axes[0].collections[-1].get_paths()[0].vertices[:, 1].max()
    assert top == counts.sum(axis=1).max() == 3
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == list(counts.columns)


def test_robustness_figure_boxes_per_level_and_source():
    table = pd.DataFrame(
        {
            "sigma": np.repeat([1.0, 0.1], 6),
            "t_verge": np.arange(12),
            "t_fix": np.zeros(12),
            "source": np.tile(["soup", "perfect"], 6),
        }
    )
    fig = plots.robustness_figure(table)
    assert len(fig.axes[0].patches) == 4  # 2 levels × 2 sources
    assert fig.axes[1].get_xlabel() == "noise level σ"
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["perfect", "soup"]


def test_missing_columns_say_which():
    with pytest.raises(ConfigError, match=r"needs columns \['pc1'"):
        plots.trajectories_figure(pd.DataFrame({"step": [0], "uid": [0]}))


def test_write_report(fixpoint_run, tmp_path):
    # write_figures (neurosoup plot) is exercised in test_cli.py
    with open_run(fixpoint_run) as run:
        report = write_report(run, tmp_path / "rep", robustness_clones=2, basin_steps=20)
    pngs = sorted(report.parent.glob("*.png"))
    assert len(pngs) == 11  # nine soup figures, the Muller plot and the complexity figure
    assert all(p.with_suffix(".csv").exists() for p in pngs)
    text = report.read_text()
    assert text.count("data:image/png;base64,") == 11
    assert "soup/test-v1" in text and "count_fixpoint" in text


def test_versus_figure_plots_ours_beside_reference(tmp_path):
    frame = pd.DataFrame({"steps": [500, 1000], "ours_mean": [0.3, 7.3], "reference": [0.2, 7.1]})
    fig = plots.versus_figure(frame, "steps", "self-train steps", "fixpoints", "journal code")
    lines = fig.axes[0].get_lines()
    assert [list(line.get_ydata()) for line in lines] == [[0.3, 7.3], [0.2, 7.1]]
    assert lines[1].get_label() == "reference: journal code"
    _labelled(fig)


def test_lineage_figure_draws_one_line_per_parent_edge(tree_run):
    with open_run(tree_run) as run:
        from neurosoup.analysis.soup import lineage_table

        table = lineage_table(run)
    fig = plots.lineage_figure(table)
    assert len(fig.axes[0].get_lines()) == int((table["parent"] >= 0).sum()) == 2
    labels = {t.get_text() for t in fig.axes[0].get_legend().get_texts()}
    assert labels == {"dead", "fixpoint", "other"}
