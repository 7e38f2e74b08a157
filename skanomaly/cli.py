"""The ``skanomaly`` console script.

``skanomaly bench`` runs the benchmark grid (:func:`skanomaly.benchmark.run_benchmark`),
prints the summary table and writes the CSV, a markdown report and PNG plots. Without
arguments it runs the quick suite on the embedded data sets (synthetic anomalies and
scikit-learn's bundled data sets, no download).
"""

import argparse
import shlex
import sys
import time
from pathlib import Path

__all__ = ["main"]

_EPILOG = """\
examples:
  skanomaly bench
      quick suite: embedded data sets, our detectors and PyOD baselines, seed 0
  skanomaly bench --data-home ~/adbench --seeds 0,1,2 --out results/
      every .npz of ~/adbench (ADBench format: X, y), default detectors
  skanomaly bench --detectors AnoRand,DHAG,pyod:IForest --datasets thyroid,cardio \\
      --data-home ~/adbench --report docs/benchmarks/tabular.md
  skanomaly bench --datasets thyroid,cardio --download
      ADBench sets fetched into $SKANOMALY_DATA (default ~/skanomaly_data)
  skanomaly bench --suite timeseries --data-home ~/series --window 100 --stride 10
  skanomaly bench --data-home ~/adbench --backend dask --scheduler tcp://host:8786
      cells spread over a running Dask cluster (pip install 'skanomaly[distributed]')

Rerunning with the same --out skips the finished cells (failed cells run again); Ctrl-C
loses no finished cell. Rows record the skanomaly version and git commit: resuming a CSV
of another revision needs --mix-revisions. --cell-timeout stops a runaway cell (each cell
then runs in its own process). --n-jobs runs cells in parallel with joblib; --backend dask
spreads them over a Dask cluster (a local one unless --scheduler is given).
"""


def _csv_list(text):
    return [item.strip() for item in text.split(",") if item.strip()]


