"""GenIAS-CARLA seed spread: ways to combine the neighbour score's two halves (issue 18).

The neighbour score of ``GenIASDetector`` (``carla_score="neighbours"``) has two halves per
window: ``f``, the mean squared distance to the ``n_neighbors`` nearest training windows in
the encoder's features (depends on the seed), and ``w``, the same between the z-normalised
windows (seed-free). This script fits ``TimeSeriesDetector(GenIASDetector(random_state=s),
window=100)`` (stride 1, one torch thread, the benchmark's split and standardisation) ONCE per
(series, seed), caches the sorted neighbour distances of the training windows (the bank,
each without itself) and of every test window in both spaces, and evaluates every candidate
combination from the cache (AUROC and VUS-PR of the point scores, ``how="max"`` as the
benchmark does). Only development series (outside PANEL.txt) and the synthetic regression
series are meant to be run: the choice is made there.

Usage::

    PYTHONPATH=. nice -n 10 python benchmarks/genias_seed_spread.py fit --series msl_C-1 \
        --seeds 0 1 2 --cache /tmp/genias_cache
    PYTHONPATH=. python benchmarks/genias_seed_spread.py table --cache /tmp/genias_cache
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from skanomaly.benchmark import shared_data_dir, timeseries_split
from skanomaly.detectors import GenIASDetector
from skanomaly.detectors._genias import _normalised_window
from skanomaly.metrics import auroc, vus_pr
from skanomaly.timeseries import TimeSeriesDetector, sliding_windows, window_scores_to_points
from skanomaly.utils._tails import fit_tail, tail_surprise

WINDOW = 100
MAX_K = 20  # neighbour distances kept per window (candidates with k up to MAX_K)
SYNTHETIC = ("level_shift", "spike", "frequency", "noise_burst")


def load(name, data_home):
    if name.startswith("syn_"):
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from _series_cases import regression_series

        return timeseries_split(regression_series(name[4:]))
    return timeseries_split(name, data_home=data_home)


def sorted_distances(query, bank, exclude_self):
    """The ``MAX_K`` smallest squared distances of each query row to the bank rows."""
    dist = torch.cdist(query, bank).pow(2)
    k = min(MAX_K, len(bank) - int(exclude_self))
    return dist.topk(k + int(exclude_self), dim=1, largest=False).values[:, int(exclude_self):]


def fit_one(name, seed, data_home, cache):
    out = Path(cache) / f"{name}__{seed}.npz"
    if out.exists():
        return
    train, test, labels = load(name, data_home)
    det = TimeSeriesDetector(GenIASDetector(random_state=seed, torch_threads=1), window=WINDOW)
    start = time.process_time()
    det.fit(train)
    fit_cpu = time.process_time() - start
    inner = det.detector_
    module = inner.module_
    banks = [torch.from_numpy(b) for b in (inner.memory_bank_, inner.window_bank_)]
    # the shipped score on the test series, to check the cache reproduces it
    shipped = det.decision_function(test)

    def both(X, exclude_self):
        return torch.cat([
            sorted_distances(module.features(X), banks[0], exclude_self),
            sorted_distances(_normalised_window(module, X), banks[1], exclude_self),
        ], dim=1)

    test_windows = sliding_windows(test, WINDOW, 1).astype(np.float32)
    if test_windows.ndim == 2:
        test_windows = test_windows[:, :, None]
    test_d = torch.cat(inner._map_batches(lambda X: both(X, False), test_windows)).numpy()
    # the bank rows themselves: features of the training windows = memory bank rows
    train_d = np.concatenate([
        sorted_distances(banks[0], banks[0], True).numpy(),
        sorted_distances(banks[1], banks[1], True).numpy(),
    ], axis=1)
    np.savez(out, train=train_d, test=test_d, labels=labels, shipped=shipped,
             fit_cpu=fit_cpu, n_test=len(test))
    print(f"{name} seed {seed}: fit {fit_cpu:.0f} CPU s", flush=True)


# ------------------------------------------------------------------------ candidates
def _tail_logp(train, x, tail_q=0.9):
    """-log of the upper-tail probability of ``x`` under the training values: the package's
    tail surprise (empirical inside, exponential beyond the ``tail_q`` quantile)."""
    return tail_surprise(
        torch.from_numpy(np.asarray(x, dtype=np.float64)),
        fit_tail(train, share=1 - tail_q),
        share=1 - tail_q,
    ).numpy()


def halves(data, k):
    f_tr = data["train"][:, :MAX_K][:, :k].mean(1)
    w_tr = data["train"][:, MAX_K:][:, :k].mean(1)
    f_te = data["test"][:, :MAX_K][:, :k].mean(1)
    w_te = data["test"][:, MAX_K:][:, :k].mean(1)
    return f_tr, w_tr, f_te, w_te


def _log(x):
    return np.log(np.maximum(x, 1e-12))


def _z(tr, te):
    return (te - tr.mean()) / max(tr.std(), 1e-12)


def _zt(tr, te):
    """Centred at the median, scaled by the spread of the upper half (the tail side)."""
    med = np.median(tr)
    upper = tr[tr >= med]
    return (te - med) / max(np.sqrt(np.mean((upper - med) ** 2)), 1e-12)


def _rz(tr, te):
    med = np.median(tr)
    mad = np.median(np.abs(tr - med)) * 1.4826
    return (te - med) / max(mad, 1e-12)


def candidates(data):
    f_tr, w_tr, f_te, w_te = halves(data, 5)
    lf_tr, lw_tr, lf_te, lw_te = map(_log, (f_tr, w_tr, f_te, w_te))
    out = {
        "a sqrt(f*w) (current)": np.sqrt(f_te / f_tr.mean() * w_te / w_tr.mean()),
        "b z(log f)+z(log w)": _z(lf_tr, lf_te) + _z(lw_tr, lw_te),
        "c1 rz(log f)+rz(log w)": _rz(lf_tr, lf_te) + _rz(lw_tr, lw_te),
        "c2 max(rz(log f),rz(log w))": np.maximum(_rz(lf_tr, lf_te), _rz(lw_tr, lw_te)),
        "b2 z(f)+z(w)": _z(f_tr, f_te) + _z(w_tr, w_te),
        "b3 max(z(log f),z(log w))": np.maximum(_z(lf_tr, lf_te), _z(lw_tr, lw_te)),
        "b4 z(log f)+z(log w), std of top half": _zt(lf_tr, lf_te) + _zt(lw_tr, lw_te),
        "d tail -log p_f - log p_w": _tail_logp(lf_tr, lf_te) + _tail_logp(lw_tr, lw_te),
        "d q=0.8": _tail_logp(lf_tr, lf_te, 0.8) + _tail_logp(lw_tr, lw_te, 0.8),
        "d q=0.95": _tail_logp(lf_tr, lf_te, 0.95) + _tail_logp(lw_tr, lw_te, 0.95),
        "d raw distances": _tail_logp(f_tr, f_te) + _tail_logp(w_tr, w_te),
        "d max": np.maximum(_tail_logp(lf_tr, lf_te), _tail_logp(lw_tr, lw_te)),
        "f f only": f_te,
        "f w only": w_te,
    }
    for k in (10, 20):
        f_tr, w_tr, f_te, w_te = halves(data, k)
        lf_tr, lw_tr, lf_te, lw_te = map(_log, (f_tr, w_tr, f_te, w_te))
        out[f"e sqrt(f*w) k={k}"] = np.sqrt(f_te * w_te)
        out[f"e b k={k}"] = _z(lf_tr, lf_te) + _z(lw_tr, lw_te)
        out[f"e d k={k}"] = _tail_logp(lf_tr, lf_te) + _tail_logp(lw_tr, lw_te)
    return out


def table(cache, names=None):
    files = sorted(Path(cache).glob("*.npz"))
    results = {}  # candidate -> series -> list of (auroc, vus)
    check = {}  # candidate -> does it reproduce the score shipped when the cache was made
    for path in files:
        name, seed = path.stem.rsplit("__", 1)
        if names and name not in names:
            continue
        data = dict(np.load(path))
        labels = data["labels"]
        n = int(data["n_test"])
        for cand, window_scores in candidates(data).items():
            points = window_scores_to_points(window_scores, n, WINDOW, 1, "max")
            results.setdefault(cand, {}).setdefault(name, []).append(
                (auroc(labels, points), vus_pr(labels, points)))
            if cand.startswith(("a ", "d tail")):
                check.setdefault(cand, []).append(
                    np.allclose(points, data["shipped"], rtol=1e-4, atol=1e-6)
                )
    # Caches made before issue 18's change shipped (a), later ones (d).
    for cand, hits in check.items():
        print(f"cache reproduces the shipped score with {cand!r}: {sum(hits)}/{len(hits)} fits")
    series = sorted({s for r in results.values() for s in r})
    print("| candidate | mean AUROC | mean VUS-PR | mean spread | spread >= 0.1 | min AUROC |")
    print("|---|---|---|---|---|---|")
    for cand, per in results.items():
        a = [np.mean([x[0] for x in per[s]]) for s in series]
        v = [np.mean([x[1] for x in per[s]]) for s in series]
        sp = [np.ptp([x[0] for x in per[s]]) for s in series]
        wide = [f"{s} {d:.2f}" for s, d in zip(series, sp, strict=True) if d >= 0.1]
        mn = min(min(x[0] for x in per[s]) for s in series)
        print(f"| {cand} | {np.mean(a):.3f} | {np.mean(v):.3f} | {np.mean(sp):.3f} | "
              f"{len(wide)}: {', '.join(wide)} | {mn:.3f} |")
    print()
    print("| candidate | " + " | ".join(series) + " |")
    print("|---|" + "---|" * len(series))
    for cand, per in results.items():
        cells = [" / ".join(f"{x[0]:.2f}" for x in per[s]) for s in series]
        print(f"| {cand} | " + " | ".join(cells) + " |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("fit", "table"))
    parser.add_argument("--series", nargs="*", default=[])
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--cache", default="genias_seed_spread_cache")
    parser.add_argument("--data-home", default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    data_home = args.data_home or os.path.join(shared_data_dir() or ".", "timeseries")
    Path(args.cache).mkdir(parents=True, exist_ok=True)
    if args.mode == "fit":
        panel = Path(data_home, "PANEL.txt")
        panel = set(panel.read_text().split()) if panel.is_file() else set()
        for name in args.series:
            if name in panel:
                sys.exit(f"{name} is a panel series: choose on development series only.")
            for seed in args.seeds:
                fit_one(name, seed, data_home, args.cache)
    else:
        table(args.cache, args.series or None)


if __name__ == "__main__":
    main()
