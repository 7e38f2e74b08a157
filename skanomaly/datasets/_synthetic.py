"""Synthetic tabular data with labelled anomalies (docs, tests and the quick benchmark)."""

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["make_anomalies"]

_KINDS = ("global", "local", "cluster", "dependency")


def make_anomalies(
    n_samples=1000,
    n_features=10,
    *,
    contamination=0.05,
    anomaly_type="global",
    n_clusters=3,
    random_state=None,
):
    """Gaussian-mixture normal data with anomalies of one of ADBench's four synthetic types.

    * ``"global"``: uniform over a box 10% wider than the normal data;
    * ``"local"``: drawn from the normal mixture with covariances scaled by 5;
    * ``"cluster"``: a mixture whose means are shifted by 5 standard deviations;
    * ``"dependency"``: each feature drawn independently from its normal marginal, so only
      the correlations between features are abnormal.

    Parameters
    ----------
    n_samples : int, default=1000
        Total rows.
    n_features : int, default=10
        Columns.
    contamination : float in (0, 0.5], default=0.05
        Share of anomalies.
    anomaly_type : {"global", "local", "cluster", "dependency"}, default="global"
        Kind of anomaly.
    n_clusters : int, default=3
        Components of the normal mixture.
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Rows in random order.
    y : ndarray of shape (n_samples,)
        1 = anomaly, 0 = normal.

    Examples
    --------
    >>> from skanomaly.datasets import make_anomalies
    >>> X, y = make_anomalies(200, 4, contamination=0.1, random_state=0)
    >>> X.shape, int(y.sum())
    ((200, 4), 20)
    """
    if anomaly_type not in _KINDS:
        raise ValueError(f"anomaly_type must be one of {_KINDS}; got {anomaly_type!r}.")
    if not 0 < contamination <= 0.5:
        raise ValueError(f"contamination must be in (0, 0.5]; got {contamination}.")
    if n_samples < 2 or n_features < 1:
        raise ValueError(
            f"Need n_samples >= 2 and n_features >= 1; got {n_samples} and {n_features}."
        )
    rng = check_random_state(random_state)
    n_anomalies = max(1, int(round(contamination * n_samples)))
    n_normal = n_samples - n_anomalies
    means = rng.uniform(-5, 5, size=(n_clusters, n_features))
    # Random covariances with correlated features (so "dependency" anomalies exist).
    factors = rng.normal(size=(n_clusters, n_features, n_features)) / np.sqrt(n_features)
    covariances = factors @ factors.transpose(0, 2, 1) + 0.1 * np.eye(n_features)

    def mixture(n, mean_shift=0.0, scale=1.0):
        component = rng.randint(n_clusters, size=n)
        out = np.empty((n, n_features))
        for k in range(n_clusters):
            rows = component == k
            out[rows] = rng.multivariate_normal(
                means[k] + mean_shift, scale * covariances[k], size=rows.sum()
            )
        return out

    normal = mixture(n_normal)
    if anomaly_type == "global":
        low, high = normal.min(0), normal.max(0)
        margin = 0.1 * (high - low)
        anomalies = rng.uniform(low - margin, high + margin, size=(n_anomalies, n_features))
    elif anomaly_type == "local":
        anomalies = mixture(n_anomalies, scale=5.0)
    elif anomaly_type == "cluster":
        shift = 5.0 * np.sqrt(np.diag(covariances.mean(0)))
        anomalies = mixture(n_anomalies, mean_shift=shift)
    else:
        reference = mixture(n_anomalies)
        anomalies = np.column_stack([rng.permutation(col) for col in reference.T])
    X = np.vstack([normal, anomalies])
    y = np.r_[np.zeros(n_normal, dtype=np.int64), np.ones(n_anomalies, dtype=np.int64)]
    order = rng.permutation(n_samples)
    return X[order], y[order]
