"""Hand-crafted window anomalies: the baselines of learned injectors such as GenIAS.

Each injector copies random normal windows ``(window, n_channels)`` and distorts one random
segment on a random subset of channels, in the manner of the window-level augmentations of
CARLA (point, contextual, shapelet, seasonal, trend anomalies), NCAD (point outliers) and
CutAddPaste (a cut segment with an added trend, pasted elsewhere). The anomalous time steps
of every generated window are returned as ``point_labels``.

The same segment distortions build the labelled anomalies of
:func:`skanomaly.datasets.make_timeseries_anomalies`, so the synthetic benchmark and the
injectors agree on what each anomaly kind is.
"""

import math
from numbers import Real

import numpy as np
from sklearn.base import clone
from sklearn.utils._param_validation import Interval

from skanomaly._distortions import distort as _distort
from skanomaly.injectors._base import BaseInjector, GeneratedAnomalies

__all__ = [
    "ContextualInjector",
    "CutAddPasteInjector",
    "PointSpikeInjector",
    "RandomChoiceInjector",
    "SeasonalInjector",
    "ShapeletInjector",
    "TrendInjector",
]


def _is_real(value):
    return isinstance(value, Real) and not isinstance(value, bool)


def _check_range(estimator, name, value, *, low, high=math.inf, what, open_low=False):
    """Check that ``value`` is a ``(low, high)`` tuple inside the given bounds."""
    ok = len(value) == 2 and all(_is_real(v) and math.isfinite(v) for v in value)
    if ok:
        first, second = value
        ok = (first > low if open_low else first >= low) and first <= second <= high
    if not ok:
        bounds = f"{low} {'<' if open_low else '<='} low <= high" + (
            f" <= {high}" if math.isfinite(high) else ""
        )
        raise ValueError(
            f"{estimator}: {name} must be (low, high) with {bounds} ({what}); got {value!r}."
        )


# ---------------------------------------------------------------------- injectors
class _WindowInjector(BaseInjector):
    """Shared machinery: copy random windows, distort one segment on random channels.

    2-D input ``(n, d)`` is read as ``n`` univariate windows of length ``d`` (one channel),
    so the injectors also run on tabular-shaped data.
    """

    _kind = None
    _parameter_constraints = {
        **BaseInjector._parameter_constraints,
        "length_range": [tuple],
        "channel_fraction": [Interval(Real, 0, 1, closed="right")],
    }

    def __init__(
        self,
        *,
        length_range=(0.1, 0.5),
        channel_fraction=0.5,
        anomaly_ratio=0.05,
        random_state=None,
    ):
        super().__init__(anomaly_ratio=anomaly_ratio, random_state=random_state)
        self.length_range = length_range
        self.channel_fraction = channel_fraction

    def _distortion_params(self):
        return {}

    def _check_params(self):
        name = type(self).__name__
        _check_range(name, "length_range", self.length_range, low=0.0, high=1.0,
                     what="fractions of the window length", open_low=True)
        if "magnitude" in self._parameter_constraints:
            _check_range(name, "magnitude", self.magnitude, low=0.0,
                         what="channel standard deviations; the sign is drawn at random")
        if "frequency_factors" in self._parameter_constraints:
            factors = self.frequency_factors
            if not (
                len(factors) > 0
                and all(_is_real(f) and math.isfinite(f) and f > 0 for f in factors)
            ):
                raise ValueError(
                    f"{name}: frequency_factors must be a non-empty tuple of positive numbers; "
                    f"got {factors!r}."
                )
        return self.length_range

    def _generate(self, X, n_anomalies, rng):
        low, high = self._check_params()
        windows = X[:, :, None] if X.ndim == 2 else X
        n, window, n_channels = windows.shape
        source = rng.integers(0, n, size=n_anomalies)
        out = windows[source].astype(np.float64)
        labels = np.zeros((n_anomalies, window), dtype=np.int8)
        # float64 statistics: the float32 sum of squares overflows from magnitudes ~1e19 on.
        scale = windows.reshape(-1, n_channels).std(axis=0, dtype=np.float64)
        scale[scale == 0] = 1.0
        max_channels = max(1, math.ceil(self.channel_fraction * n_channels))
        params = self._distortion_params()
        for i in range(n_anomalies):
            kind = self._kind
            if kind == "point":
                length = 1
            else:
                length = int(
                    rng.integers(max(1, round(low * window)), max(1, round(high * window)) + 1)
                )
            start = int(rng.integers(0, window - length + 1))
            channels = np.sort(
                rng.choice(n_channels, rng.integers(1, max_channels + 1), replace=False)
            )
            if kind == "cut_add_paste":
                donor_window = windows[rng.integers(0, n)]
                donor_start = int(rng.integers(0, window - length + 1))
                params["donor"] = donor_window[donor_start : donor_start + length][:, channels]
            _distort(out[i], kind, start, length, channels, scale, rng, **params)
            labels[i, start : start + length] = 1
        return GeneratedAnomalies(out.reshape(n_anomalies, *X.shape[1:]), source, labels)


