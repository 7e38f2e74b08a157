"""Ensembles with PyOD: our detectors and PyOD's in one ensemble.

Every skanomaly detector is a PyOD detector (``fit``, ``decision_function``,
``decision_scores_``), so PyOD's ensemble tools take it like any of PyOD's own:

* score combination (:mod:`pyod.models.combination`: average, maximisation, AOM, MOA) of
  standardised scores;
* LSCP (:class:`pyod.models.lscp.LSCP`), which picks, for each test row, the detectors that do
  best on its neighbourhood of training rows;
* SUOD (:class:`pyod.models.suod.SUOD`), which fits many detectors in parallel.

They need ``combo`` and ``suod``, which PyOD does not install: ``pip install
'skanomaly[ensembles]'``. Run it with ``python docs/examples/ensembles_pyod.py``; the test suite
runs ``main(quick=True)``.
"""


def main(*, quick=False):
    n_samples, epochs = (400, 2) if quick else (3000, 20)
    # --8<-- [start:ensembles]
    import numpy as np
    from pyod.models.combination import aom, average, maximization, moa
    from pyod.models.hbos import HBOS
    from pyod.models.iforest import IForest
    from pyod.models.lof import LOF
    from pyod.models.lscp import LSCP
    from pyod.models.suod import SUOD
    from pyod.utils.utility import standardizer
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    from skanomaly.datasets import make_anomalies
    from skanomaly.detectors import AnoRandDetector, DHAGDetector
    from skanomaly.metrics import auroc

    X, y = make_anomalies(n_samples, 8, contamination=0.05, anomaly_type="local", random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

    def detectors():
        return [
            AnoRandDetector(epochs=epochs, random_state=0),
            DHAGDetector(epochs=epochs, random_state=0),
            IForest(random_state=0),
            LOF(n_neighbors=20),
            HBOS(),
        ]

    results = {}
    # 1. Score combination: fit each detector, standardise its scores with the training
    #    scores' mean and std, combine.
    fitted = [detector.fit(X_train) for detector in detectors()]
    train_scores = np.column_stack([d.decision_scores_ for d in fitted])
    test_scores = np.column_stack([d.decision_function(X_test) for d in fitted])
    _, test_z = standardizer(train_scores, test_scores)
    for name, detector in zip(["AnoRand", "DHAG", "IForest", "LOF", "HBOS"], fitted, strict=True):
        results[name] = auroc(y_test, detector.decision_function(X_test))
    results["average"] = auroc(y_test, average(test_z))
    results["maximization"] = auroc(y_test, maximization(test_z))
    results["AOM"] = auroc(y_test, aom(test_z, n_buckets=5, random_state=0))
    results["MOA"] = auroc(y_test, moa(test_z, n_buckets=5, random_state=0))

    # 2. LSCP: locally selective combination over the same detectors (needs combo).
    lscp = LSCP(detectors(), local_region_size=30, random_state=0).fit(X_train)
    results["LSCP"] = auroc(y_test, lscp.decision_function(X_test))

    # 3. SUOD: the detectors fitted in parallel (needs suod); approximation and balanced
    #    scheduling are off, so every detector is the one given.
    suod = SUOD(base_estimators=detectors(), n_jobs=1, combination="average",
                approx_flag_global=False, bps_flag=False, verbose=False).fit(X_train)
    results["SUOD"] = auroc(y_test, suod.decision_function(X_test))
    # --8<-- [end:ensembles]
    for name, value in results.items():
        print(f"{name:>12}: AUROC {value:.3f}")
    return results


if __name__ == "__main__":
    main()
