"""How AnoRand scores windows: the flat standardised residual against per-channel rules.

Issue 17 (``benchmarks/anorand_results.md``, section 7). Each series is fitted once per seed
(``TimeSeriesDetector(AnoRandDetector(random_state=seed), window)``, stride 1, defaults); every
training and test window's standardised residual ``(x - x_hat) / reconstruction_scale_`` is
summed per channel, and all the window scores below are built from those sums, so the rules
are compared on the same fits. Points take the max of the windows covering them.

    python benchmarks/anorand_channel_score.py --seeds 0 1 msl_C-1 smap_A-4 synth:quiet_spell

``synth:KIND`` is ``tests/_series_cases.regression_series(KIND)`` (window 32; ``quiet_spell``
with 16 channels); other names are series of ``$SKANOMALY_SHARED_DATA/timeseries``.
"""

import argparse
import math
import os
import sys
from pathlib import Path

import numpy as np
import torch

from skanomaly.benchmark import timeseries_split
from skanomaly.detectors import AnoRandDetector
from skanomaly.detectors._anorand import _floored
from skanomaly.metrics import auroc, vus_pr
from skanomaly.timeseries import TimeSeriesDetector, sliding_windows, window_scores_to_points

RULES = ("flat", "top-k mean (channel_reconstruction)", "mean", "max", "top-k of abs(z)")


def channel_sums(detector, windows, chunk=512):
    """Squared standardised residual summed over each window's steps, per channel."""
    scale = torch.as_tensor(detector.reconstruction_scale_)
    out = []
    for start in range(0, len(windows), chunk):
        X = torch.as_tensor(np.ascontiguousarray(windows[start : start + chunk]))
        with torch.no_grad():
            _, residual = detector._float64_forward(detector._standardize(X.float()))
        out.append((residual / scale).reshape(X.shape).square().sum(dim=1).numpy())
    return np.concatenate(out)


def window_scores(train_sums, test_sums):
    """Every rule's window scores from the per-channel sums."""
    train_err, test_err = np.sqrt(train_sums), np.sqrt(test_sums)
    z = (test_err - train_err.mean(axis=0)) / _floored(train_err.std(axis=0))
    k = math.ceil(math.sqrt(z.shape[1]))
    return dict(
        zip(
            RULES,
            (
                np.sqrt(test_sums.sum(axis=1)),
                np.sort(z, axis=1)[:, -k:].mean(axis=1),
                z.mean(axis=1),
                z.max(axis=1),
                np.sort(np.abs(z), axis=1)[:, -k:].mean(axis=1),
            ),
            strict=True,
        )
    )


def load(name):
    if name.startswith("synth:"):
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests._series_cases import regression_series

        kind = name.removeprefix("synth:")
        extra = {"n_channels": 16} if kind == "quiet_spell" else {}
        return timeseries_split(regression_series(kind, **extra)), 32
    data_home = Path(os.environ.get("SKANOMALY_SHARED_DATA", "/work/shared/data")) / "timeseries"
    return timeseries_split(name, data_home=data_home), 100


def print_table(rules, window_scores_of, argv=None, description=None):
    """Fit each series once per seed and print every rule's AUROC / VUS-PR (seed means).

    ``window_scores_of(ts, train, test)`` returns one window score per rule from the fitted
    ``TimeSeriesDetector`` ``ts``.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("series", nargs="+")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    print("| series | seeds | " + " | ".join(f"{r} AUROC / VUS-PR" for r in rules) + " |")
    print("|---|---|" + "---|" * len(rules))
    means = []
    for name in args.series:
        (train, test, labels), window = load(name)
        cells = []
        for seed in args.seeds:
            ts = TimeSeriesDetector(AnoRandDetector(random_state=seed), window=window).fit(train)
            scores = window_scores_of(ts, train, test)
            points = [window_scores_to_points(s, len(test), window) for s in scores]
            cells.append([(auroc(labels, p), vus_pr(labels, p)) for p in points])
        cells = np.mean(cells, axis=0)
        means.append(cells)
        text = " | ".join(f"{a:.3f} / {v:.3f}" for a, v in cells)
        print(f"| {name} | {len(args.seeds)} | {text} |", flush=True)
    text = " | ".join(f"**{a:.3f} / {v:.3f}**" for a, v in np.mean(means, axis=0))
    print(f"| **mean ({len(means)})** | | {text} |")


def main(argv=None):
    def scores_of(ts, train, test):
        return window_scores(
            channel_sums(ts.detector_, sliding_windows(train, ts.window_)),
            channel_sums(ts.detector_, sliding_windows(test, ts.window_)),
        ).values()

    print_table(RULES, scores_of, argv, __doc__.splitlines()[0])


if __name__ == "__main__":
    main()
