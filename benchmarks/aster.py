"""ASTER vs a windowed IsolationForest on the shared time-series panel.

Protocol (../shared/data/PROTOCOL.md, time series): channels standardised with the train
part's statistics, fit on the train part without labels, score every test step (window
scores mapped to steps with ``how="max"``). Headline VUS-PR; AUPR and AUROC on step scores;
best-F1 is an *oracle* (threshold chosen with the test labels) and labelled so.

Both detectors see the same windows: ``--window`` steps, and a stride (at most the window)
chosen per series so that at most ``--max-windows`` training windows are used; the same
stride windows the test part. A train part still too long keeps its last steps only. ASTER runs with ``backbone=None`` (linear feature extractor) on every series, and with
a tiny randomly initialised GPT-2 (LoRA) as a smoke run on the first ``--lm-series`` series.
Nothing is downloaded. The parameter counts of a full GPT-2-small-sized backbone (random
weights, built from its config) are reported too.

Run from the repository root::

    PYTHONPATH=$PWD python benchmarks/aster.py > aster.md   # ~30 min on a shared 2-core CPU

Two checks of issues 17/18 (ASTER at its defaults, windowed IForest beside it)::

    PYTHONPATH=$PWD python benchmarks/aster.py --synthetic  # tests/_series_cases.py, seeds 0-3
    PYTHONPATH=$PWD python benchmarks/aster.py --timing     # default fit, 10,000 x 3, window 100
"""

import argparse
import math
import time
from pathlib import Path

import numpy as np
import torch

from skanomaly.benchmark import evaluate, shared_data_dir, timeseries_split
from skanomaly.detectors import ASTERDetector
from skanomaly.timeseries import TimeSeriesDetector

METRICS = ("vus_pr", "aupr", "auroc", "best_f1")
# The window of the shared synthetic cases (windowed IForest gets AUROC 0.94-0.99 with it).
SYNTHETIC_WINDOW = 32

# ASTER paper, Table 1 (TAB protocol, GPT-2 + LoRA). None of these datasets is in our data.
PAPER_ROWS = {
    "PSM": dict(f1=0.512, auroc=0.697, aupr=0.501, vus_pr=0.452),
    "PUMP": dict(f1=0.458, auroc=0.839, aupr=0.254, vus_pr=0.290),
    "SWaT": dict(f1=0.695, auroc=0.823, aupr=0.542, vus_pr=0.506),
    "CATSv2": dict(f1=0.172, auroc=0.665, aupr=0.106, vus_pr=0.110),
}


def tiny_gpt2(window, seed):
    import transformers

    config = transformers.GPT2Config(
        n_layer=2, n_head=2, n_embd=32, n_positions=max(window, 8), vocab_size=8,
        bos_token_id=0, eos_token_id=0,
    )
    torch.manual_seed(seed)
    return transformers.GPT2Model(config)


def aster(args, seed, backbone=None):
    return ASTERDetector(
        backbone=backbone, epochs=args.epochs, d_model=args.d_model, n_layers=args.layers,
        dim_feedforward=2 * args.d_model, random_state=seed, device="cpu", lora_rank=8,
        lora_alpha=16,
    )


def iforest(seed):
    from pyod.models.iforest import IForest

    return IForest(random_state=seed)


def synthetic(args):
    """AUROC of ASTER (defaults) and windowed IForest on the shared synthetic regression series
    (fit on the anomaly-free train part, every test step scored), seeds 0-3."""
    from sklearn.metrics import roc_auc_score

    from tests._series_cases import KINDS, regression_series

    print(f"\n## Synthetic regression series (tests/_series_cases.py), window {SYNTHETIC_WINDOW}, "
          f"stride 1, AUROC of step scores, CPU {args.threads} thread(s)\n")
    print("| case | detector | seed 0 | seed 1 | seed 2 | seed 3 | mean | fit s (mean) |")
    print("|---|---|---|---|---|---|---|---|")
    factories = {
        "ASTER (linear, defaults)": lambda s: ASTERDetector(random_state=s, device="cpu"),
        "IForest (windows)": iforest,
    }
    for kind in KINDS:
        train, test, labels = regression_series(kind)
        for label, factory in factories.items():
            aurocs, fits = [], []
            for seed in range(4):
                detector = TimeSeriesDetector(factory(seed), window=SYNTHETIC_WINDOW)
                start = time.perf_counter()
                detector.fit(train)
                fits.append(time.perf_counter() - start)
                aurocs.append(roc_auc_score(labels, detector.decision_function(test)))
            print(f"| {kind} | {label} | " + " | ".join(f"{a:.3f}" for a in aurocs)
                  + f" | {np.mean(aurocs):.3f} | {np.mean(fits):.1f} |", flush=True)


