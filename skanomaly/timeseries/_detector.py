"""TimeSeriesDetector: any window detector on a raw series, one score per time step."""

import contextvars
import functools
import math
from numbers import Integral, Real

import numpy as np
from sklearn import get_config
from sklearn.base import clone
from sklearn.utils import check_array, get_tags
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data
from sklearn_compat.base import _fit_context

from skanomaly._detector_base import BaseAnomalyDetector
from skanomaly.timeseries._period import find_period
from skanomaly.timeseries._windows import (
    _HOW,
    _regular_windows,
    _window_chunks,
    sliding_windows,
    window_scores_to_points,
    window_start_indices,
)
from skanomaly.utils._validation import _ndim, naming

__all__ = ["TimeSeriesDetector"]

# Set while a method of TimeSeriesDetector runs for a pandas input, so that the methods PyOD
# implements on top of decision_function (predict, predict_proba, ...) get plain arrays.
_ARRAYS_INSIDE = contextvars.ContextVar("skanomaly_timeseries_arrays_inside", default=False)

# window="auto" without a period: TSB-AD's protocol window (and this class's former default),
# at most half the series so that the detector sees several windows.
_FALLBACK_WINDOW = 100

# One chunk of flattened float64 windows takes at most this share of scikit-learn's
# working_memory when scoring; the inner detector's own copies of the chunk (PyOD's IForest
# converts it to float32, for instance) come on top of it.
_SCORE_CHUNK_SHARE = 8


def _pandas_index(X):
    """The index of a pandas DataFrame or Series, else None (pandas is not imported)."""
    if type(X).__module__.partition(".")[0] == "pandas" and hasattr(X, "index"):
        return X.index
    return None


def _with_index(result, index, name):
    """Wrap per-step outputs in pandas objects carrying ``index``."""
    import pandas as pd

    if isinstance(result, tuple):
        return tuple(_with_index(part, index, name) for part in result)
    result = np.asarray(result)
    if result.ndim == 2:
        return pd.DataFrame(result, index=index)
    return pd.Series(result, index=index, name=name)


