"""The soup's per-tick summary of codes and statistics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neurosoup.chemistry.observe import summary


def test_summary_medians_like_numpy() -> None:
    codes = torch.tensor([2, 2, 4, 0, 1, 2], dtype=torch.int8)
    mse = torch.tensor([1.0, 3.0, float("nan"), 2.0, 10.0, 4.0])
    rho = torch.tensor([0.1, 10.0, 100.0, float("nan"), 0.0, 1.0])
    s = summary(codes, mse, rho)
    assert (s["count_fixpoint"], s["count_other"], s["count_divergent"]) == (3, 1, 1)
    assert s["loss_mean"] == pytest.approx(4.0)
    assert s["loss_median"] == pytest.approx(np.median([1, 3, 2, 10, 4]))
    assert s["log10_rho_median"] == pytest.approx(np.median(np.log10([0.1, 10, 100, 1])))