def _seed_list(text):
    try:
        return [int(item) for item in _csv_list(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"seeds must be integers like 0,1,2; got {text!r}"
        ) from None


def build_parser():
    """The argument parser of ``skanomaly`` (exposed for the docs and tests)."""
    from skanomaly import __version__

    parser = argparse.ArgumentParser(
        prog="skanomaly",
        description="skanomaly: synthetic-anomaly detectors vs PyOD baselines.",
    )
    parser.add_argument("--version", action="version", version=f"skanomaly {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    bench = commands.add_parser(
        "bench",
        help="benchmark detectors on tabular or time-series data sets",
        description="Run data sets x detectors x seeds under the project's protocol; write a "
        "tidy CSV (one row per cell), a markdown report and PNG plots; print the summary.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    bench.add_argument(
        "--suite",
        choices=("tabular", "timeseries"),
        default="tabular",
        help="protocol and data kind (default: tabular)",
    )
    bench.add_argument(
        "--detectors",
        type=_csv_list,
        default=None,
        help="comma-separated names: AnoRand, DHAG, GenIAS, ASTER, pyod:IForest, "
        "... (see --list); default: our detectors and the PyOD baselines",
    )
    bench.add_argument(
        "--datasets",
        type=_csv_list,
        default=None,
        help="comma-separated data set names (.npz in --data-home, ADBench "
        "names, embedded names) or .npz paths; default: every .npz in "
        "--data-home, else the embedded sets",
    )
    bench.add_argument(
        "--data-home",
        default=None,
        help="folder of the data files (ADBench .npz with X, y; series .npz "
        "with train, test, test_labels); ADBench names not found there are looked up in "
        "$SKANOMALY_DATA (default ~/skanomaly_data)",
    )
    bench.add_argument(
        "--download",
        action="store_true",
        help="download the ADBench data sets named in --datasets that are missing",
    )
    bench.add_argument(
        "--seeds",
        type=_seed_list,
        default=None,
        help="comma-separated seeds (default: 0,1,2; 0 for the embedded quick suite)",
    )
    bench.add_argument(
        "--out",
        default="results",
        help="output folder of <suite>.csv, <suite>.md and plots (default: results)",
    )
    bench.add_argument(
        "--report",
        default=None,
        help="write the markdown report here instead of <out>/<suite>.md "
        "(plots beside it), e.g. docs/benchmarks/tabular.md",
    )
    bench.add_argument(
        "--quick",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="fast per-detector settings (few epochs of every stage, narrower networks, "
        "window detectors fitted on at most 1,000 windows): a smoke run in about a minute on "
        "the embedded sets, not a result; default: on for the embedded sets, off for data "
        "from --data-home/--datasets",
    )
    bench.add_argument(
        "--window", type=int, default=100, help="time-series window length (default: 100)"
    )
    bench.add_argument(
        "--stride",
        type=int,
        default=None,
        help="time-series window stride (default: 1, or window // 10 with --quick)",
    )
    bench.add_argument(
        "--n-jobs",
        type=int,
        default=1,
        help="cells run in parallel with joblib (-1: all cores; default: 1)",
    )
    bench.add_argument(
        "--backend",
        choices=("dask", "ray"),
        default=None,
        help="dask: spread the cells over a Dask cluster through joblib (ray: no longer "
        "supported, gives an error)",
    )
    bench.add_argument(
        "--scheduler",
        default=None,
        help="address of a running Dask scheduler for --backend dask, e.g. "
        "tcp://10.0.0.5:8786 (default: start a local cluster)",
    )
    bench.add_argument(
        "--cell-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop a cell running longer than this (each cell then runs in its own process; "
        "recorded as a TimeoutError); default: no limit",
    )
    bench.add_argument(
        "--mix-revisions",
        action="store_true",
        help="allow resuming a CSV whose rows were measured by another skanomaly version or "
        "commit (the report then lists the revisions)",
    )
    bench.add_argument(
        "--torch-threads",
        type=int,
        default=1,
        help="torch threads per cell, restored after it (default: 1, fastest for small "
        "models; 0: skanomaly's detectors size their own, other models use torch's default)",
    )
    bench.add_argument("--no-plots", action="store_true", help="do not draw the PNG plots")
    bench.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    bench.add_argument(
        "--list", action="store_true", help="list the detectors and embedded data sets, then exit"
    )
    return parser


def main(argv=None):
    """Entry point of the ``skanomaly`` console script.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments without the program name; ``None`` reads ``sys.argv``.

    Returns
    -------
    status : int
        0 on success (failed cells are recorded in the CSV, not an error), 2 on bad
        arguments, 130 when interrupted.

    Examples
    --------
    >>> from skanomaly.cli import main
    >>> main(["bench", "--list"])  # doctest: +ELLIPSIS
    tabular detectors: AnoRand, DHAG, GenIAS, ASTER, pyod:IForest, ...
    0
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    command = "skanomaly " + " ".join(shlex.quote(a) for a in argv)
    return _bench(args, parser, command)


def _bench(args, parser, command):
    from skanomaly.benchmark import (
        EMBEDDED_SERIES,
        EMBEDDED_TABULAR,
        list_detectors,
        run_benchmark,
        summarize,
        write_report,
    )

    if args.list:
        print("tabular detectors: " + ", ".join(list_detectors("tabular")))
        print("time-series detectors: " + ", ".join(list_detectors("timeseries")))
        print("embedded tabular data sets: " + ", ".join(EMBEDDED_TABULAR))
        print("embedded time series: " + ", ".join(EMBEDDED_SERIES))
        return 0
    embedded = args.data_home is None and (
        args.datasets is None or set(args.datasets) <= set(EMBEDDED_TABULAR) | set(EMBEDDED_SERIES)
    )
    quick = embedded if args.quick is None else args.quick
    seeds = args.seeds if args.seeds is not None else ([0] if embedded else [0, 1, 2])
    stride = args.stride if args.stride is not None else (max(1, args.window // 10) if quick else 1)
    if args.scheduler is not None and args.backend != "dask":
        parser.exit(2, "skanomaly bench: error: --scheduler needs --backend dask\n")
    start = time.perf_counter()
    client = None
    try:
        client = _dask_client(args.scheduler)
        rows = run_benchmark(
            args.suite,
            detectors=args.detectors,
            datasets=args.datasets,
            seeds=seeds,
            out=args.out,
            data_home=args.data_home,
            download=args.download,
            quick=quick,
            window=args.window,
            stride=stride,
            n_jobs=args.n_jobs,
            backend=args.backend,
            cell_timeout=args.cell_timeout,
            torch_threads=args.torch_threads or None,
            mix_revisions=args.mix_revisions,
            progress=not args.no_progress,
        )
    except (ValueError, TypeError, ImportError, OSError) as exc:
        parser.exit(2, f"skanomaly bench: error: {exc}\n")
    except KeyboardInterrupt:
        print(
            f"\nInterrupted: finished cells are saved in {Path(args.out) / args.suite}.csv; "
            "rerun the same command to resume.",
            file=sys.stderr,
        )
        return 130
    finally:
        if client is not None:
            client.close()
    wall = time.perf_counter() - start
    csv_path = Path(args.out) / f"{args.suite}.csv"
    report = Path(args.report) if args.report else Path(args.out) / f"{args.suite}.md"
    settings = {"quick": quick}
    if args.suite == "timeseries":
        settings.update(window=args.window, stride=stride)
    written = write_report(
        rows,
        report,
        command=command,
        settings=settings,
        plots=not args.no_plots,
        mix_revisions=args.mix_revisions,
    )
    print()
    print(summarize(rows))
    print()
    failed = sum(1 for row in rows if row["error"])
    print(
        f"{len(rows)} cells in {csv_path} ({failed} failed, see the report); "
        f"wall time {wall:.1f} s{' (quick settings)' if quick else ''}."
    )
    print(f"report: {report}")
    pngs = [str(p) for p in written if p.suffix == ".png"]
    if pngs:
        print("plots: " + ", ".join(pngs))
    elif not args.no_plots:
        print("plots skipped: matplotlib is not installed (pip install 'skanomaly[bench]').")
    return 0


def _dask_client(address):
    """A ``distributed.Client`` connected to ``address`` (joblib's Dask backend uses it)."""
    if address is None:
        return None
    try:
        from distributed import Client
    except ImportError as exc:
        raise ImportError(
            "--scheduler needs dask.distributed: pip install 'skanomaly[distributed]'."
        ) from exc
    return Client(address)


if __name__ == "__main__":
    sys.exit(main())