def _keeps_index(method):
    """Return pandas objects indexed like ``X`` when ``X`` is a pandas object."""

    @functools.wraps(method)
    def wrapper(self, X, *args, **kwargs):
        index = _pandas_index(X)
        if index is None or _ARRAYS_INSIDE.get():
            return method(self, X, *args, **kwargs)
        token = _ARRAYS_INSIDE.set(True)
        try:
            result = method(self, X, *args, **kwargs)
        finally:
            _ARRAYS_INSIDE.reset(token)
        return _with_index(result, index, method.__name__)

    return wrapper


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
    window : int or "auto", default=100
        Window length in time steps. Series shorter than the window are rejected.
        ``"auto"``: the dominant period of the training series
        (:func:`~skanomaly.timeseries.find_period`, the autocorrelation method of TSB-AD's
        ``find_length``), at least ``stride``; when the series shows no period (noise, a
        trend, fewer than 8 steps) the fallback is 100 steps, at most half the series. The
        length used is ``window_``; the parameter stays ``"auto"``, so ``clone`` and
        ``GridSearchCV`` (``param_grid={"window": ["auto", 50, 100]}``) work as usual.
    stride : int, default=1
        Steps between window starts, for fitting and scoring. A last window aligned to the end
        of the series is added when needed, so every step is scored.
    how : {"max", "mean", "last", "center"}, default="max"
        How the scores of the windows covering a step are combined (see
        :func:`~skanomaly.timeseries.window_scores_to_points`).
    contamination : float in (0, 0.5], default=0.1
        Expected share of anomalous time steps in the training series; sets ``threshold_``
        (the ``1 - contamination`` percentile of the training step scores) and so ``predict``.
    max_fit_windows : int, "auto" or None, default="auto"
        Most windows the inner detector is fitted on, which bounds the memory of ``fit`` (a
        PyOD detector needs all its training rows at once). ``"auto"``: as many as fit in
        scikit-learn's ``working_memory`` (:func:`sklearn.set_config`, 1024 MiB by default)
        once flattened to float64, e.g. 1,342,177 windows of 100 steps x 1 channel or 26,843
        of 500 steps x 10 channels. ``None``: every window, however much memory that takes.
        A series with more windows is fitted on every ``k``-th window (the smallest ``k``
        that fits), spread evenly over the whole series; the training scores
        (``decision_scores_``) still cover every window. Series within the budget are fitted
        on every window, as without a bound.

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
    window_ : int
        Window length used: ``window``, or the length ``window="auto"`` chose.
    n_features_in_ : int
        Number of channels.
    feature_names_in_ : ndarray of str
        Channel names, when the series was a DataFrame with string column names.
    window_scores_ : ndarray of shape (n_windows,)
        Scores of the training windows, before mapping to steps.
    n_fit_windows_ : int
        Number of windows the inner detector was fitted on (all of them unless
        ``max_fit_windows`` bounded it).

    See Also
    --------
    skanomaly.timeseries.sliding_windows : The windows the detector sees.

    Notes
    -----
    A time step's score depends on its neighbours (the windows around it), so scoring a
    sub-series does not give the same scores as scoring the whole series and slicing.
    ``y`` is ignored in ``fit`` (``GridSearchCV`` passes it).

    **pandas in, pandas out.** When ``X`` is a pandas DataFrame or Series (say with a
    ``DatetimeIndex``), ``decision_function``, ``score_samples``, ``predict`` and
    ``predict_confidence`` return a :class:`pandas.Series` with the index of ``X`` (named
    after the method) and ``predict_proba`` a :class:`pandas.DataFrame` (columns 0 and 1):
    a score belongs to a time step, and the index says which. Arrays in give arrays out, as
    in scikit-learn and PyOD (scikit-learn's ``set_output`` only covers ``transform``; its
    estimators return arrays from ``decision_function`` whatever the input). Fitted
    attributes (``decision_scores_``, ``labels_``) are arrays.

    **Memory.** Windows are never materialised for the whole series: scoring walks the
    series in chunks of windows (zero-copy views, each at most an eighth of
    ``working_memory`` once flattened; flattening is a view too for a C-contiguous series,
    else a copy of one chunk), and the mapping to time steps works in blocks.
    Besides the series itself and one float64 score per window and per step, scoring holds
    O(chunk) memory, and ``fit`` adds the windows it trains on (see ``max_fit_windows``).
    Scores do not depend on the chunking: detectors score windows independently.

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

    A series with a time index gives scores with that index:

    >>> import pandas as pd
    >>> frame = pd.DataFrame(series, index=pd.date_range("2026-01-01", periods=600, freq="h"))
    >>> ts.decision_function(frame).index.equals(frame.index)
    True
    """

    _parameter_constraints = {
        "detector": [HasMethods(["fit", "decision_function"]), None],
        "window": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "stride": [Interval(Integral, 1, None, closed="left")],
        "how": [StrOptions(set(_HOW))],
        "contamination": [Interval(Real, 0, 0.5, closed="right")],
        "max_fit_windows": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"}), None],
    }

    def __init__(
        self,
        detector=None,
        *,
        window=100,
        stride=1,
        how="max",
        contamination=0.1,
        max_fit_windows="auto",
    ):
        # Only store (PyOD's __init__ validates at construction, so it is not called).
        self.detector = detector
        self.window = window
        self.stride = stride
        self.how = how
        self.contamination = contamination
        self.max_fit_windows = max_fit_windows

    # ------------------------------------------------------------------ helpers
    def _check_series(self, X, *, reset):
        """Validate a raw series into a finite float array ``(n_timestamps, n_channels)``."""
        with naming(self):  # every message names the estimator
            return self._check_series_unnamed(X, reset=reset)

    def _check_series_unnamed(self, X, *, reset):
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
        if reset:
            self.window_ = self._resolve_window(X)
        if len(X) < self.window_:
            auto = f" (window='auto' chose {self.window_})" if self.window == "auto" else ""
            raise ValueError(
                f"Found a series of {len(X)} sample(s) (time steps), shorter than "
                f"window={self.window_}{auto}; pass a longer series or a smaller window."
            )
        return X

    def _resolve_window(self, X):
        """The window length of ``fit``: ``window``, or the period of ``X`` for "auto"."""
        if self.window != "auto":
            return self.window
        period = find_period(X)
        if period is None:
            period = min(_FALLBACK_WINDOW, max(1, len(X) // 2))
        # Never below the stride: steps between windows would be covered by none.
        return max(period, self.stride)

    def _takes_windows(self):
        """Whether the inner detector gets 3-D windows (ours) or flattened ones (PyOD's)."""
        # Detectors that declare 3-D input (every BaseDeepDetector) take the windows as they
        # are; asking the tag keeps this module free of torch.
        return get_tags(self.detector_).input_tags.three_d_array

    def _as_input(self, windows):
        """Windows as the inner detector takes them; flattening is time-major (a view when
        the windows are contiguous in the series, else a copy)."""
        if self._takes_windows():
            return windows
        return windows.reshape(len(windows), -1)

    def _window_bytes(self, X):
        """Bytes of one window flattened to float64, the unit of the memory budgets."""
        return self.window_ * X.shape[1] * np.dtype(np.float64).itemsize

    def _n_fit_windows(self, n_windows, window_bytes):
        """How many windows ``fit`` trains the inner detector on (see ``max_fit_windows``)."""
        if self.max_fit_windows is None:
            return n_windows
        if self.max_fit_windows == "auto":
            budget = get_config()["working_memory"] * 2**20
            return min(n_windows, max(1, int(budget // window_bytes)))
        return min(n_windows, self.max_fit_windows)

    def _score_windows(self, X):
        """Window scores of the series ``X``, chunk by chunk: memory O(chunk), not O(series)."""
        starts = window_start_indices(len(X), self.window_, self.stride)
        budget = get_config()["working_memory"] * 2**20 / _SCORE_CHUNK_SHARE
        chunk = max(1, int(budget // self._window_bytes(X)))
        scores = np.empty(len(starts))
        for first, windows in _window_chunks(X, self.window_, self.stride, chunk):
            chunk_scores = np.asarray(
                self.detector_.decision_function(self._as_input(windows)), dtype=np.float64
            ).ravel()
            if len(chunk_scores) != len(windows):
                raise ValueError(
                    f"{type(self.detector_).__name__}.decision_function returned "
                    f"{len(chunk_scores)} scores for {len(windows)} windows."
                )
            scores[first : first + len(windows)] = chunk_scores
        return scores

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
        windows, starts = _regular_windows(X, self.window_, self.stride)
        n_windows = len(starts)
        self.n_fit_windows_ = self._n_fit_windows(n_windows, self._window_bytes(X))
        if self.n_fit_windows_ == n_windows:
            # Every window, exactly as an unbounded fit would see them.
            fit_windows = self._as_input(sliding_windows(X, self.window_, self.stride))
        else:
            # Every step-th window: evenly spread over the whole series, a strided view.
            step = math.ceil(n_windows / self.n_fit_windows_)
            fit_windows = self._as_input(windows[::step])
            self.n_fit_windows_ = len(fit_windows)
        self.detector_.fit(fit_windows)
        window_scores = getattr(self.detector_, "decision_scores_", None)
        del fit_windows, windows  # scoring below works chunk by chunk
        if window_scores is None or len(window_scores) != n_windows:
            window_scores = self._score_windows(X)
        self.window_scores_ = np.asarray(window_scores, dtype=np.float64).ravel()
        self._set_training_scores(
            window_scores_to_points(self.window_scores_, len(X), self.window_, self.stride, self.how)
        )
        return self

    @_keeps_index
    def decision_function(self, X):
        """Anomaly score of every time step of the series ``X``; higher = more anomalous.

        Parameters
        ----------
        X : array-like of shape (n_timestamps, n_channels) or (n_timestamps,)
            Series with the training channels, at least ``window`` steps long.

        Returns
        -------
        scores : ndarray of shape (n_timestamps,), dtype float64
            A :class:`pandas.Series` with the index of ``X`` when ``X`` is a pandas
            DataFrame or Series.
        """
        check_is_fitted(self)
        X = self._check_series(X, reset=False)
        return window_scores_to_points(
            self._score_windows(X), len(X), self.window_, self.stride, self.how
        )

    # PyOD's and the base's methods on top of decision_function, made to keep a pandas index.
    score_samples = _keeps_index(BaseAnomalyDetector.score_samples)
    predict = _keeps_index(BaseAnomalyDetector.predict)
    predict_proba = _keeps_index(BaseAnomalyDetector.predict_proba)
    predict_confidence = _keeps_index(BaseAnomalyDetector.predict_confidence)

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
        if self.window == "auto":
            check_is_fitted(self, "window_")
        window = self.window_ if self.window == "auto" else self.window
        return window_start_indices(n_timestamps, window, self.stride)

    def __setstate__(self, state):
        # Pickles written before window="auto" existed have no window_: it was window.
        if "detector_" in state and "window_" not in state:
            state = {**state, "window_": state.get("window")}
        super().__setstate__(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = self.detector
        if inner is not None and hasattr(inner, "__sklearn_tags__"):
            tags.non_deterministic = inner.__sklearn_tags__().non_deterministic
        return tags
