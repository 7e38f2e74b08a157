"""TimeSeriesDetector: any window detector on a raw series, one score per time step."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import clone
from sklearn.utils import check_array, get_tags
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data
from sklearn_compat.base import _fit_context

from skanomaly._detector_base import BaseAnomalyDetector
from skanomaly.timeseries._windows import (
    _HOW,
    sliding_windows,
    window_scores_to_points,
    window_start_indices,
)
from skanomaly.utils._validation import _ndim

__all__ = ["TimeSeriesDetector"]


class TimeSeriesDetector(BaseAnomalyDetector):
    """Fit a window detector on a raw series and score every time step.

    The series ``(n_timestamps, n_channels)`` (or ``(n_timestamps,)``, one channel) is cut into
    sliding windows (:func:`~skanomaly.timeseries.sliding_windows`); a clone of ``detector``
    is fitted on them and its window scores are mapped back to one score per time step
    (:func:`~skanomaly.timeseries.window_scores_to_points`). skanomaly's deep detectors
    (:class:`~skanomaly.base.BaseDeepDetector`) receive the windows as a 3-D array
    ``(n_windows, window, n_channels)`` and pick their temporal network; any other detector
    (PyOD's, scikit-learn-style) receives flattened windows ``(n_windows, window *
    n_channels)``, time-major like PyOD's own ``TimeSeriesOD``.

    It is itself a PyOD detector (``decision_scores_``, ``threshold_``, ``labels_``,
    ``predict``, ``predict_proba``) and a scikit-learn estimator (nested parameters such as
    ``detector__n_estimators``), where a *sample* is a time step.

    Parameters
    ----------
    detector : estimator or None, default=None
        Unfitted detector with ``fit`` and ``decision_function`` (higher = more anomalous).
        ``None`` uses PyOD's ``IForest()``. It is cloned in ``fit``.
    window : int, default=100
        Window length in time steps. Series shorter than ``window`` are rejected.
    stride : int, default=1
        Steps between window starts, for fitting and scoring. A last window aligned to the end
        of the series is added when needed, so every step is scored.
    how : {"max", "mean", "last", "center"}, default="max"
        How the scores of the windows covering a step are combined (see
        :func:`~skanomaly.timeseries.window_scores_to_points`).
    contamination : float in (0, 0.5], default=0.1
        Expected share of anomalous time steps in the training series; sets ``threshold_``
        (the ``1 - contamination`` percentile of the training step scores) and so ``predict``.

    Attributes
    ----------
    detector_ : estimator
        The fitted clone of ``detector``.
    decision_scores_ : ndarray of shape (n_timestamps,)
        Scores of the training time steps.
    threshold_ : float
        Score above which ``predict`` returns 1.
    labels_ : ndarray of shape (n_timestamps,)
        0/1 labels of the training time steps.
    n_features_in_ : int
        Number of channels.
    feature_names_in_ : ndarray of str
        Channel names, when the series was a DataFrame with string column names.
    window_scores_ : ndarray of shape (n_windows,)
        Scores of the training windows, before mapping to steps.

    See Also
    --------
    skanomaly.timeseries.sliding_windows : The windows the detector sees.

    Notes
    -----
    A time step's score depends on its neighbours (the windows around it), so scoring a
    sub-series does not give the same scores as scoring the whole series and slicing.
    ``y`` is ignored in ``fit`` (``GridSearchCV`` passes it).

    Examples
    --------
    >>> import numpy as np
    >>> from pyod.models.iforest import IForest
    >>> from skanomaly.timeseries import TimeSeriesDetector
    >>> rng = np.random.default_rng(0)
    >>> series = np.sin(np.arange(600) / 5)[:, None] + 0.05 * rng.normal(size=(600, 1))
    >>> series[400:405] += 3.0
    >>> ts = TimeSeriesDetector(IForest(n_estimators=20, random_state=0), window=20)
    >>> scores = ts.fit(series[:300]).decision_function(series)
    >>> scores.shape, bool(scores[400:405].mean() > np.median(scores))
    ((600,), True)
    """

    _parameter_constraints = {
        "detector": [HasMethods(["fit", "decision_function"]), None],
        "window": [Interval(Integral, 1, None, closed="left")],
        "stride": [Interval(Integral, 1, None, closed="left")],
        "how": [StrOptions(set(_HOW))],
        "contamination": [Interval(Real, 0, 0.5, closed="right")],
    }

    def __init__(self, detector=None, *, window=100, stride=1, how="max", contamination=0.1):
        # Only store (PyOD's __init__ validates at construction, so it is not called).
        self.detector = detector
        self.window = window
        self.stride = stride
        self.how = how
        self.contamination = contamination

    # ------------------------------------------------------------------ helpers
    def _check_series(self, X, *, reset):
        """Validate a raw series into a finite float array ``(n_timestamps, n_channels)``."""
        ndim = _ndim(X)
        if ndim == 1:
            n_channels = getattr(self, "n_features_in_", 1)
            if not reset and n_channels != 1:
                raise ValueError(
                    f"X is a 1-D series (one channel), but {type(self).__name__} was fitted on "
                    f"{n_channels} channels (features). Reshape your data to "
                    f"(n_timestamps, {n_channels})."
                )
            # A univariate series: one channel. check_array first, for its clear messages on
            # NaN, strings and complex values; a Series keeps no column name.
            X = check_array(
                X,
                ensure_2d=False,
                dtype=np.float64,
                ensure_all_finite=True,
                input_name="X",
                ensure_min_samples=1,
            ).reshape(-1, 1)
        elif ndim != 2:
            raise ValueError(
                "TimeSeriesDetector expects a raw series of shape (n_timestamps,) or "
                f"(n_timestamps, n_channels); got an array with {ndim} dimensions. Windows are "
                "cut internally: pass 3-D windows to the inner detector directly."
            )
        X = validate_data(
            self, X, reset=reset, dtype=np.float64, ensure_all_finite=True, ensure_min_samples=1
        )
        if len(X) < self.window:
            raise ValueError(
                f"Found a series of {len(X)} sample(s) (time steps), shorter than "
                f"window={self.window}; pass a longer series or a smaller window."
            )
        return X

    def _windows(self, X):
        windows = sliding_windows(X, self.window, self.stride)
        # Detectors that declare 3-D input (every BaseDeepDetector) take the windows as they
        # are; asking the tag keeps this module free of torch.
        if get_tags(self.detector_).input_tags.three_d_array:
            return windows
        return windows.reshape(len(windows), -1)  # copies: time-major flattened windows

    # ------------------------------------------------------------------ public API
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit a clone of ``detector`` on the windows of the series ``X``.

        Parameters
        ----------
        X : array-like of shape (n_timestamps, n_channels) or (n_timestamps,)
            Training series (ideally normal behaviour). DataFrames keep channel names.
        y : Ignored
            Present for API consistency.

        Returns
        -------
        self : object
            Fitted detector.
        """
        X = self._check_series(X, reset=True)
        if self.detector is None:
            from pyod.models.iforest import IForest

            self.detector_ = IForest()
        else:
            self.detector_ = clone(self.detector)
        windows = self._windows(X)
        self.detector_.fit(windows)
        window_scores = getattr(self.detector_, "decision_scores_", None)
        if window_scores is None or len(window_scores) != len(windows):
            window_scores = self.detector_.decision_function(windows)
        self.window_scores_ = np.asarray(window_scores, dtype=np.float64).ravel()
        self._set_training_scores(
            window_scores_to_points(self.window_scores_, len(X), self.window, self.stride, self.how)
        )
        return self

    def decision_function(self, X):
        """Anomaly score of every time step of the series ``X``; higher = more anomalous.

        Parameters
        ----------
        X : array-like of shape (n_timestamps, n_channels) or (n_timestamps,)
            Series with the training channels, at least ``window`` steps long.

        Returns
        -------
        scores : ndarray of shape (n_timestamps,), dtype float64
        """
        check_is_fitted(self)
        X = self._check_series(X, reset=False)
        window_scores = np.asarray(
            self.detector_.decision_function(self._windows(X)), dtype=np.float64
        ).ravel()
        return window_scores_to_points(window_scores, len(X), self.window, self.stride, self.how)

    def window_starts(self, n_timestamps):
        """Start index of every window cut from a series of ``n_timestamps`` steps.

        Parameters
        ----------
        n_timestamps : int
            Series length.

        Returns
        -------
        starts : ndarray of shape (n_windows,)
        """
        return window_start_indices(n_timestamps, self.window, self.stride)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = self.detector
        if inner is not None and hasattr(inner, "__sklearn_tags__"):
            tags.non_deterministic = inner.__sklearn_tags__().non_deterministic
        return tags
