"""Baselines of the time-series suite that are neither skanomaly's nor PyOD's.

``MatrixProfileAB``: the matrix profile of the test series joined against the training series
(an *AB-join*, computed by ``stumpy``, the ``[bench]`` extra). PyOD's ``MatrixProfile`` is
transductive (it scores only the series it was fitted on), which the protocol's
fit-on-train, score-the-test split cannot use; the AB-join is the matrix profile's form for
that split: a test subsequence's score is its z-normalised distance to the nearest training
subsequence (a discord of the test part is far from everything seen in training).
"""

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_array, check_is_fitted

from skanomaly.timeseries import window_scores_to_points

__all__ = ["MatrixProfileAB"]


class MatrixProfileAB(BaseEstimator):
    """Matrix-profile discord score of each test step against the training series.

    Parameters
    ----------
    window : int, default=100
        Subsequence length.
    how : {"max", "mean", "last", "center"}, default="max"
        How the scores of the subsequences covering a step are combined.

    Notes
    -----
    Each channel is joined separately (``stumpy.stump(test, window, train,
    ignore_trivial=False)``) and a subsequence's score is the maximum over the channels, as
    PyOD's ``MatrixProfile(channel_aggregation="max")``. ``fit`` only stores the training
    series: the cost is in ``decision_function`` (O(n_test x n_train) per channel).
    Deterministic: ``random_state`` does not exist.
    """

    def __init__(self, window=100, how="max"):
        self.window = window
        self.how = how

    def fit(self, X, y=None):
        X = check_array(X, ensure_2d=False, dtype=np.float64)
        self.train_ = X.reshape(len(X), -1)
        if len(self.train_) < self.window:
            raise ValueError(
                f"MatrixProfileAB: the training series ({len(X)} steps) is shorter than "
                f"window={self.window}."
            )
        self.n_features_in_ = self.train_.shape[1]
        return self

    def decision_function(self, X):
        check_is_fitted(self)
        try:
            import stumpy
        except ImportError as exc:
            raise ImportError(
                "MatrixProfileAB needs stumpy: pip install 'skanomaly[bench]'."
            ) from exc
        X = check_array(X, ensure_2d=False, dtype=np.float64)
        X = X.reshape(len(X), -1)
        if X.shape[1] != self.n_features_in_ or len(X) < self.window:
            raise ValueError(
                f"MatrixProfileAB: expected a series of {self.n_features_in_} channel(s) and "
                f"at least {self.window} steps; got shape {X.shape}."
            )
        scores = np.full(len(X) - self.window + 1, -np.inf)
        for channel in range(X.shape[1]):
            profile = stumpy.stump(
                X[:, channel], self.window, self.train_[:, channel], ignore_trivial=False
            )[:, 0].astype(np.float64)
            # A constant subsequence has no z-normalised shape: stumpy gives inf or NaN.
            finite = np.isfinite(profile)
            fill = profile[finite].max() if finite.any() else 0.0
            scores = np.maximum(scores, np.where(finite, profile, fill))
        return window_scores_to_points(scores, len(X), self.window, 1, self.how)
