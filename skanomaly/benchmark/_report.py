"""Tables and plots from a benchmark CSV: mean per detector, average rank, per-data-set cells.

Tables are plain markdown built without pandas. Plots need matplotlib (the ``[bench]`` extra;
PyOD installs it too): a per-data-set strip plot, a box plot per detector and an average-rank
chart with the Nemenyi critical difference.
"""

import math
import platform
from importlib import metadata
from pathlib import Path

import numpy as np
from scipy.stats import rankdata, studentized_range

from skanomaly.benchmark._runner import read_results, revision_label

__all__ = ["plot_results", "rank_statistics", "summarize", "write_report"]

_METRIC_LABELS = {"auroc": "AUROC", "aupr": "AUPR", "vus_pr": "VUS-PR"}


def _rows(results):
    if isinstance(results, (str, Path)):
        return read_results(results)
    return list(results)


def _metrics_of(rows):
    present = [m for m in ("auroc", "aupr", "vus_pr") if any(_finite(r[m]) for r in rows)]
    return present or ["auroc", "aupr"]


def _headline(rows, metric):
    if metric is not None:
        if metric not in _METRIC_LABELS:
            raise ValueError(f"metric must be one of {sorted(_METRIC_LABELS)}; got {metric!r}.")
        return metric
    return "vus_pr" if "vus_pr" in _metrics_of(rows) else "auroc"


def _finite(value):
    return value is not None and isinstance(value, float) and math.isfinite(value)


class _Table:
    """Per (dataset, detector) means over seeds, in first-seen order."""

    def __init__(self, rows):
        self.detectors = list(dict.fromkeys(r["detector"] for r in rows))
        self.datasets = list(dict.fromkeys(r["dataset"] for r in rows))
        self.seeds = sorted({r["seed"] for r in rows})
        self.suites = sorted({r["suite"] for r in rows})
        self.cells = {}
        self.errors = {}
        for r in rows:
            self.cells.setdefault((r["dataset"], r["detector"]), []).append(r)
            if r["error"]:
                self.errors.setdefault(r["detector"], []).append(r)

    def mean(self, dataset, detector, metric):
        values = [r[metric] for r in self.cells.get((dataset, detector), ()) if _finite(r[metric])]
        return float(np.mean(values)) if values else math.nan

    def detector_mean(self, detector, metric):
        values = [self.mean(d, detector, metric) for d in self.datasets]
        values = [v for v in values if math.isfinite(v)]
        return (float(np.mean(values)) if values else math.nan), len(values)

    def score_matrix(self, metric):
        """Scores (data sets x detectors) on the data sets where every ranked detector has one.

        Detectors without any result (every cell failed) are left out.
        """
        ranked = [
            det for det in self.detectors if math.isfinite(self.detector_mean(det, metric)[0])
        ]
        complete = []
        for dataset in self.datasets:
            values = [self.mean(dataset, det, metric) for det in ranked]
            if ranked and all(math.isfinite(v) for v in values):
                complete.append(values)
        return ranked, np.asarray(complete, dtype=float).reshape(len(complete), len(ranked))

    def average_ranks(self, metric):
        """Average rank (1 = best) over the data sets where every ranked detector has a value.

        Detectors without any result (every cell failed) are left out of the ranking (NaN).
        """
        ranked, scores = self.score_matrix(metric)
        ranks = {det: math.nan for det in self.detectors}
        if len(scores):
            ranks.update(zip(ranked, _ranks(scores).mean(axis=0).tolist(), strict=True))
        return ranks, len(scores)


    def time_sum(self, detector):
        """Fit + score seconds summed over data sets (mean over seeds)."""
        total = 0.0
        for dataset in self.datasets:
            fit = self.mean(dataset, detector, "fit_s")
            score = self.mean(dataset, detector, "score_s")
            total += (fit if math.isfinite(fit) else 0.0) + (score if math.isfinite(score) else 0.0)
        return total


# A critical-difference diagram is drawn only when the Friedman test has enough data to mean
# something: at least MIN_DATASETS complete data sets (Demsar 2006 uses the chi-square
# approximation from N > 10 and k > 5; below that the test has little power), at least
# MIN_DETECTORS detectors (with two, a sign or Wilcoxon test is the right tool), and a
# Friedman test that rejects "all detectors rank alike" at alpha.
MIN_DATASETS = 10
MIN_DETECTORS = 3


