"""The critical-difference diagram is drawn only when it means something (issue 22)."""

import numpy as np
import pytest

from skanomaly.benchmark import rank_statistics

pytest.importorskip("scikit_posthocs", reason="rank statistics (extras: bench, dev)")


def _rows(n_datasets, gaps, seed=0):
    rng = np.random.default_rng(seed)
    return [
        dict(suite="tabular", dataset=f"d{i}", detector=name, seed=0,
             auroc=float(0.8 + gap + 0.05 * rng.random()), aupr=float("nan"),
             vus_pr=float("nan"), fit_s=0.1, score_s=0.1, error="")
        for i in range(n_datasets) for name, gap in zip("ABC", gaps, strict=True)
    ]


def test_no_diagram_when_friedman_does_not_reject():
    stats = rank_statistics(_rows(20, (0.0, 0.0, 0.0)))
    assert stats["friedman_pvalue"] >= 0.05
    assert not stats["diagram"] and "does not reject" in stats["reason"]


def test_no_diagram_on_few_data_sets_even_when_ranks_differ():
    stats = rank_statistics(_rows(5, (0.2, 0.1, 0.0)))
    assert stats["friedman_pvalue"] < 0.05
    assert not stats["diagram"] and "at least 10" in stats["reason"]


def test_diagram_when_ranks_differ_on_enough_data_sets():
    stats = rank_statistics(_rows(12, (0.2, 0.1, 0.0)))
    assert stats["diagram"] and stats["reason"] == ""
