"""Window detectors on the 29-series panel, and the 60-second budget of their default fits.

Two tables (issue 17, items 2 and 5):

**Panel** (default). skanomaly's window detectors (GenIAS, ASTER, DHAG and AnoRand on windows)
against PyOD's ``TimeSeriesOD(IForest)`` and ``SpectralResidual`` and the matrix profile
(``stumpy:MatrixProfile``, an AB-join of the test series against the training series; needs
``pip install 'skanomaly[bench]'``) on the series of ``timeseries/PANEL.txt``, seeds 0-2,
under the project's protocol (PROTOCOL.md: per-channel standardisation with train statistics,
fit on train without labels, every test step scored) with one window (100) and one stride (1)
for every detector; SpectralResidual and the matrix profile have no randomness and run with
the first seed only. Headline VUS-PR, then AUROC, AUPR and fit seconds. It is a thin layer over
:func:`skanomaly.benchmark.run_benchmark`: the CSV is resumable (rerun the same command after
an interruption; only missing or failed cells run); the documentation generates its page
(ranks, plots, per-series table) from the CSV (``docs/benchmarks/suites.json``). Rows record the skanomaly revision: adding detectors measured at a later commit to the
same CSV needs ``--mix-revisions`` (the report then lists both revisions).

**Budget** (``--budget``). The default fit of each window detector (``TimeSeriesDetector(det,
window=100)``, stride 1, the detector's defaults) on a 10,000-step, 3-channel series
``sin(2*pi*t/50 + [0, 1, 2]) + 0.1 * noise``: wall and CPU seconds (``time.process_time``, all
threads of the process) against the 60-second budget on 2 CPU cores. Each fit runs in its own
process (killed past ``--cell-timeout``), one after the other; results go to
``benchmarks/timeseries_budget.csv`` (resumable too) and ``benchmarks/timeseries_budget.md``,
which the documentation shows among the detector studies (``--budget-out`` elsewhere). Wall
time depends on what else the machine runs: CPU time is reported beside it for that reason.

Usage (from the repository root)::

    nice -n 10 python benchmarks/timeseries.py                 # the panel, every detector
    nice -n 10 python benchmarks/timeseries.py --detectors pyod:TimeSeriesOD,pyod:SpectralResidual
    nice -n 10 python benchmarks/timeseries.py --budget        # the 60-second table
    python benchmarks/timeseries.py --table                    # tables of the CSVs only
"""

import argparse
import csv
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

PANEL_DETECTORS = (
    "GenIAS",
    "ASTER",
    "DHAG",
    "AnoRand",
    "pyod:TimeSeriesOD",
    "pyod:SpectralResidual",
    "stumpy:MatrixProfile",
)
# Baselines without randomness: their seeds would repeat the same numbers (the matrix
# profile of an SMD series costs ~25 CPU minutes), so they run with the first seed only.
DETERMINISTIC = ("pyod:SpectralResidual", "stumpy:MatrixProfile")
BUDGET_DETECTORS = ("GenIAS", "ASTER", "DHAG", "AnoRand", "pyod:IForest")
BUDGET_SECONDS = 60.0
BUDGET_COLUMNS = (
    "detector", "steps", "channels", "window", "stride", "threads", "wall_s", "cpu_s",
    "n_fit_windows", "error", "version", "commit",
)
DEFAULT_OUT = Path("docs/benchmarks/timeseries_panel")
# Not under docs/benchmarks: the documentation reads every CSV there as a runner CSV.
DEFAULT_BUDGET_OUT = Path("benchmarks")