def timing(args):
    """Wall and CPU seconds of a default fit on a 10,000-step, 3-channel series, window 100
    (issue 17's budget: 60 s on 2 CPU cores)."""
    rng = np.random.default_rng(0)
    t = np.arange(10_000)[:, None]
    X = np.sin(2 * np.pi * t / 50 + np.array([0, 1, 2])) + 0.1 * rng.normal(size=(10_000, 3))
    print("\n## Default fit, 10,000 x 3 series, TimeSeriesDetector(ASTERDetector(), window=100)\n")
    print("| torch threads | fit wall s | fit CPU s | training windows | epochs |")
    print("|---|---|---|---|---|")
    for threads in args.timing_threads:
        detector = TimeSeriesDetector(
            ASTERDetector(random_state=0, torch_threads=threads), window=100
        )
        wall, cpu = time.perf_counter(), time.process_time()
        detector.fit(X)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        inner = detector.detector_
        print(f"| {threads} | {wall:.1f} | {cpu:.1f} | "
              f"{min(len(detector.window_scores_), inner.max_train_windows)} of "
              f"{len(detector.window_scores_)} | {inner.n_epochs_} |", flush=True)


def count_parameters(module):
    total = sum(p.numel() for p in module.parameters())
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    return total, trainable


def gpt2_small_counts(window):
    """Parameters of ASTER with a GPT-2-small-sized backbone (random weights, not trained)."""
    import transformers

    config = transformers.GPT2Config(n_positions=1024)  # GPT-2 small: 12 x 768, 124M
    backbone = transformers.GPT2Model(config)
    detector = ASTERDetector(backbone=backbone, random_state=0, device="cpu")
    detector.device_ = torch.device("cpu")
    module = detector._build((window, 1))
    return count_parameters(module)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", help="series names (default: PANEL.txt)")
    parser.add_argument("--seeds", type=int, nargs="*", default=[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--d-model", type=int, default=32)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--window", type=int, default=64)
    parser.add_argument("--max-windows", type=int, default=256)
    parser.add_argument("--max-test", type=int, default=60000, help="skip longer test parts")
    parser.add_argument("--lm-series", type=int, default=2)
    parser.add_argument("--no-gpt2-small", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--synthetic", action="store_true",
                        help="only the synthetic regression series (window 32)")
    parser.add_argument("--timing", action="store_true", help="only the default-fit timing")
    parser.add_argument("--timing-threads", type=int, nargs="*", default=[1, 2])
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.synthetic or args.timing:
        if args.synthetic:
            synthetic(args)
        if args.timing:
            timing(args)
        return

    data = shared_data_dir()
    if data is None:
        raise SystemExit("../shared/data not found: nothing to benchmark.")
    folder = Path(data) / "timeseries"
    names = args.datasets or (folder / "PANEL.txt").read_text().split()

    rows, counts, skipped = [], {}, []
    lm_done = 0
    for name in names:
        train, test, labels = timeseries_split(folder / f"{name}.npz")
        if len(test) > args.max_test or len(train) < args.window:
            skipped.append(f"{name} (train {len(train)}, test {len(test)})")
            continue
        # Stride so that at most max_windows training windows remain (never above window:
        # every step must be covered); a longer train part keeps its last steps only.
        stride = min(args.window, max(1, math.ceil((len(train) - args.window + 1) / args.max_windows)))
        train = train[-((args.max_windows - 1) * stride + args.window):]
        candidates = [("ASTER (linear)", lambda s: aster(args, s))]
        if lm_done < args.lm_series:
            candidates.append(
                ("ASTER (tiny GPT-2, LoRA)", lambda s: aster(args, s, tiny_gpt2(args.window, s)))
            )
            lm_done += 1
        candidates.append(("IForest (windows)", iforest))
        for label, factory in candidates:
            for seed in args.seeds:
                detector = TimeSeriesDetector(factory(seed), window=args.window, stride=stride)
                result = evaluate(detector, train, test, labels, metrics=METRICS)
                rows.append(dict(series=name, detector=label, seed=seed, stride=stride, **result))
                inner = detector.detector_
                if hasattr(inner, "n_parameters_"):
                    counts[label] = (
                        inner.n_parameters_, inner.n_trainable_parameters_, name, train.shape[1]
                    )
                print(f"<!-- {name} {label} seed={seed} stride={stride} "
                      + " ".join(f"{k}={v:.3f}" for k, v in result.items()) + " -->", flush=True)

    print_tables(rows, counts, skipped, args)


def print_tables(rows, counts, skipped, args):
    import pandas as pd

    frame = pd.DataFrame(rows)
    per = frame.groupby(["series", "detector"], sort=False)[[*METRICS, "fit_s", "score_s"]].mean()
    print(f"\n## ASTER vs IForest, window {args.window}, <= {args.max_windows} training windows, "
          f"ASTER d_model={args.d_model}, {args.layers} layer(s), {args.epochs} epochs, "
          f"seeds {args.seeds}, CPU {args.threads} thread(s)\n")
    print("best_f1 is an oracle (threshold picked with the test labels).\n")
    print("| series | detector | VUS-PR | AUPR | AUROC | best-F1 (oracle) | fit s | score s |")
    print("|---|---|---|---|---|---|---|---|")
    for (series, detector), r in per.iterrows():
        print(f"| {series} | {detector} | {r.vus_pr:.3f} | {r.aupr:.3f} | {r.auroc:.3f} | "
              f"{r.best_f1:.3f} | {r.fit_s:.1f} | {r.score_s:.1f} |")

    frame["family"] = frame.series.str.split("_").str[0]
    print("\n### Means per family (series where the detector ran)\n")
    print("| family | detector | n | VUS-PR | AUPR | AUROC | best-F1 (oracle) | fit s |")
    print("|---|---|---|---|---|---|---|---|")
    series_means = frame.groupby(["family", "series", "detector"], sort=False)[
        [*METRICS, "fit_s"]].mean().reset_index()
    for group in (["family", "detector"], ["detector"]):
        grouped = series_means.groupby(group, sort=False)
        for key, g in grouped:
            key = key if isinstance(key, tuple) else (key,)
            family, detector = (key if len(key) == 2 else ("**all**", key[0]))
            print(f"| {family} | {detector} | {len(g)} | {g.vus_pr.mean():.3f} | "
                  f"{g.aupr.mean():.3f} | {g.auroc.mean():.3f} | {g.best_f1.mean():.3f} | "
                  f"{g.fit_s.mean():.1f} |")

    lm_series = frame[frame.detector == "ASTER (tiny GPT-2, LoRA)"].series.unique()
    if len(lm_series):
        print("\n### Same series for all three detectors (GPT-2 smoke-run subset)\n")
        print("| detector | n | VUS-PR | AUPR | AUROC | best-F1 (oracle) | fit s |")
        print("|---|---|---|---|---|---|---|")
        sub = series_means[series_means.series.isin(lm_series)]
        for detector, g in sub.groupby("detector", sort=False):
            print(f"| {detector} | {len(g)} | {g.vus_pr.mean():.3f} | {g.aupr.mean():.3f} | "
                  f"{g.auroc.mean():.3f} | {g.best_f1.mean():.3f} | {g.fit_s.mean():.1f} |")

    print("\n### Parameter counts (total / trainable)\n")
    print("| backbone | total | trainable |")
    print("|---|---|---|")
    for label, (total, trainable, series, channels) in counts.items():
        print(f"| {label}, fitted on {series} ({channels} channels) | {total:,} | "
              f"{trainable:,} |")
    if not args.no_gpt2_small:
        total, trainable = gpt2_small_counts(args.window)
        print(f"| GPT-2-small-sized (12 x 768, random weights, not trained), 1 channel | "
              f"{total:,} | {trainable:,} |")

    print("\n### ASTER paper, Table 1 (GPT-2 + LoRA, TAB protocol) — datasets we do not hold\n")
    print("| dataset | F1 | AUROC | AUPR | VUS-PR |")
    print("|---|---|---|---|---|")
    for dataset, r in PAPER_ROWS.items():
        print(f"| {dataset} | {r['f1']:.3f} | {r['auroc']:.3f} | {r['aupr']:.3f} | "
              f"{r['vus_pr']:.3f} |")
    if skipped:
        print("\nSkipped: " + ", ".join(skipped))


if __name__ == "__main__":
    main()
