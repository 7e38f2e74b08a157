"""Peak memory of TimeSeriesDetector's fit and score on long series (1M and 10M steps).

Each case runs in a fresh subprocess (peak RSS, ``resource.getrusage``, is per process and
never goes down): the child imports skanomaly, draws a float64 series, records its RSS, then
runs one phase and reports its peak RSS.

* ``fit``: ``TimeSeriesDetector(IForest(...), window, stride).fit(series)``: the windows
  the inner detector trains on plus the training-score pass over every window;
* ``score``: the detector is fitted on the first 20,000 steps, then ``decision_function``
  scores the whole series.

The inner detector is PyOD's ``IForest(n_estimators=10, max_samples=256)`` to keep the runs
short (its memory does not grow with trees; its time does). ``--python-path`` runs the same
cases against another checkout (e.g. ``main`` before chunking) for a before/after table.

Usage::

    nice -n 10 python benchmarks/memory.py [--cases small,medium,large] [--working-memory MiB]
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

# name: (steps, channels, window, stride)
CASES = {
    "1M x 2, w100, s1": (1_000_000, 2, 100, 1),
    "1M x 10, w500, s10": (1_000_000, 10, 500, 10),
    "10M x 10, w500, s100": (10_000_000, 10, 500, 100),
}
_KEYS = {
    "small": "1M x 2, w100, s1",
    "medium": "1M x 10, w500, s10",
    "large": "10M x 10, w500, s100",
}
_FIT_PREFIX = 20_000


def _rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _child(case, phase, working_memory):
    import numpy as np
    import sklearn
    from pyod.models.iforest import IForest

    from skanomaly.timeseries import TimeSeriesDetector

    steps, channels, window, stride = CASES[case]
    series = np.random.default_rng(0).standard_normal((steps, channels))
    detector = TimeSeriesDetector(
        IForest(n_estimators=10, max_samples=256, random_state=0), window=window, stride=stride
    )
    with sklearn.config_context(
        working_memory=working_memory or sklearn.get_config()["working_memory"]
    ):
        if phase == "score":
            detector.fit(series[:_FIT_PREFIX])
        before = _rss_mib()
        start = time.perf_counter()
        if phase == "fit":
            detector.fit(series)
        else:
            detector.decision_function(series)
        seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "before_mib": before,
                "peak_mib": _rss_mib(),
                "seconds": seconds,
                "fit_windows": getattr(detector, "n_fit_windows_", None),
                "series_mib": series.nbytes / 2**20,
            }
        )
    )


def _run(case, phase, python_path, working_memory):
    env = dict(os.environ)
    if python_path:
        env["PYTHONPATH"] = python_path
    command = [sys.executable, __file__, "--child", case, phase]
    if working_memory:
        command += ["--working-memory", str(working_memory)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["killed"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="small,medium,large")
    parser.add_argument("--python-path", default=None, help="PYTHONPATH of the children")
    parser.add_argument(
        "--working-memory",
        type=float,
        default=None,
        help="sklearn working_memory in MiB (default: sklearn's, 1024)",
    )
    parser.add_argument("--child", nargs=2, metavar=("CASE", "PHASE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(*args.child, args.working_memory)
        return
    wm = args.working_memory or "default (1024)"
    print(
        f"\nTimeSeriesDetector(IForest(n_estimators=10, max_samples=256)), float64 series, "
        f"working_memory={wm} MiB, code from {args.python_path or 'this checkout'}\n"
    )
    print(
        "| series | phase | fitted on | series MiB | RSS before MiB | peak RSS MiB | "
        "peak - before MiB | seconds |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for key in args.cases.split(","):
        case = _KEYS.get(key, key)
        for phase in ("fit", "score"):
            r = _run(case, phase, args.python_path, args.working_memory)
            if "error" in r:
                print(f"| {case} | {phase} | | | | failed: {r['error']} | | |")
                continue
            fitted = r["fit_windows"] if phase == "fit" else f"first {_FIT_PREFIX:,} steps"
            print(
                f"| {case} | {phase} | {fitted if fitted is not None else 'all'} | "
                f"{r['series_mib']:.0f} | {r['before_mib']:.0f} | {r['peak_mib']:.0f} | "
                f"{r['peak_mib'] - r['before_mib']:.0f} | {r['seconds']:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
