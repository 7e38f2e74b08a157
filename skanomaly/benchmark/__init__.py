"""Benchmarking skanomaly's detectors against PyOD baselines under one protocol.

The protocol (:func:`tabular_split`, :func:`timeseries_split`, :func:`evaluate`):

* tabular: at most 20,000 rows (drawn with the seed), a stratified 70/30 train/test split, a
  ``StandardScaler`` fitted on the train part, detectors fitted *without labels*, AUROC and
  AUPR on the test part;
* time series: each channel standardised with the train part's mean and std, detectors fitted
  on the train part, every test step scored; AUROC, AUPR and VUS-PR on the step scores.

:func:`run_benchmark` runs a grid of data sets x detectors x seeds with it (the
``skanomaly bench`` command), stamping every CSV row with the package version, git commit
and settings; :func:`summarize`, :func:`rank_statistics` (Friedman + Nemenyi) and
:func:`write_report` turn the CSV into tables, statistics and plots.
"""

from skanomaly.benchmark._datasets import EMBEDDED_SERIES, EMBEDDED_TABULAR
from skanomaly.benchmark._protocol import evaluate, shared_data_dir, tabular_split, timeseries_split
from skanomaly.benchmark._registry import list_detectors, make_detector
from skanomaly.benchmark._report import plot_results, rank_statistics, summarize, write_report
from skanomaly.benchmark._runner import COLUMNS, DEFAULT_DETECTORS, read_results, run_benchmark

__all__ = [
    "COLUMNS",
    "DEFAULT_DETECTORS",
    "EMBEDDED_SERIES",
    "EMBEDDED_TABULAR",
    "evaluate",
    "list_detectors",
    "make_detector",
    "plot_results",
    "rank_statistics",
    "read_results",
    "run_benchmark",
    "shared_data_dir",
    "summarize",
    "tabular_split",
    "timeseries_split",
    "write_report",
]
