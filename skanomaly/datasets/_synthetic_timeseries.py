"""Synthetic multivariate series with labelled anomalies (docs, tests, quick benchmarks)."""

from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state

from skanomaly._distortions import distort

__all__ = ["make_timeseries_anomalies"]

_KINDS = ("point", "contextual", "seasonal", "trend", "shapelet")


def make_timeseries_anomalies(
    n_timestamps=2000,
    n_channels=3,
    *,
    n_train=1000,
    n_anomalies=10,
    anomaly_types=_KINDS,
    anomaly_length=(10, 40),
    period=50,
    noise=0.05,
    random_state=None,
):
    """Periodic multivariate series: an anomaly-free train part, a test part with labels.

    Each channel is a sum of two sines (period ``period`` times a channel factor, and its
    second harmonic) with its own amplitude, phase and offset, plus Gaussian noise of standard
    deviation ``noise`` (relative to the amplitude). The test part continues the train part in
    time and carries ``n_anomalies`` non-overlapping anomalies, cycling through
    ``anomaly_types``, each on a random subset of channels:

    * ``"point"``: a spike of 3-6 channel standard deviations at one step;
    * ``"contextual"``: a segment rescaled around its mean and shifted in level (values may
      stay in the global range);
    * ``"seasonal"``: a segment replayed at half or twice its frequency;
    * ``"trend"``: a linear ramp added over a segment;
    * ``"shapelet"``: a segment's shape replaced by a square wave over its own range.

    The distortions are those of the window injectors
    (:class:`~skanomaly.injectors.PointSpikeInjector` and friends).

    Parameters
    ----------
    n_timestamps : int, default=2000
        Length of the test series.
    n_channels : int, default=3
        Channels.
    n_train : int, default=1000
        Length of the anomaly-free train series that precedes the test series (0 for none:
        ``X_train`` is then empty).
    n_anomalies : int, default=10
        Anomalies in the test series; each sits in its own slot of length
        ``n_timestamps // n_anomalies``, so they never overlap.
    anomaly_types : tuple of str, default=("point", "contextual", "seasonal", "trend", \
"shapelet")
        Kinds used, in turn.
    anomaly_length : tuple of int, default=(10, 40)
        Bounds of the segment length of non-point anomalies.
    period : int, default=50
        Base period of the seasonality, in steps.
    noise : float, default=0.05
        Noise standard deviation relative to each channel's amplitude.
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    X_train : ndarray of shape (n_train, n_channels)
        Anomaly-free series.
    X_test : ndarray of shape (n_timestamps, n_channels)
        Series with anomalies.
    y_test : ndarray of shape (n_timestamps,)
        1 for the anomalous time steps, else 0.

    Examples
    --------
    >>> from skanomaly.datasets import make_timeseries_anomalies
    >>> X_train, X_test, y_test = make_timeseries_anomalies(500, 2, n_train=300, n_anomalies=5,
    ...                                                     random_state=0)
    >>> X_train.shape, X_test.shape, y_test.shape, bool(0 < y_test.mean() < 0.3)
    ((300, 2), (500, 2), (500,), True)
    """
    for name, value, minimum in (
        ("n_timestamps", n_timestamps, 1),
        ("n_channels", n_channels, 1),
        ("n_train", n_train, 0),
        ("n_anomalies", n_anomalies, 0),
        ("period", period, 2),
    ):
        if not isinstance(value, Integral) or value < minimum:
            raise ValueError(f"{name} must be an int >= {minimum}; got {value!r}.")
    anomaly_types = tuple(anomaly_types)
    unknown = [kind for kind in anomaly_types if kind not in _KINDS]
    if unknown or not anomaly_types:
        raise ValueError(
            f"anomaly_types must be a non-empty subset of {_KINDS}; got {anomaly_types!r}."
        )
    low, high = anomaly_length
    if not 1 <= low <= high:
        raise ValueError(
            f"anomaly_length must be (low, high) with 1 <= low <= high; got {anomaly_length!r}."
        )
    slot = n_timestamps // max(n_anomalies, 1)
    if n_anomalies and slot < high + 2:
        raise ValueError(
            f"n_timestamps={n_timestamps} leaves slots of {slot} steps for {n_anomalies} "
            f"anomalies of up to {high} steps; lower n_anomalies or anomaly_length."
        )
    random_state = check_random_state(random_state)
    rng = np.random.default_rng(random_state.randint(0, 2**31 - 1))

    t = np.arange(n_train + n_timestamps)[:, None]
    factor = rng.choice([0.5, 1.0, 2.0], size=n_channels)
    amplitude = rng.uniform(0.5, 2.0, size=n_channels)
    phase = rng.uniform(0, 2 * np.pi, size=(2, n_channels))
    offset = rng.normal(size=n_channels)
    base = np.sin(2 * np.pi * t / (period * factor) + phase[0]) + 0.3 * np.sin(
        4 * np.pi * t / (period * factor) + phase[1]
    )
    series = offset + amplitude * (base + noise * rng.normal(size=base.shape))
    X_train, X_test = series[:n_train].copy(), series[n_train:].copy()

    y_test = np.zeros(n_timestamps, dtype=np.int64)
    scale = X_train.std(axis=0) if n_train > 1 else X_test.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    for i in range(n_anomalies):
        kind = anomaly_types[i % len(anomaly_types)]
        length = 1 if kind == "point" else int(rng.integers(low, high + 1))
        start = i * slot + int(rng.integers(1, slot - length))
        n_affected = int(rng.integers(1, n_channels + 1))
        channels = np.sort(rng.choice(n_channels, n_affected, replace=False))
        distort(X_test, kind, start, length, channels, scale, rng)
        y_test[start : start + length] = 1
    return X_train, X_test, y_test
