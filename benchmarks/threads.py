"""Default fits and torch threads: the automatic choice vs torch's default vs one thread.

Fits AnoRand and DHAG with their default parameters on cardio (1,831 x 21, ADBench) as a user
would, leaving torch's own thread setting (one thread per core) in place, with

* ``torch_threads="auto"`` (the default): the detector sizes the threads to its network;
* ``torch_threads=None``: the caller's setting is kept (what every fit did before);
* ``torch_threads=1``: one thread, the reference.

once on the machine as it is and once while another process keeps one core busy (a Python
busy loop started here). Variants are interleaved and the best of ``--repeats`` is kept;
the table gives seconds and ratios to one thread measured side by side.

Usage::

    nice -n 10 python benchmarks/threads.py [--data ../shared/data/tabular/cardio.npz]
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from skanomaly.detectors import AnoRandDetector, DHAGDetector
from skanomaly.utils._threads import resolve_torch_threads

# ../shared/data beside the repository, or SKANOMALY_SHARED_DATA (as in tests/conftest.py).
_DEFAULT_DATA = (
    Path(
        os.environ.get(
            "SKANOMALY_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
        )
    )
    / "tabular"
)
VARIANTS = {"auto (default)": "auto", "caller's setting (before)": None, "1 thread": 1}
DETECTORS = {"AnoRand": AnoRandDetector, "DHAG": DHAGDetector}


def _time_fits(X, repeats):
    times = {(d, v): [] for d in DETECTORS for v in VARIANTS}
    threads = {}
    for _ in range(repeats):
        for (name, variant), runs in times.items():
            detector = DETECTORS[name](random_state=0, torch_threads=VARIANTS[variant])
            start = time.perf_counter()
            detector.fit(X)
            runs.append(time.perf_counter() - start)
            # The count the training steps ran at (None: the caller's setting).
            used = resolve_torch_threads(
                detector.torch_threads, detector.module_, detector.batch_size, X.shape[1:]
            )
            threads[(name, variant)] = torch.get_num_threads() if used is None else used
    return {key: (min(runs), threads[key]) for key, runs in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(_DEFAULT_DATA / "cardio.npz"))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    X = np.load(args.data)["X"].astype(np.float64)
    caller = torch.get_num_threads()
    for klass in DETECTORS.values():  # warm-up: the first fit in a process pays for imports
        klass(random_state=0, epochs=1).fit(X)
    results = {"as it is": _time_fits(X, args.repeats)}
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        results["one core kept busy"] = _time_fits(X, args.repeats)
    finally:
        busy.kill()
        busy.wait()
    print(
        f"\ncardio {X.shape}, default parameters, caller's torch threads: {caller}, "
        f"{os.cpu_count()} CPUs, load average before: {os.getloadavg()[0]:.1f}, "
        f"best of {args.repeats}\n"
    )
    print("| machine | detector | torch_threads | threads used | fit s | vs 1 thread |")
    print("|---|---|---|---|---|---|")
    for machine, times in results.items():
        for name in DETECTORS:
            one = times[(name, "1 thread")][0]
            for variant in VARIANTS:
                seconds, used = times[(name, variant)]
                print(
                    f"| {machine} | {name} | {variant} | {used} | {seconds:.2f} | "
                    f"{seconds / one:.2f}x |"
                )


if __name__ == "__main__":
    main()
