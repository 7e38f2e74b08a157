"""Development suites for AnoRand's defaults (never the benchmark's ADBench sets).

Defaults are compared on data that the benchmark does not hold, so choosing a default does
not tune on the benchmark's test labels:

* ``synthetic``: ``make_anomalies`` sets (ADBench's four synthetic anomaly types, d=8 at 5%
  and d=30 at 10% contamination, 3000 rows);
* ``sklearn``: scikit-learn's bundled digits (each of the 10 classes in turn is the anomaly
  class, 5% of the rows) and iris (each of the 3 classes in turn), a real-data suite;
* ``sensors``: the labelled test parts of the multivariate SMD, ASD and GECCO series of
  ``../shared/data/timeseries`` (16 sets, 9-38 channels, 0.7-16% anomalous steps), each
  time step taken as a tabular row and ``--rows`` of them drawn per seed. A real-data suite
  with natural contamination; the tabular benchmark holds none of these sets. Needs the
  shared data folder (see :func:`skanomaly.benchmark.shared_data_dir`).

All use the PROTOCOL.md split and scaling with a contaminated training part.

Usage::

    python benchmarks/anorand_defaults.py [--suite synthetic|sklearn|sensors] [--seeds 0 1]
        [--configs "relabel (default)" "none (paper)" ...] [--blocks]
"""

import argparse
import functools

import numpy as np
import torch

from skanomaly.benchmark import evaluate, make_detector, shared_data_dir, tabular_split
from skanomaly.benchmark._datasets import _minority_as_anomalies
from skanomaly.datasets import load_timeseries, make_anomalies
from skanomaly.detectors import AnoRandDetector
from skanomaly.injectors import SMOTENoiseInjector
from skanomaly.metrics import aupr, auroc

_NONE = dict(contamination_handling="none")
CONFIGS = {
    # Unsupervised training with the training part's real anomalies (contamination_handling).
    "relabel (default)": dict(),
    "soft": dict(contamination_handling="soft"),
    "ignore": dict(contamination_handling="ignore"),
    "none (paper)": dict(contamination_handling="none"),
    "relabel, exposure_ratio 0.05": dict(exposure_ratio=0.05),
    "relabel, exposure_ratio 0.2": dict(exposure_ratio=0.2),
    "relabel, exposure_ratio 0.3": dict(exposure_ratio=0.3),
    "relabel, lr 3e-4": dict(lr=3e-4),
    "relabel, exposure_ratio 0.2, lr 3e-4": dict(exposure_ratio=0.2, lr=3e-4),
    "relabel, exposure_ratio 0.2, noise 1.0": dict(
        exposure_ratio=0.2, injector=SMOTENoiseInjector(noise_level=1.0)
    ),
    "relabel, exposure_ratio 0.2, w 0.5": dict(exposure_ratio=0.2, w=0.5),
    "relabel, exposure_ratio 0.02": dict(exposure_ratio=0.02),
    "relabel, 25 epochs": dict(epochs=25),
    "relabel, 100 epochs": dict(epochs=100),
    "relabel, w 0.1": dict(w=0.1),
    "relabel, w 0.5": dict(w=0.5),
    "relabel, noise 1.0": dict(injector=SMOTENoiseInjector(noise_level=1.0)),
    "relabel, noise 5.0": dict(injector=SMOTENoiseInjector(noise_level=5.0)),
    "relabel, anomaly_ratio 0.1": dict(injector=SMOTENoiseInjector(anomaly_ratio=0.1)),
    "relabel, subset_ratio 0.05": dict(injector=SMOTENoiseInjector(subset_ratio=0.05)),
    "relabel, paper's training (200 epochs, lr 1e-4, noise 1.0)": dict(
        epochs=200, lr=1e-4, injector=SMOTENoiseInjector(noise_level=1.0)
    ),
    "relabel, 200 epochs, lr 1e-4": dict(epochs=200, lr=1e-4),
    # Learning rate and noise level, measured with contamination_handling="none".
    "paper (lr 1e-4, noise 1.0)": dict(lr=1e-4, injector=SMOTENoiseInjector(noise_level=1.0), **_NONE),
    "lr 1e-3, noise 1.0": dict(lr=1e-3, injector=SMOTENoiseInjector(noise_level=1.0), **_NONE),
    "lr 1e-3, noise 3.0": dict(lr=1e-3, injector=SMOTENoiseInjector(noise_level=3.0), **_NONE),
    "lr 1e-4, noise 3.0": dict(lr=1e-4, injector=SMOTENoiseInjector(noise_level=3.0), **_NONE),
    "lr 1e-3, noise 0.6": dict(lr=1e-3, injector=SMOTENoiseInjector(noise_level=0.6), **_NONE),
    "lr 1e-3, noise 2.0": dict(lr=1e-3, injector=SMOTENoiseInjector(noise_level=2.0), **_NONE),
    "lr 1e-3, noise 5.0": dict(lr=1e-3, injector=SMOTENoiseInjector(noise_level=5.0), **_NONE),
}
# Reference points on the same sets (PyOD defaults, benchmark registry names); not AnoRand
# configurations.
REFERENCES = {"IForest (PyOD)": "pyod:IForest", "ECOD (PyOD)": "pyod:ECOD"}
SYNTHETIC_SETS = [
    (kind, n_features, contamination)
    for kind in ("global", "local", "cluster", "dependency")
    for n_features, contamination in ((8, 0.05), (30, 0.1))
]
SKLEARN_SETS = [("digits", c) for c in range(10)] + [("iris", c) for c in range(3)]
SENSOR_PATTERNS = ("smd_*.npz", "asd_*.npz", "gecco2018_*.npz")