_COMMON_DOC = """
    Parameters
    ----------{extra}
    length_range : tuple of float, default=(0.1, 0.5)
        Bounds of the segment length, as fractions of the window length.{point_note}
    channel_fraction : float in (0, 1], default=0.5
        At most ``ceil(channel_fraction * n_channels)`` channels are distorted (at least one;
        the number is drawn uniformly).
    anomaly_ratio : float, default=0.05
        Anomalies generated by ``fit_resample`` per normal window.
    random_state : int, RandomState instance or None, default=None
        Seeds the generation.

    Attributes
    ----------
    point_labels_ : ndarray of shape (n_resampled, window)
        After ``fit_resample``: the anomalous time steps of every returned window.
    n_injected_, sample_indices_, is_injected_, n_features_in_, input_shape_
        See :class:`~skanomaly.injectors.BaseInjector`.

    Notes
    -----
    Works on windows ``(n_windows, window, n_channels)``; 2-D data ``(n, d)`` is read as ``n``
    univariate windows of length ``d``. Magnitudes are in units of each channel's standard
    deviation over ``X``.
"""


def _doc(extra="", point_note=""):
    return _COMMON_DOC.format(extra=extra, point_note=point_note)


class PointSpikeInjector(_WindowInjector):
    __doc__ = (
        """Point anomalies: a spike of a few standard deviations at one random time step.
"""
        + _doc(
            extra="""
    magnitude : tuple of float, default=(3.0, 6.0)
        Spike height, in channel standard deviations (random sign).""",
            point_note=" Ignored: a spike lasts one step.",
        )
        + """
    Examples
    --------
    >>> import numpy as np
    >>> from skanomaly.injectors import PointSpikeInjector
    >>> windows = np.zeros((20, 16, 2))
    >>> X_res, y_res = PointSpikeInjector(anomaly_ratio=0.1, random_state=0).fit_resample(windows)
    >>> X_res.shape, int(y_res.sum())
    ((22, 16, 2), 2)
"""
    )

    _kind = "point"
    _parameter_constraints = {**_WindowInjector._parameter_constraints, "magnitude": [tuple]}

    def __init__(
        self,
        *,
        magnitude=(3.0, 6.0),
        length_range=(0.1, 0.5),
        channel_fraction=0.5,
        anomaly_ratio=0.05,
        random_state=None,
    ):
        super().__init__(
            length_range=length_range,
            channel_fraction=channel_fraction,
            anomaly_ratio=anomaly_ratio,
            random_state=random_state,
        )
        self.magnitude = magnitude

    def _distortion_params(self):
        return {"magnitude": self.magnitude}


class ContextualInjector(_WindowInjector):
    __doc__ = (
        """Contextual anomalies: a segment rescaled around its mean and shifted in level.

    Its values may stay within the global range of the series; only the local context is
    broken.
"""
        + _doc(
            extra="""
    magnitude : tuple of float, default=(1.0, 2.0)
        Level shift, in channel standard deviations (random sign)."""
        )
        + """
    Examples
    --------
    >>> import numpy as np
    >>> from skanomaly.injectors import ContextualInjector
    >>> windows = np.sin(np.arange(32) / 3)[None, :, None].repeat(10, axis=0)
    >>> ContextualInjector(random_state=0).generate(windows, 3).shape
    (3, 32, 1)
"""
    )

    _kind = "contextual"
    _parameter_constraints = {**_WindowInjector._parameter_constraints, "magnitude": [tuple]}

    def __init__(
        self,
        *,
        magnitude=(1.0, 2.0),
        length_range=(0.1, 0.5),
        channel_fraction=0.5,
        anomaly_ratio=0.05,
        random_state=None,
    ):
        super().__init__(
            length_range=length_range,
            channel_fraction=channel_fraction,
            anomaly_ratio=anomaly_ratio,
            random_state=random_state,
        )
        self.magnitude = magnitude

    def _distortion_params(self):
        return {"magnitude": self.magnitude}