def rank_statistics(results, *, metric=None, alpha=0.05):
    """Friedman test and Nemenyi post-hoc comparison of the detectors' ranks.

    Ranks are computed per data set (1 = best, mean over seeds first) on the data sets where
    every detector with a result has one. The Friedman test (:func:`scipy.stats.friedmanchisquare`)
    asks whether all detectors rank alike; the Nemenyi test
    (:func:`scikit_posthocs.posthoc_nemenyi_friedman`, the ``[bench]`` extra) gives the
    pairwise p-values, from which the groups of a critical-difference diagram follow:
    maximal runs of detectors, in rank order, no two of which differ at ``alpha``.

    Parameters
    ----------
    results : list of dict, or str or path-like
        Rows from :func:`run_benchmark` / :func:`read_results`, or a CSV path.
    metric : {"auroc", "aupr", "vus_pr"}, default=None
        ``None``: VUS-PR when present (time series), else AUROC.
    alpha : float, default=0.05
        Significance level of both tests.

    Returns
    -------
    stats : dict
        ``metric``, ``n_datasets``, ``detectors`` (best average rank first),
        ``average_ranks`` (dict), ``friedman_statistic``, ``friedman_pvalue`` (NaN when
        fewer than 2 data sets or 3 detectors), ``critical_difference`` (Nemenyi, in ranks),
        ``pvalues`` (dict of dicts, Nemenyi; ``None`` without scikit-posthocs), ``groups``
        (list of lists of detectors), ``diagram`` (whether a critical-difference diagram is
        meaningful, see the rule below) and ``reason`` (why not, else ``""``).

    Notes
    -----
    The diagram is drawn only with at least ``MIN_DATASETS`` = 10 data sets and
    ``MIN_DETECTORS`` = 3 detectors, and when the Friedman test rejects at ``alpha``: with
    fewer data sets the critical distance exceeds most rank spreads and the test has little
    power (Demsar, *Statistical comparisons of classifiers over multiple data sets*, JMLR
    2006).

    Examples
    --------
    >>> import numpy as np
    >>> from skanomaly.benchmark import rank_statistics
    >>> rng = np.random.default_rng(0)
    >>> rows = [dict(suite="tabular", dataset=f"d{i}", detector=name, seed=0,
    ...              auroc=float(base + 0.05 * rng.random()), aupr=float("nan"),
    ...              vus_pr=float("nan"), fit_s=0.1, score_s=0.1, error="")
    ...         for i in range(12) for name, base in [("A", 0.9), ("B", 0.8), ("C", 0.79)]]
    >>> stats = rank_statistics(rows)
    >>> stats["n_datasets"], stats["detectors"], stats["diagram"]
    (12, ['A', 'B', 'C'], True)
    >>> stats["friedman_pvalue"] < 0.05, stats["groups"]
    (True, [['A'], ['B', 'C']])
    """
    rows = _rows(results)
    metric = _headline(rows, metric) if rows else (metric or "auroc")
    table = _Table(rows)
    ranked, scores = table.score_matrix(metric)
    n, k = scores.shape
    stats = {
        "metric": metric,
        "n_datasets": n,
        "detectors": [],
        "average_ranks": {},
        "friedman_statistic": math.nan,
        "friedman_pvalue": math.nan,
        "critical_difference": math.nan,
        "pvalues": None,
        "groups": [],
        "diagram": False,
        "reason": "",
        "alpha": alpha,
    }
    if n == 0 or k == 0:
        stats["reason"] = "no data set on which every detector has a result"
        return stats
    average = _ranks(scores).mean(axis=0)
    order = np.argsort(average, kind="stable")
    stats["detectors"] = [ranked[i] for i in order]
    stats["average_ranks"] = {ranked[i]: float(average[i]) for i in order}
    if k < MIN_DETECTORS or n < 2:
        stats["reason"] = (
            f"{k} detector(s) on {n} data set(s): the Friedman test needs at least "
            f"{MIN_DETECTORS} detectors and 2 data sets"
        )
        stats["groups"] = [stats["detectors"]]
        return stats
    from scipy.stats import friedmanchisquare

    if np.all(scores == scores[:, :1]):
        statistic, pvalue = 0.0, 1.0  # every data set ties every detector
    else:
        statistic, pvalue = friedmanchisquare(*scores.T)
    stats["friedman_statistic"] = float(statistic)
    stats["friedman_pvalue"] = float(pvalue)
    q = studentized_range.ppf(1 - alpha, k, np.inf) / math.sqrt(2)
    stats["critical_difference"] = float(q * math.sqrt(k * (k + 1) / (6 * n)))
    try:
        import scikit_posthocs
    except ImportError:
        stats["reason"] = (
            "scikit-posthocs is not installed (pip install 'skanomaly[bench]') for the "
            "Nemenyi test"
        )
        stats["groups"] = [stats["detectors"]]
        return stats
    # posthoc_nemenyi_friedman ranks each block in ascending order; its p-values depend only
    # on rank differences, so higher-is-better scores give the same p-values.
    matrix = scikit_posthocs.posthoc_nemenyi_friedman(scores)
    pvalues = np.asarray(matrix, dtype=float)
    stats["pvalues"] = {
        ranked[i]: {ranked[j]: float(pvalues[i, j]) for j in range(k)} for i in range(k)
    }
    stats["groups"] = _groups(stats["detectors"], stats["pvalues"], alpha)
    if n < MIN_DATASETS:
        stats["reason"] = f"{n} data sets (the rule asks for at least {MIN_DATASETS})"
    elif pvalue >= alpha:
        stats["reason"] = (
            f"the Friedman test does not reject equal ranks (p = {pvalue:.3g} >= {alpha})"
        )
    else:
        stats["diagram"] = True
    return stats


