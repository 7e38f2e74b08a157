"""ASTER's dropout: the quality of the default fit with and without it (issue 17's budget).

On a CPU, ASTER's default fit is bound by dropout's random numbers: drawing the masks of the
attention maps (batch x heads x window x window) took two thirds of the decoder's forward
time, and the default fit of the 60-second budget's series took 56 s wall with dropout 0.1
against 25 s without it (2 torch threads, one run side by side). Each series is fitted once
per seed and dropout (``TimeSeriesDetector(ASTERDetector(random_state=seed, dropout=d),
window)``, stride 1, other parameters at their defaults); AUROC / VUS-PR of the step scores.

    python benchmarks/aster_dropout.py synth:spike msl_C-1 --seeds 0 1 --dropouts 0.1 0.0

``synth:KIND`` is ``tests/_series_cases.regression_series(KIND)`` (window 32); other names are
series of ``$SKANOMALY_SHARED_DATA/timeseries`` (window 100). Rows are printed as they come;
the last lines compare each dropout with the first one given.
"""

import argparse
import time

import numpy as np
import torch
from anorand_channel_score import load

from skanomaly.detectors import ASTERDetector
from skanomaly.metrics import auroc, vus_pr
from skanomaly.timeseries import TimeSeriesDetector


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("series", nargs="+")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--dropouts", type=float, nargs="+", default=[0.1, 0.0])
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    print(
        "| series | seed | "
        + " | ".join(f"dropout {d}: AUROC / VUS-PR / fit s" for d in args.dropouts)
        + " |"
    )
    print("|---|---|" + "---|" * len(args.dropouts))
    per_series = {}
    for name in args.series:
        (train, test, labels), window = load(name)
        for seed in args.seeds:
            cells = []
            for dropout in args.dropouts:
                detector = ASTERDetector(random_state=seed, dropout=dropout, device="cpu")
                ts = TimeSeriesDetector(detector, window=window)
                start = time.perf_counter()
                ts.fit(train)
                fit_s = time.perf_counter() - start
                scores = ts.decision_function(test)
                cells.append((auroc(labels, scores), vus_pr(labels, scores), fit_s))
            per_series.setdefault(name, []).append(cells)
            text = " | ".join(f"{a:.3f} / {v:.3f} / {s:.0f}" for a, v, s in cells)
            print(f"| {name} | {seed} | {text} |", flush=True)
    means = {name: np.mean(rows, axis=0) for name, rows in per_series.items()}
    overall = np.mean(list(means.values()), axis=0)
    print(
        "\nMean over the series (seed means): "
        + "; ".join(
            f"dropout {d}: AUROC {a:.3f}, VUS-PR {v:.3f}, fit {s:.1f} s"
            for d, (a, v, s) in zip(args.dropouts, overall, strict=True)
        )
    )
    for j, dropout in enumerate(args.dropouts[1:], start=1):
        diffs = {name: m[j, 0] - m[0, 0] for name, m in means.items()}
        worst = min(diffs, key=diffs.get)
        print(
            f"dropout {dropout} vs {args.dropouts[0]}: mean AUROC {overall[j, 0] - overall[0, 0]:+.3f}; "
            f"series worse by > 0.05: {sum(d < -0.05 for d in diffs.values())}, better by > 0.05: "
            f"{sum(d > 0.05 for d in diffs.values())}; worst {worst} {diffs[worst]:+.3f}"
        )


if __name__ == "__main__":
    main()