class SeasonalInjector(_WindowInjector):
    __doc__ = (
        """Seasonal anomalies: a segment replayed at another frequency.
"""
        + _doc(
            extra="""
    frequency_factors : tuple of float, default=(0.5, 2.0)
        The segment is replayed ``f`` times faster, ``f`` drawn from these values."""
        )
        + """
    Examples
    --------
    >>> import numpy as np
    >>> from skanomaly.injectors import SeasonalInjector
    >>> windows = np.sin(np.arange(32) / 3)[None, :, None].repeat(10, axis=0)
    >>> SeasonalInjector(random_state=0).generate(windows, 3).shape
    (3, 32, 1)
"""
    )

    _kind = "seasonal"
    _parameter_constraints = {
        **_WindowInjector._parameter_constraints,
        "frequency_factors": [tuple],
    }

    def __init__(
        self,
        *,
        frequency_factors=(0.5, 2.0),
        length_range=(0.1, 0.5),
        channel_fraction=0.5,
        anomaly_ratio=0.05,
        random_state=None,
    ):
        super().__init__(
            length_range=length_range,
            channel_fraction=channel_fraction,
            anomaly_ratio=anomaly_ratio,
            random_state=random_state,
        )
        self.frequency_factors = frequency_factors

    def _distortion_params(self):
        return {"frequency_factors": self.frequency_factors}


class TrendInjector(_WindowInjector):
    __doc__ = (
        """Trend anomalies: a linear ramp added over a segment.
"""
        + _doc(
            extra="""
    magnitude : tuple of float, default=(2.0, 4.0)
        Height reached at the end of the segment, in channel standard deviations."""
        )
        + """
    Examples
    --------
    >>> import numpy as np
    >>> from skanomaly.injectors import TrendInjector
    >>> windows = np.sin(np.arange(32) / 3)[None, :, None].repeat(10, axis=0)
    >>> TrendInjector(random_state=0).generate(windows, 3).shape
    (3, 32, 1)
"""
    )

    _kind = "trend"
    _parameter_constraints = {**_WindowInjector._parameter_constraints, "magnitude": [tuple]}

    def __init__(
        self,
        *,
        magnitude=(2.0, 4.0),
        length_range=(0.1, 0.5),
        channel_fraction=0.5,
        anomaly_ratio=0.05,
        random_state=None,
    ):
        super().__init__(
            length_range=length_range,
            channel_fraction=channel_fraction,
            anomaly_ratio=anomaly_ratio,
            random_state=random_state,
        )
        self.magnitude = magnitude

    def _distortion_params(self):
        return {"magnitude": self.magnitude}


class ShapeletInjector(_WindowInjector):
    __doc__ = (
        """Shapelet anomalies: a segment's shape replaced by a square wave over its own range.
"""
        + _doc()
        + """
    Examples
    --------
    >>> import numpy as np
    >>> from skanomaly.injectors import ShapeletInjector
    >>> windows = np.sin(np.arange(32) / 3)[None, :, None].repeat(10, axis=0)
    >>> ShapeletInjector(random_state=0).generate(windows, 3).shape
    (3, 32, 1)
"""
    )

    _kind = "shapelet"


class CutAddPasteInjector(_WindowInjector):
    __doc__ = (
        """CutAddPaste anomalies: a segment cut from a random window, plus a random linear
    trend, pasted over a random segment of another window (Wang et al., KDD 2024).
"""
        + _doc(
            extra="""
    magnitude : tuple of float, default=(0.0, 2.0)
        Height of the added trend at the end of the segment, in channel standard deviations."""
        )
        + """
    Examples
    --------
    >>> import numpy as np
    >>> from skanomaly.injectors import CutAddPasteInjector
    >>> windows = np.sin(np.arange(32) / 3)[None, :, None].repeat(10, axis=0)
    >>> CutAddPasteInjector(random_state=0).generate(windows, 3).shape
    (3, 32, 1)
"""
    )

    _kind = "cut_add_paste"
    _parameter_constraints = {**_WindowInjector._parameter_constraints, "magnitude": [tuple]}

    def __init__(
        self,
        *,
        magnitude=(0.0, 2.0),
        length_range=(0.1, 0.5),
        channel_fraction=0.5,
        anomaly_ratio=0.05,
        random_state=None,
    ):
        super().__init__(
            length_range=length_range,
            channel_fraction=channel_fraction,
            anomaly_ratio=anomaly_ratio,
            random_state=random_state,
        )
        self.magnitude = magnitude

    def _distortion_params(self):
        return {"magnitude": self.magnitude}