def budget_series(n_steps=10_000, n_channels=3, seed=0):
    """The budget's series: ``sin(2*pi*t/50 + c) + 0.1 * N(0, 1)`` for channels c = 0, 1, 2."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_steps)[:, None]
    return np.sin(2 * np.pi * t / 50 + np.arange(n_channels)) + 0.1 * rng.normal(
        size=(n_steps, n_channels)
    )


def panel_names(data_home):
    """The series named in ``<data_home>/PANEL.txt`` (one per line)."""
    path = Path(data_home or ".") / "PANEL.txt"
    if data_home is None or not path.is_file():
        sys.exit(f"{path} not found: pass --data-home (a folder with PANEL.txt) or --datasets.")
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


# --------------------------------------------------------------------------- panel
def run_panel(args):
    from skanomaly.benchmark import run_benchmark

    datasets = args.datasets or panel_names(args.data_home)
    detectors = args.detectors or list(PANEL_DETECTORS)
    rows = []
    for group, seeds in (
        ([d for d in detectors if d not in DETERMINISTIC], args.seeds),
        ([d for d in detectors if d in DETERMINISTIC], args.seeds[:1]),
    ):
        if not group:
            continue
        rows = run_benchmark(
            "timeseries",
            detectors=group,
            datasets=datasets,
            seeds=seeds,
            out=args.out,
            data_home=args.data_home,
            quick=args.quick,
            window=args.window,
            stride=args.stride,
            cell_timeout=args.cell_timeout,
            torch_threads=args.threads,
            mix_revisions=args.mix_revisions,
            progress=not args.no_progress,
        )
    # The documentation renders the full report (ranks, plots, per-series table) from the CSV
    # (docs/benchmarks/suites.json); this table adds the mean fit seconds.
    print(panel_table(rows))
    return rows


def panel_table(rows):
    """Markdown: per detector, means over series of the per-series means over seeds of VUS-PR,
    AUROC, AUPR, fit and score seconds, with the number of series and of failed cells (score
    seconds because the matrix profile's work is all in scoring)."""
    per = {}
    for row in rows:
        cell = per.setdefault(row["detector"], {"failed": 0, "series": {}})
        if row["error"]:
            cell["failed"] += 1
            continue
        values = cell["series"].setdefault(row["dataset"], [])
        values.append([row[k] for k in ("vus_pr", "auroc", "aupr", "fit_s", "score_s")])
    lines = [
        "| detector | mean VUS-PR | mean AUROC | mean AUPR | mean fit s | mean score s | series "
        "| failed cells |",
        "|---|---|---|---|---|---|---|---|",
    ]
    summary = []
    for detector, cell in per.items():
        means = [np.nanmean(v, axis=0) for v in cell["series"].values()]
        overall = np.nanmean(means, axis=0) if means else [math.nan] * 5
        summary.append((detector, overall, len(means), cell["failed"]))
    summary.sort(key=lambda item: -item[1][0] if math.isfinite(item[1][0]) else math.inf)
    for detector, (vus, auroc, aupr, fit, score), n, failed in summary:
        lines.append(
            f"| {detector} | {vus:.3f} | {auroc:.3f} | {aupr:.3f} | {fit:.2f} | {score:.2f} "
            f"| {n} | {failed} |"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------- budget
def _budget_one(name, steps, window, stride, threads, quick):
    """Fit one detector's default on the budget series in this process; return its row."""
    import torch

    from skanomaly.benchmark import make_detector

    torch.set_num_threads(threads)
    X = budget_series(steps)
    detector = make_detector(
        name, suite="timeseries", seed=0, quick=quick, window=window, stride=stride
    )
    wall, cpu = time.perf_counter(), time.process_time()
    detector.fit(X)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"wall_s": wall, "cpu_s": cpu, "n_fit_windows": getattr(detector, "n_fit_windows_", "")}


def run_budget(args):
    from skanomaly.benchmark._runner import current_revision

    out = Path(args.budget_out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "timeseries_budget.csv"
    rows = _read_budget(path)
    settings = {
        "steps": args.budget_steps, "channels": 3, "window": args.window,
        "stride": args.stride, "threads": args.threads or 2,
    }
    done = {
        row["detector"] for row in rows
        if not row["error"] and all(str(row[k]) == str(v) for k, v in settings.items())
    }
    revision = current_revision()
    for name in args.detectors or BUDGET_DETECTORS:
        if name in done:
            continue
        row = {**settings, "detector": name, "wall_s": "", "cpu_s": "", "n_fit_windows": "",
               "error": "", **revision}
        task = json.dumps([name, args.budget_steps, args.window, args.stride,
                           settings["threads"], args.quick])
        try:
            child = subprocess.run(
                [sys.executable, __file__, "--budget-child", task],
                capture_output=True, text=True, timeout=args.cell_timeout,
                env={**os.environ, "PYTHONPATH": os.pathsep.join(
                    p for p in (str(Path(__file__).resolve().parents[1]),
                                os.environ.get("PYTHONPATH")) if p)},
            )
            if child.returncode != 0:
                row["error"] = (child.stderr.strip().splitlines() or ["failed"])[-1][:300]
            else:
                row.update(json.loads(child.stdout.strip().splitlines()[-1]))
        except subprocess.TimeoutExpired:
            row["error"] = f"TimeoutError: past {args.cell_timeout:g} s"
        rows = [r for r in rows if r["detector"] != name] + [row]
        _write_budget(path, rows)
        status = row["error"] or f"fit wall {row['wall_s']:.1f} s, CPU {row['cpu_s']:.1f} s"
        print(f"{name}: {status}", flush=True)
    table = budget_table(rows)
    (out / "timeseries_budget.md").write_text(
        "# Default fits of the window detectors against the 60-second budget\n\n"
        "Written by `python benchmarks/timeseries.py --budget` (issue 17): each detector's "
        "default fit through `TimeSeriesDetector`, one process per fit, wall and CPU "
        "seconds (CPU: all threads of the process; wall depends on the machine's load).\n\n"
        + table + "\n"
    )
    print(table)
    return rows


def _read_budget(path):
    if not path.is_file():
        return []
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        for key in ("wall_s", "cpu_s"):
            row[key] = float(row[key]) if row[key] else ""
    return rows


def _write_budget(path, rows):
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=BUDGET_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in BUDGET_COLUMNS})
    os.replace(tmp, path)