def _groups(ordered, pvalues, alpha):
    """Maximal runs of detectors (in rank order) with no pair significantly different."""
    runs = []
    for start in range(len(ordered)):
        end = start
        while end + 1 < len(ordered) and all(
            pvalues[ordered[i]][ordered[end + 1]] >= alpha for i in range(start, end + 1)
        ):
            end += 1
        if not runs or end > runs[-1][1]:
            runs.append((start, end))
    return [ordered[a : b + 1] for a, b in runs]


def statistics_text(stats):
    """Markdown lines describing :func:`rank_statistics`' result."""
    label = _METRIC_LABELS[stats["metric"]]
    n, k = stats["n_datasets"], len(stats["detectors"])
    if not math.isfinite(stats["friedman_pvalue"]):
        return [f"Rank statistics by {label}: not computed ({stats['reason']})."]
    lines = [
        f"Rank statistics by {label} on the {n} data sets where all {k} detectors have a "
        f"result: Friedman chi-square = {stats['friedman_statistic']:.2f}, "
        f"p = {stats['friedman_pvalue']:.3g}; Nemenyi critical difference at "
        f"alpha = {stats['alpha']}: {stats['critical_difference']:.2f} ranks."
    ]
    if stats["pvalues"] is not None:
        groups = "; ".join("{" + ", ".join(group) + "}" for group in stats["groups"])
        lines.append(
            f"Groups not significantly different (Nemenyi, alpha = {stats['alpha']}): {groups}."
        )
    if stats["diagram"]:
        lines.append("The critical-difference diagram below draws these groups as bars.")
    else:
        lines.append(
            f"No critical-difference diagram: {stats['reason']}. The diagram is drawn only with "
            f"at least {MIN_DATASETS} data sets, {MIN_DETECTORS} detectors and a Friedman test "
            f"that rejects at alpha = {stats['alpha']}."
        )
    return [" ".join(lines)]


def _ranks(scores):
    """Rank 1 = highest score in each row (ties share their mean rank)."""
    return np.vstack([rankdata(-row) for row in scores])


def _fmt(value, digits=3):
    return f"{value:.{digits}f}" if math.isfinite(value) else "—"


