"""The dominant period of a series, from its autocorrelation: what ``window="auto"`` uses.

The method is the one TSB-AD (Liu and Paparrizos, NeurIPS 2024 datasets track) uses to size
the windows of its detectors (``find_length_rank``): the autocorrelation function (computed by
FFT) of the series, its local maxima from lag 3 on, and the lag of the highest one. Ours
differs where TSB-AD's constants do not fit every series:

- every channel counts (TSB-AD reads the first one only): the autocorrelations of the
  standardised channels are averaged, constant channels left out;
- only peaks after the autocorrelation first reaches zero count: before it, the function is
  still decaying from lag 0, and noise on a smooth series makes high local maxima there
  (TSB-AD returns lag 4 for a noisy sine of period 250);
- a peak near ``1/k`` of the highest one's lag and at least 0.9 times as high is the period:
  its multiples peak almost as high, and noise can lift one of them above it;
- lags are searched up to ``min(400, n // 2)`` (TSB-AD: 400 whatever the length), so that a
  period seen at least twice in a short series is still found;
- a peak counts only when its autocorrelation reaches ``max(0.2, 3 / sqrt(n))``: white noise
  has local maxima too (around ``1 / sqrt(n)`` high), and TSB-AD would return the lag of the
  highest of them;
- when no period is found, :func:`find_period` returns ``None`` and the caller chooses the
  fallback (``TimeSeriesDetector`` uses 100 steps, at most half the series).
"""

import math

import numpy as np

__all__ = ["find_period"]

# TSB-AD's bounds: lags below 3 are the series' own smoothness, not a period, and periods
# above 300 make windows too long for most detectors.
_MIN_PERIOD = 3
_MAX_PERIOD = 300
_MAX_LAG = 400
# Weakest autocorrelation peak taken for a period; see the module docstring.
_MIN_PEAK = 0.2
# A peak within this factor of the highest one is as good a period; the shortest wins.
_NEAR_HIGHEST = 0.9


def _autocorrelation(X, n_lags):
    """Mean over the non-constant channels of the biased sample autocorrelation, lags
    ``0..n_lags``; ``None`` when every channel is constant."""
    X = X - X.mean(axis=0)
    scale = X.std(axis=0)
    varying = scale > 1e-12 * np.maximum(1.0, np.abs(X).max(axis=0))
    if not varying.any():
        return None
    X = X[:, varying] / scale[varying]
    n = len(X)
    # Zero-padding to >= 2n makes the circular correlation of the FFT a linear one.
    size = 1 << (2 * n - 1).bit_length()
    spectrum = np.fft.rfft(X, n=size, axis=0)
    acov = np.fft.irfft(spectrum * spectrum.conj(), n=size, axis=0)[: n_lags + 1]
    # Dividing every lag by the same n (the "biased" estimator, as statsmodels' acf) shrinks
    # long lags: of a period's multiples, the fundamental wins.
    return (acov / acov[0]).mean(axis=1)


def find_period(X, *, max_period=_MAX_PERIOD):
    """Dominant period of a series from its autocorrelation, or ``None`` when it has none.

    The highest local maximum of the autocorrelation function (mean over the channels,
    each standardised) between lag 3 and ``min(max_period, n_timestamps // 2)``, after the
    first lag where it reaches zero, as TSB-AD's ``find_length`` chooses the window of its
    detectors. A peak below ``max(0.2, 3 /
    sqrt(n_timestamps))`` is not a period (white noise has such peaks), nor is a maximum at
    the end of the searched lags. A peak near an integer fraction of the highest one's lag and
    at least 0.9 times as high is preferred: multiples of the period peak almost as high.

    Parameters
    ----------
    X : array-like of shape (n_timestamps,) or (n_timestamps, n_channels)
        The series, finite. Trends are not removed: a strong trend hides a period.
    max_period : int, default=300
        Longest period looked for (TSB-AD's bound).

    Returns
    -------
    period : int or None
        Period in time steps, at least 3; ``None`` when no peak is strong enough, when the
        autocorrelation never reaches zero (a trend, a random walk), when every channel is
        constant, or when the series is too short (fewer than 8 steps).

    See Also
    --------
    skanomaly.timeseries.TimeSeriesDetector : ``window="auto"`` uses this period.

    Examples
    --------
    >>> import numpy as np
    >>> from skanomaly.timeseries import find_period
    >>> t = np.arange(2000)
    >>> find_period(np.sin(2 * np.pi * t / 48))
    48
    >>> print(find_period(np.random.default_rng(0).normal(size=2000)))
    None
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError(
            f"find_period expects a series of shape (n_timestamps,) or (n_timestamps, "
            f"n_channels); got an array with {X.ndim} dimensions."
        )
    if not np.isfinite(X).all():
        raise ValueError("find_period: the series contains NaN or infinite values.")
    n = len(X)
    n_lags = min(_MAX_LAG, n // 2, int(max_period) + 1)
    if n < 8 or n_lags < _MIN_PERIOD + 1:
        return None
    acf = _autocorrelation(X, n_lags)
    if acf is None:
        return None
    # Only peaks after the first zero crossing: before it the autocorrelation is still
    # decaying from lag 0, and noise on a smooth series makes high local maxima there.
    negative = np.flatnonzero(acf <= 0)
    if not len(negative):
        return None
    inner = acf[1:-1]
    peaks = np.flatnonzero((inner > acf[:-2]) & (inner > acf[2:])) + 1
    peaks = peaks[(peaks >= max(_MIN_PERIOD, negative[0])) & (peaks <= max_period)]
    if not len(peaks):
        return None
    highest = acf[peaks].max()
    if highest < max(_MIN_PEAK, 3 / math.sqrt(n)):
        return None
    # The multiples of a period peak almost as high; noise can lift one of them above the
    # fundamental, so the first peak close to the highest is the period.
    return int(peaks[np.flatnonzero(acf[peaks] >= _NEAR_HIGHEST * highest)[0]])