class RandomChoiceInjector(BaseInjector):
    """Mix injectors: each generated anomaly comes from one injector drawn at random.

    Parameters
    ----------
    injectors : tuple of injectors or None, default=None
        Injectors to draw from; ``None`` uses the six hand-crafted window injectors
        (point spike, contextual, seasonal, trend, shapelet, cut-add-paste) with their
        defaults.
    weights : tuple of float or None, default=None
        Drawing probabilities (normalised); ``None`` draws uniformly.
    anomaly_ratio : float, default=0.05
        Anomalies generated by ``fit_resample`` per normal window.
    random_state : int, RandomState instance or None, default=None
        Seeds the draws and the generation.

    Attributes
    ----------
    point_labels_ : ndarray of shape (n_resampled, window)
        After ``fit_resample``: the anomalous time steps of every returned window.
    n_injected_, sample_indices_, is_injected_, n_features_in_, input_shape_
        See :class:`~skanomaly.injectors.BaseInjector`.

    Examples
    --------
    >>> import numpy as np
    >>> from skanomaly.injectors import RandomChoiceInjector
    >>> windows = np.sin(np.arange(32) / 3)[None, :, None].repeat(40, axis=0)
    >>> injector = RandomChoiceInjector(anomaly_ratio=0.25, random_state=0)
    >>> X_res, y_res = injector.fit_resample(windows)
    >>> X_res.shape, injector.point_labels_.shape
    ((50, 32, 1), (50, 32))
    """

    _parameter_constraints = {
        **BaseInjector._parameter_constraints,
        "injectors": [tuple, None],
        "weights": [tuple, None],
    }

    def __init__(self, *, injectors=None, weights=None, anomaly_ratio=0.05, random_state=None):
        super().__init__(anomaly_ratio=anomaly_ratio, random_state=random_state)
        self.injectors = injectors
        self.weights = weights

    def _members(self):
        if self.injectors is None:
            return [
                PointSpikeInjector(),
                ContextualInjector(),
                SeasonalInjector(),
                TrendInjector(),
                ShapeletInjector(),
                CutAddPasteInjector(),
            ]
        members = [clone(injector) for injector in self.injectors]
        for member in members:
            if not isinstance(member, BaseInjector):
                raise TypeError(
                    f"injectors must be skanomaly injectors; got {type(member).__name__}."
                )
        if not members:
            raise ValueError("injectors must hold at least one injector.")
        return members

    def _probabilities(self, n_members):
        if self.weights is None:
            return np.full(n_members, 1.0 / n_members)
        weights = np.asarray(self.weights, dtype=float)
        if weights.shape != (n_members,) or (weights < 0).any() or weights.sum() <= 0:
            raise ValueError(
                f"weights must be {n_members} non-negative numbers, not all zero; got "
                f"{self.weights!r}."
            )
        return weights / weights.sum()

    def _fit(self, X, rng):
        self.injectors_ = self._members()
        for member in self.injectors_:
            if member._is_learned():
                member.fit(X)

    def _is_learned(self):
        # generate() needs fit only when a member learns (e.g. a GenIAS generator).
        return any(member._is_learned() for member in self._members())

    def _generate(self, X, n_anomalies, rng):
        members = getattr(self, "injectors_", None) or self._members()
        choice = rng.choice(len(members), size=n_anomalies, p=self._probabilities(len(members)))
        parts_X = np.empty((n_anomalies, *X.shape[1:]), dtype=np.float64)
        parts_source = np.empty(n_anomalies, dtype=np.int64)
        window = X.shape[1]
        labels = np.zeros((n_anomalies, window), dtype=np.int8)
        for index, member in enumerate(members):
            rows = np.flatnonzero(choice == index)
            if len(rows) == 0:
                continue
            generated = member._generate(X, len(rows), rng)
            parts_X[rows] = np.asarray(generated.X).reshape(len(rows), *X.shape[1:])
            parts_source[rows] = generated.source_indices
            if generated.point_labels is not None:
                labels[rows] = generated.point_labels
            else:
                labels[rows] = 1  # a whole-sample anomaly
        return GeneratedAnomalies(parts_X, parts_source, labels)