def summarize(results, *, metric=None):
    """Markdown table: one row per detector, mean of each metric and average rank.

    Parameters
    ----------
    results : list of dict, or str or path-like
        Rows from :func:`run_benchmark` / :func:`read_results`, or a CSV path.
    metric : {"auroc", "aupr", "vus_pr"}, default=None
        Metric of the average rank and of the row order; ``None`` uses VUS-PR when present
        (time series), else AUROC.

    Returns
    -------
    table : str
        Markdown. Means are over data sets of the per-data-set means over seeds (the count
        of data sets with a result is given); the average rank (1 = best) uses the data sets
        on which every detector has a result; "failed" counts failed cells.

    Examples
    --------
    >>> from skanomaly.benchmark import summarize
    >>> rows = [dict(suite="tabular", dataset=d, detector=m, seed=0, auroc=a, aupr=a / 2,
    ...              vus_pr=float("nan"), fit_s=0.1, score_s=0.01, error="")
    ...         for d, m, a in [("a", "X", 0.9), ("a", "Y", 0.8), ("b", "X", 0.7), ("b", "Y", 0.75)]]
    >>> print(summarize(rows))  # doctest: +NORMALIZE_WHITESPACE
    | detector | mean AUROC | mean AUPR | avg rank (AUROC) | data sets | failed cells | fit+score s |
    |---|---|---|---|---|---|---|
    | X | 0.800 | 0.400 | 1.50 | 2 | 0 | 0.2 |
    | Y | 0.775 | 0.388 | 1.50 | 2 | 0 | 0.2 |
    """
    rows = _rows(results)
    if not rows:
        return "(no results)"
    metric = _headline(rows, metric)
    metrics = _metrics_of(rows)
    table = _Table(rows)
    ranks, _ = table.average_ranks(metric)
    order = sorted(
        table.detectors,
        key=lambda det: (
            ranks[det] if math.isfinite(ranks[det]) else math.inf,
            -_nan_to(table.detector_mean(det, metric)[0], -math.inf),
        ),
    )
    header = [
        "detector",
        *[f"mean {_METRIC_LABELS[m]}" for m in metrics],
        f"avg rank ({_METRIC_LABELS[metric]})",
        "data sets",
        "failed cells",
        "fit+score s",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for det in order:
        means = [table.detector_mean(det, m) for m in metrics]
        n_sets = max(n for _, n in means)
        cells = [
            det,
            *[_fmt(v) for v, _ in means],
            _fmt(ranks[det], 2),
            str(n_sets),
            str(len(table.errors.get(det, ()))),
            f"{table.time_sum(det):.1f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _nan_to(value, default):
    return value if math.isfinite(value) else default


def _dataset_table(table, metrics):
    header = ["dataset", *table.detectors]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for dataset in table.datasets:
        cells = [dataset]
        for det in table.detectors:
            values = [table.mean(dataset, det, m) for m in metrics]
            if not any(map(math.isfinite, values)):
                cells.append("—")
                continue
            text = " / ".join(_fmt(v) for v in values)
            failed = sum(1 for r in table.cells[(dataset, det)] if r["error"])
            cells.append(f"{text} †" if failed else text)
        lines.append("| " + " | ".join(cells) + " |")
    means = ["**mean**"]
    for det in table.detectors:
        values = [table.detector_mean(det, m) for m in metrics]
        n = max(count for _, count in values)
        means.append("**" + " / ".join(_fmt(v) for v, _ in values) + f"** ({n})")
    lines.append("| " + " | ".join(means) + " |")
    return "\n".join(lines)


_PROTOCOL_LINK = {
    "tabular": "skanomaly.benchmark.tabular_split and evaluate",
    "timeseries": "skanomaly.benchmark.timeseries_split and evaluate",
}


def _recorded_settings(rows, results):
    """Settings of the rows (one JSON per row), else of the CSV's ``.settings.json``."""
    import json

    recorded = {row.get("settings") for row in rows if row.get("settings")}
    if len(recorded) == 1:
        return json.loads(recorded.pop())
    if len(recorded) > 1:
        return {"mixed": "; ".join(sorted(recorded))}
    if isinstance(results, (str, Path)):
        sidecar = Path(results).with_suffix(".settings.json")
        if sidecar.is_file():
            return json.loads(sidecar.read_text())
    return None


def _versions():
    names = ("skanomaly", "pyod", "scikit-learn", "torch", "numpy")
    found = []
    for name in names:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            if name == "skanomaly":
                from skanomaly import __version__

                found.append(f"skanomaly {__version__}")
    return ", ".join(found) + f", Python {platform.python_version()}"


def write_report(
    results,
    path,
    *,
    title=None,
    command=None,
    settings=None,
    metric=None,
    plots=True,
    mix_revisions=False,
):
    """Write a markdown page (summary, plots, per-data-set table, failures) from a CSV.

    Parameters
    ----------
    results : list of dict, or str or path-like
        Rows or a CSV path.
    path : str or path-like
        The ``.md`` file to write; plots go beside it as ``<stem>_<kind>.png``.
    title : str, default=None
        Page title; ``None`` names the suite.
    command : str, default=None
        The command that produced the CSV, quoted on the page so it can be rerun.
    settings : dict, default=None
        Run settings shown on the page (e.g. ``{"quick": False, "window": 100}``); ``None``
        uses the settings recorded in the rows (or the CSV's ``.settings.json``).
    metric : {"auroc", "aupr", "vus_pr"}, default=None
        Headline metric (see :func:`summarize`).
    plots : bool, default=True
        Also draw the plots (needs matplotlib). They are skipped, with a note, when no cell
        has a result.
    mix_revisions : bool, default=False
        Rows measured by different revisions (package version or git commit) make a
        ``ValueError`` unless this is True; the page lists the revisions it holds.

    Returns
    -------
    written : list of pathlib.Path
        The page and the plots.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skanomaly.benchmark import run_benchmark, write_report
    >>> folder = Path(tempfile.mkdtemp())
    >>> rows = run_benchmark(detectors=["pyod:HBOS", "pyod:ECOD"], datasets=["sklearn_wine"],
    ...                      seeds=[0], out=folder, progress=False)
    >>> [p.name for p in write_report(rows, folder / "wine.md", plots=False)]
    ['wine.md']
    """
    rows = _rows(results)
    revisions = sorted({revision_label(row) for row in rows})
    if len(revisions) > 1 and not mix_revisions:
        raise ValueError(
            f"The results mix {len(revisions)} revisions ({'; '.join(revisions)}); pass "
            "mix_revisions=True (skanomaly bench --mix-revisions) to report them together."
        )
    if settings is None:
        settings = _recorded_settings(rows, results)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = _Table(rows)
    metrics = _metrics_of(rows)
    headline = _headline(rows, metric) if rows else "auroc"
    suite = ", ".join(table.suites) or "benchmark"
    written = []
    plot_note = ""
    has_result = any(_finite(row[headline]) for row in rows)
    if plots and rows and not has_result:
        plot_note = "\n_No plots: no cell has a result (see the failed cells)._\n"
    elif plots and rows:
        try:
            written = plot_results(rows, path.parent, prefix=path.stem, metric=headline)
        except ImportError as exc:
            plot_note = f"\n_Plots skipped: {exc}_\n"
    lines = [f"# {title or f'skanomaly benchmark: {suite} suite'}", ""]
    protocol = (
        "at most 20,000 rows, stratified 70/30 split, "
        "StandardScaler fitted on the train part, detectors fitted without labels, "
        "AUROC / AUPR on the test part"
        if suite == "tabular"
        else "channels standardised with train "
        "statistics, detectors fitted on the train part, every test step scored; "
        "detectors of rows or windows run inside TimeSeriesDetector (sliding windows, "
        "window scores mapped to steps by max), PyOD's own time-series detectors take the "
        "raw series; VUS-PR is the headline"
    )
    lines += [
        f"Protocol ({_PROTOCOL_LINK[suite if suite in _PROTOCOL_LINK else 'tabular']}): "
        f"{protocol}. Seeds: "
        f"{', '.join(map(str, table.seeds))}; each cell below is the mean over seeds.",
        "",
        f"Measured by: {'; '.join(revisions) or 'no rows'}. Report written with {_versions()}.",
        "",
    ]
    if settings:
        text = ", ".join(f"{key}={value}" for key, value in settings.items())
        lines += [f"Settings: {text}.", ""]
    if command:
        # A resumed run only adds cells: the page reflects every run into the same CSV.
        lines += [
            "Last written by (earlier runs into the same CSV contributed the other cells):",
            "",
            "```bash",
            command,
            "```",
            "",
        ]
    lines += ["## Summary", "", summarize(rows, metric=metric), ""]
    if rows:
        lines += [*statistics_text(rank_statistics(rows, metric=headline)), ""]
    lines += [
        "Means are over data sets (count in the *data sets* column); the average rank "
        "(1 = best) uses only the data sets on which every detector has a result "
        f"({table.average_ranks(headline)[1]} of {len(table.datasets)}). *fit+score s*: "
        "seconds summed over data sets (mean over seeds).",
        "",
    ]
    if written:
        lines += ["## Plots", ""]
        lines += [f"![{p.stem}]({p.name})" for p in written]
        lines.append("")
    lines.append(plot_note)
    lines += [
        "## Per data set",
        "",
        "Cells: " + " / ".join(_METRIC_LABELS[m] for m in metrics) + ", mean over seeds; "
        "—: no result (see failures); †: some seeds failed, mean over the others. Mean "
        "row: over the data sets with a result (count).",
        "",
        _dataset_table(table, metrics),
        "",
    ]
    if table.errors:
        lines += ["## Failed cells", "", "| detector | cells | first error |", "|---|---|---|"]
        for det, failed in table.errors.items():
            where = ", ".join(sorted({r["dataset"] for r in failed}))
            message = failed[0]["error"].replace("|", "\\|")
            lines.append(f"| {det} | {len(failed)} ({where}) | {message} |")
        lines.append("")
    path.write_text("\n".join(lines).replace("\n\n\n", "\n\n"))
    return [path, *written]


def plot_results(results, folder, *, prefix="benchmark", metric=None):
    """Draw the benchmark plots as PNG files.

    * ``<prefix>_datasets.png``: per data set, the score of each detector (strip plot,
      mean over seeds);
    * ``<prefix>_box.png``: per detector, a box plot of its per-data-set scores;
    * ``<prefix>_ranks.png``: a critical-difference diagram (average ranks, Friedman +
      Nemenyi groups drawn as bars, :func:`rank_statistics`) when the statistics mean
      something, else the average ranks alone with the reason in the title. Long names are
      shortened in the middle, and the per-data-set plot widens so its axes keep their width.

    Parameters
    ----------
    results : list of dict, or str or path-like
        Rows or a CSV path.
    folder : str or path-like
        Where to write.
    prefix : str, default="benchmark"
        File name prefix.
    metric : {"auroc", "aupr", "vus_pr"}, default=None
        Metric plotted; ``None``: VUS-PR when present, else AUROC.

    Returns
    -------
    paths : list of pathlib.Path

    Raises
    ------
    ImportError
        When matplotlib is not installed (``pip install 'skanomaly[bench]'``).

    Examples
    --------
    >>> import tempfile
    >>> from skanomaly.benchmark import plot_results
    >>> rows = [dict(suite="tabular", dataset=d, detector=m, seed=0, auroc=a, aupr=a / 2,
    ...              vus_pr=float("nan"), fit_s=0.1, score_s=0.01, error="")
    ...         for d, m, a in [("a", "X", 0.9), ("a", "Y", 0.8), ("b", "X", 0.7), ("b", "Y", 0.75)]]
    >>> [p.name for p in plot_results(rows, tempfile.mkdtemp(), prefix="demo")]
    ['demo_datasets.png', 'demo_box.png', 'demo_ranks.png']
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "matplotlib is not installed; pip install 'skanomaly[bench]' for the plots."
        ) from exc
    rows = _rows(results)
    metric = _headline(rows, metric)
    label = _METRIC_LABELS[metric]
    table = _Table(rows)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    colors = plt.get_cmap("tab20" if len(table.detectors) > 10 else "tab10")
    paths = []

    # Per data set strip plot: one row per data set, the legend on the right.
    n_sets = len(table.datasets)
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.32 * max(n_sets, 1)))
    for k, det in enumerate(table.detectors):
        values = [table.mean(d, det, metric) for d in table.datasets]
        offset = (k - (len(table.detectors) - 1) / 2) * 0.5 / max(len(table.detectors), 1)
        ax.scatter(values, np.arange(n_sets) + offset, s=18, color=colors(k), label=det, zorder=3)
    ax.set_yticks(np.arange(n_sets), [_short(d) for d in table.datasets], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f"{label} (mean over seeds)")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    _keep_axes_wide(fig, ax)
    paths.append(_save(fig, folder / f"{prefix}_datasets.png", plt))

    # Box plot per detector, ordered by mean.
    data = {
        det: [v for v in (table.mean(d, det, metric) for d in table.datasets) if math.isfinite(v)]
        for det in table.detectors
    }
    order = sorted((d for d in data if data[d]), key=lambda d: -np.mean(data[d]))
    fig, ax = plt.subplots(figsize=(max(5, 0.7 * len(order) + 2), 4))
    if order:
        ax.boxplot([data[d] for d in order], showfliers=False)
        rng = np.random.default_rng(0)
        for k, det in enumerate(order, start=1):
            jitter = rng.uniform(-0.15, 0.15, size=len(data[det]))
            ax.scatter(k + jitter, data[det], s=10, color="0.3", alpha=0.7, zorder=3)
        ax.set_xticks(np.arange(1, len(order) + 1), [_short(d) for d in order], rotation=45,
                      ha="right")
    ax.set_ylabel(f"{label} per data set")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    paths.append(_save(fig, folder / f"{prefix}_box.png", plt))

    # Average ranks: a critical-difference diagram when the statistics mean something
    # (see rank_statistics), else the ranks alone with the reason.
    stats = rank_statistics(rows, metric=metric)
    ranks = stats["average_ranks"]
    fig, ax = plt.subplots(figsize=(8, 1.8 + 0.3 * len(ranks)))
    if stats["diagram"]:
        import pandas as pd
        import scikit_posthocs

        names = list(stats["pvalues"])
        pvalues = pd.DataFrame(
            [[stats["pvalues"][a][b] for b in names] for a in names], index=names, columns=names
        )
        scikit_posthocs.critical_difference_diagram(
            ranks, pvalues, ax=ax, alpha=stats["alpha"], cd=stats["critical_difference"],
            label_fmt_left="{label} ({rank:.2f})", label_fmt_right="({rank:.2f}) {label}",
            label_props={"fontsize": 8},
        )
        ax.set_title(
            f"Average rank by {label} over {stats['n_datasets']} data sets (1 = best); bars: "
            f"groups not significantly different\n(Friedman p = {stats['friedman_pvalue']:.3g}, "
            f"Nemenyi CD = {stats['critical_difference']:.2f}, alpha = {stats['alpha']})",
            fontsize=8,
        )
    elif ranks:
        names = list(ranks)
        ax.barh(np.arange(len(names)), [ranks[d] for d in names],
                color=[colors(table.detectors.index(d)) for d in names])
        ax.set_yticks(np.arange(len(names)), [_short(d) for d in names], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, len(names) + 0.5)
        ax.set_xlabel(f"average rank by {label} (1 = best; {stats['n_datasets']} data sets)")
        ax.set_title(f"No critical-difference diagram: {stats['reason']}", fontsize=8, wrap=True)
        ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    paths.append(_save(fig, folder / f"{prefix}_ranks.png", plt))
    return paths


# Plot labels longer than this are shortened in the middle so that the axes keep their width.
_MAX_LABEL = 36
# Width (inches) that the data area of the per-data-set plot keeps, whatever the labels.
_MIN_AXES_WIDTH = 4.5


def _short(name, limit=_MAX_LABEL):
    """``"nab_realAWSCloudwatch_iio_us-east-1_i-a2eb1cd9_NetworkIn"`` -> ``"nab_realAWS…NetworkIn"``."""
    if len(name) <= limit:
        return name
    head = (limit - 1) // 2
    return name[:head] + "…" + name[-(limit - 1 - head):]


def _keep_axes_wide(fig, ax):
    """Lay out, then widen the figure until the axes are at least ``_MIN_AXES_WIDTH`` wide.

    Long tick labels and a legend beside the axes would otherwise squeeze the data area.
    """
    for _ in range(3):
        fig.tight_layout()
        width = ax.get_position().width * fig.get_figwidth()
        if width >= _MIN_AXES_WIDTH - 0.05:
            return
        fig.set_figwidth(fig.get_figwidth() + _MIN_AXES_WIDTH - width)
    fig.tight_layout()


def _save(fig, path, plt):
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
