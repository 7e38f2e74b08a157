"""Tuning and choosing detectors without labels: injected-anomaly validation.

``GridSearchCV`` searches AnoRand's ``w`` and its injector's ``noise_level`` with **no y**:
:func:`skanomaly.model_selection.make_injection_scorer` scores each candidate by how well it
ranks anomalies injected into the validation fold above the fold's own rows. Then
:class:`skanomaly.model_selection.DetectorSelector` chooses among different detectors (ours and
PyOD's) the same way and refits the winner. The labels of the synthetic data are used at the
very end only, to show how the label-free choices fare on a test split. Run it with
``python docs/examples/tuning_without_labels.py``; the test suite runs ``main(quick=True)``.
"""


def main(*, quick=False):
    n_samples, epochs = (300, 2) if quick else (2000, 20)
    # --8<-- [start:search]
    from sklearn.model_selection import GridSearchCV, KFold, train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skanomaly.datasets import make_anomalies
    from skanomaly.detectors import AnoRandDetector
    from skanomaly.injectors import SMOTENoiseInjector
    from skanomaly.model_selection import make_injection_scorer

    X, y = make_anomalies(n_samples, 8, contamination=0.05, anomaly_type="local",
                          random_state=0)
    X_train, X_test, _, y_test = train_test_split(X, y, test_size=0.3, stratify=y,
                                                  random_state=0)  # y_train is never used

    pipe = make_pipeline(
        StandardScaler(),
        AnoRandDetector(injector=SMOTENoiseInjector(), anomaly_score="fused",
                        epochs=epochs, random_state=0),
    )
    param_grid = {
        "anoranddetector__w": [0.2, 0.8],
        "anoranddetector__injector__noise_level": [1.0, 3.0],
    }
    search = GridSearchCV(
        pipe,
        param_grid,
        scoring=make_injection_scorer(),  # no labels: injected anomalies in each fold
        cv=KFold(3, shuffle=True, random_state=0),
    )
    search.fit(X_train)  # no y
    print("label-free choice:", search.best_params_)
    for params, score in zip(search.cv_results_["params"],
                             search.cv_results_["mean_test_score"], strict=True):
        print(f"  {params}: injected-anomaly AUPR {score:.3f}")
    # --8<-- [end:search]

    # --8<-- [start:selector]
    from pyod.models.ecod import ECOD
    from pyod.models.iforest import IForest
    from pyod.models.knn import KNN

    from skanomaly.metrics import aupr
    from skanomaly.model_selection import DetectorSelector

    selector = DetectorSelector(
        [
            ("IForest", IForest(random_state=0)),
            ("KNN", KNN()),
            ("ECOD", ECOD()),
            ("AnoRand", make_pipeline(StandardScaler(),
                                      AnoRandDetector(epochs=epochs, random_state=0))),
        ],
        random_state=0,
    ).fit(X_train)  # no y
    # The four candidates, then "ensemble": the average of their standardised scores, built
    # from the same fits (ensemble=None leaves it out).
    print("candidates:", selector.names_)
    print("selector's choice:", selector.best_name_)
    # The labels, for the first time: evaluate the two label-free choices on the test split.
    results = {
        "grid search test AUPR": aupr(y_test, search.decision_function(X_test)),
        "selector test AUPR": aupr(y_test, selector.decision_function(X_test)),
    }
    # --8<-- [end:selector]
    for name, value in results.items():
        print(f"{name}: {value:.3f}")
    return results


if __name__ == "__main__":
    main()