def _class_as_anomalies(name, anomaly_class, share=0.05):
    """One class of a bundled scikit-learn set as the anomalies (``share`` of the rows, a
    fixed draw), every other class normal."""
    from sklearn import datasets

    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    n_normal, n_pool = int((y != anomaly_class).sum()), int((y == anomaly_class).sum())
    n_anomalies = min(n_pool, max(3, round(share * n_normal / (1 - share))))
    return _minority_as_anomalies(X, y, anomaly_class, n_anomalies)


@functools.cache
def _sensor_rows(path):
    """A series' labelled test part, each time step a tabular row (read once, reused by
    every seed and configuration)."""
    data = load_timeseries(path)
    return data.test, data.test_labels


def _suite(name):
    """``(label, load)`` of every set of a suite; ``load(rows, seed)`` returns ``(X, y)``
    (synthetic sets are redrawn per seed with ``rows`` rows, the others are fixed; the split
    subsamples sets larger than ``rows``)."""
    if name == "synthetic":
        return [
            (f"{kind} d={n_features} c={contamination}",
             lambda rows, seed, kind=kind, d=n_features, c=contamination: make_anomalies(
                 rows, d, contamination=c, anomaly_type=kind, random_state=100 + seed))
            for kind, n_features, contamination in SYNTHETIC_SETS
        ]
    if name == "sensors":
        shared = shared_data_dir()
        paths = [] if shared is None else [
            path for pattern in SENSOR_PATTERNS
            for path in sorted((shared / "timeseries").glob(pattern))
        ]
        if not paths:
            raise SystemExit("--suite sensors needs ../shared/data/timeseries "
                             "(or SKANOMALY_SHARED_DATA): no SMD, ASD or GECCO series found.")
        return [
            (path.stem, lambda rows, seed, path=path: _sensor_rows(path))
            for path in paths
        ]
    return [
        (f"{data} {anomaly_class}",
         lambda rows, seed, data=data, cls=anomaly_class: _class_as_anomalies(data, cls))
        for data, anomaly_class in SKLEARN_SETS
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", choices=["synthetic", "sklearn", "sensors"],
                        default="synthetic")
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1])
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--rows", type=int, default=None,
                        help="rows of a synthetic set, and the most rows taken from a real "
                             "set (default 3000; 4000 for --suite sensors)")
    parser.add_argument("--configs", nargs="*", default=list(CONFIGS),
                        help=f"AnoRand configurations, or the references {list(REFERENCES)}")
    parser.add_argument("--semi-supervised", action="store_true",
                        help="fit with y_train and semi_supervised=True")
    parser.add_argument("--blocks", action="store_true",
                        help="also score the fused score and each block alone (same fit)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    sets = _suite(args.suite)
    if args.rows is None:
        args.rows = 4000 if args.suite == "sensors" else 3000
    names = [label for label, _ in sets]
    print("| config | " + " | ".join(names) + " | mean |")
    print("|---|" + "---|" * (len(names) + 1))
    for name in args.configs:
        anorand = name not in REFERENCES
        per_set = {}
        for seed in args.seeds:
            for label, load in sets:
                data = load(args.rows, seed)
                # Sensor sets are subsampled to ``rows`` as PROTOCOL.md subsamples large
                # sets; synthetic and scikit-learn sets are never larger.
                X_train, X_test, y_train, y_test = tabular_split(
                    data, seed=seed, max_rows=args.rows
                )
                if anorand:
                    params = dict(epochs=args.epochs, random_state=seed, device="cpu",
                                  semi_supervised=args.semi_supervised)
                    detector = AnoRandDetector(**{**params, **CONFIGS[name]})
                else:
                    detector = make_detector(REFERENCES[name], seed=seed)
                labels = y_train if args.semi_supervised and anorand else None
                result = evaluate(detector, X_train, X_test, y_test, y_train=labels)
                row = [result["auroc"], result["aupr"]]
                if args.blocks and anorand:
                    for score in ("fused", "reconstruction", "noise"):
                        scores = detector.set_params(anomaly_score=score).decision_function(X_test)
                        row += [auroc(y_test, scores), aupr(y_test, scores)]
                per_set.setdefault(label, []).append(row)
        cells = [np.mean(per_set[label], axis=0) for label in names]
        blocks = args.blocks and anorand
        labels = ["default score", "fused (Eq. 8)", "AE block", "ND block"] if blocks else [
            "default score"]
        for i, label in enumerate(labels):
            part = [c[2 * i : 2 * i + 2] for c in cells]
            mean = np.mean(part, axis=0)
            print(f"| {name}: {label} | " + " | ".join(f"{a:.3f} / {p:.3f}" for a, p in part)
                  + f" | **{mean[0]:.3f} / {mean[1]:.3f}** |", flush=True)


if __name__ == "__main__":
    main()