def budget_table(rows):
    """Markdown: wall and CPU seconds of each default fit against the 60-second budget."""
    lines = [
        "| detector | fit wall s | fit CPU s | torch threads | fitted windows | within 60 s (wall) |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        if row["error"]:
            lines.append(f"| {row['detector']} | - | - | {row['threads']} | - | {row['error']} |")
            continue
        wall, cpu = float(row["wall_s"]), float(row["cpu_s"])
        verdict = "yes" if wall <= BUDGET_SECONDS else "no"
        lines.append(
            f"| {row['detector']} | {wall:.1f} | {cpu:.1f} | {row['threads']} | "
            f"{row['n_fit_windows']} | {verdict} |"
        )
    if rows:
        first = rows[0]
        lines.append("")
        lines.append(
            f"Series: {first['steps']} steps x {first['channels']} channels "
            f"(sin(2*pi*t/50 + c) + 0.1 noise), window {first['window']}, stride "
            f"{first['stride']}; defaults of each detector; "
            + ", ".join(sorted({f"skanomaly {r['version']} {str(r['commit'])[:12]}" for r in rows}))
            + "."
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------- CLI
def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", action="store_true", help="the 60-second budget table")
    parser.add_argument("--table", action="store_true", help="print the tables of the CSVs")
    parser.add_argument("--detectors", type=lambda s: [x for x in s.split(",") if x])
    parser.add_argument("--datasets", type=lambda s: [x for x in s.split(",") if x],
                        help="series names (default: PANEL.txt of --data-home)")
    parser.add_argument("--data-home", default=None,
                        help="folder of the series (default: $SKANOMALY_SHARED_DATA/timeseries)")
    parser.add_argument("--seeds", type=lambda s: [int(x) for x in s.split(",")],
                        default=[0, 1, 2])
    parser.add_argument("--window", type=int, default=100)
    parser.add_argument("--stride", type=int, default=1, help="one stride for every detector")
    parser.add_argument("--quick", action="store_true",
                        help="the registry's quick settings (a smoke run, not the table)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (panel default: the runner's; budget default: 2)")
    parser.add_argument("--cell-timeout", type=float, default=None)
    parser.add_argument("--budget-steps", type=int, default=10_000)
    parser.add_argument("--mix-revisions", action="store_true")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="folder of the panel CSV")
    parser.add_argument("--budget-out", default=str(DEFAULT_BUDGET_OUT),
                        help="folder of timeseries_budget.csv and .md")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--budget-child", default=None, help=argparse.SUPPRESS)
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    if args.budget_child is not None:
        print(json.dumps(_budget_one(*json.loads(args.budget_child))))
        return 0
    if args.data_home is None:
        from skanomaly.benchmark import shared_data_dir

        shared = shared_data_dir()  # None without the project's shared data
        args.data_home = None if shared is None else str(Path(shared) / "timeseries")
    if args.table:
        from skanomaly.benchmark import read_results

        print(panel_table(read_results(Path(args.out) / "timeseries.csv")))
        print()
        print(budget_table(_read_budget(Path(args.budget_out) / "timeseries_budget.csv")))
        return 0
    if args.budget:
        run_budget(args)
    else:
        run_panel(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
