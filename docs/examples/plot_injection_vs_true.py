"""Injected-anomaly score against the true test score, across a grid of detectors.

Every candidate of a small grid (PyOD's KNN, LOF and IForest with a few settings) is fitted
once on the fit part of a training split; its label-free score (AUPR of held-out rows against
anomalies injected into them, :func:`~skanomaly.model_selection.make_injection_scorer`) is
plotted against its true test AUPR, on two synthetic data sets with different anomaly types.
Where the points line up, choosing by the injected-anomaly score chooses well. Run it with
``python docs/examples/plot_injection_vs_true.py`` (writes ``injection_vs_true.png``); the docs
build runs ``main(output=...)`` and the test suite ``main(quick=True, output=...)``.
"""

import matplotlib

matplotlib.use("Agg")


def main(*, quick=False, output="injection_vs_true.png"):
    n_samples = 400 if quick else 2000
    # --8<-- [start:plot]
    import matplotlib.pyplot as plt
    from pyod.models.iforest import IForest
    from pyod.models.knn import KNN
    from pyod.models.lof import LOF
    from scipy.stats import spearmanr
    from sklearn.model_selection import train_test_split

    from skanomaly.datasets import make_anomalies
    from skanomaly.metrics import aupr
    from skanomaly.model_selection import make_injection_scorer

    grid = {
        **{f"KNN k={k}": KNN(n_neighbors=k) for k in (1, 5, 20, 50)},
        **{f"LOF k={k}": LOF(n_neighbors=k) for k in (5, 20, 50)},
        **{f"IForest f={f}": IForest(max_features=f, random_state=0) for f in (0.3, 1.0)},
    }
    scorer = make_injection_scorer()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    rhos = {}
    for ax, kind in zip(axes, ("local", "cluster"), strict=True):
        X, y = make_anomalies(n_samples, 10, anomaly_type=kind, random_state=0)
        X_train, X_test, _, y_test = train_test_split(X, y, test_size=0.3, stratify=y,
                                                      random_state=0)
        X_fit, X_valid = train_test_split(X_train, test_size=0.25, random_state=0)  # no labels
        injected, true = [], []
        for detector in grid.values():
            detector.fit(X_fit)
            injected.append(scorer(detector, X_valid))  # label-free
            true.append(aupr(y_test, detector.decision_function(X_test)))  # evaluation only
        rhos[kind] = spearmanr(injected, true).statistic
        ax.scatter(injected, true, color="tab:blue")
        for name, a, b in zip(grid, injected, true, strict=True):
            ax.annotate(name, (a, b), fontsize=7, xytext=(3, 3), textcoords="offset points")
        ax.set_xlabel("injected-anomaly AUPR (validation, no labels)")
        ax.set_ylabel("true test AUPR")
        ax.set_title(f"{kind} anomalies: Spearman rho {rhos[kind]:.2f}", fontsize=9, loc="left")
    fig.tight_layout()
    fig.savefig(output, dpi=100)
    plt.close(fig)
    # --8<-- [end:plot]
    return rhos


if __name__ == "__main__":
    main()
