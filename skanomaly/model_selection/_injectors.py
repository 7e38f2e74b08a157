"""ADBench's four synthetic anomaly types, generated from validation rows (private).

Used by the label-free selection as a second family of injected anomalies beside the noise
injectors: the injected-anomaly validation of Fung et al. (2023) with the anomaly types of
ADBench (Han et al., 2022), which :func:`skanomaly.datasets.make_anomalies` also draws.
"""

import math

import numpy as np
from sklearn.utils._param_validation import StrOptions

from skanomaly.injectors import BaseInjector, GeneratedAnomalies

__all__ = ["_AnomalyTypeInjector"]


class _AnomalyTypeInjector(BaseInjector):
    """Anomalies of one ADBench type, derived from the rows given to ``generate``.

    * ``"global"``: uniform over a box 10% wider than the rows;
    * ``"local"``: a diagonal Gaussian mixture fitted to the rows, sampled with variances
      scaled by 5;
    * ``"cluster"``: the same mixture with its means scaled by 5;
    * ``"dependency"``: every feature drawn from its own marginal (the rows' values), so only
      the dependencies between features are abnormal.
    """

    _parameter_constraints = {
        **BaseInjector._parameter_constraints,
        "kind": [StrOptions({"global", "local", "cluster", "dependency"})],
    }

    def __init__(self, kind="local", *, anomaly_ratio=0.05, random_state=None):
        super().__init__(anomaly_ratio=anomaly_ratio, random_state=random_state)
        self.kind = kind

    def _generate(self, X, n_anomalies, rng):
        Z = X.reshape(len(X), -1).astype(np.float64)
        source = np.full(n_anomalies, -1, dtype=np.int64)
        if self.kind == "global":
            low, high = Z.min(axis=0), Z.max(axis=0)
            pad = 0.1 * (high - low)
            out = rng.uniform(low - pad, high + pad, size=(n_anomalies, Z.shape[1]))
        elif self.kind == "dependency":
            rows = rng.integers(len(Z), size=(n_anomalies, Z.shape[1]))
            out = Z[rows, np.arange(Z.shape[1])]
        else:
            from sklearn.mixture import GaussianMixture

            gmm = GaussianMixture(
                min(5, max(1, len(Z) // 50)),
                covariance_type="diag",
                random_state=int(rng.integers(2**31 - 1)),
            ).fit(Z)
            comp = rng.choice(len(gmm.weights_), size=n_anomalies, p=gmm.weights_)
            means, std = gmm.means_[comp], np.sqrt(gmm.covariances_[comp])
            if self.kind == "local":
                out = means + math.sqrt(5.0) * std * rng.normal(size=means.shape)
            else:
                out = 5.0 * means + std * rng.normal(size=means.shape)
        return GeneratedAnomalies(out.reshape(n_anomalies, *X.shape[1:]), source)


def _anomaly_type_injectors():
    return [_AnomalyTypeInjector(kind) for kind in ("local", "global", "cluster", "dependency")]
