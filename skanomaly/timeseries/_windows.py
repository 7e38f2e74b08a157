"""Sliding windows over a raw series and the mapping of window scores back to time steps.

Both directions are vectorised: windows are a strided view of the series (no copy), and
window scores reach the time steps through O(T) running filters, never a Python loop over
windows.
"""

from numbers import Integral

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.ndimage import maximum_filter1d

__all__ = ["sliding_windows", "window_scores_to_points", "window_start_indices"]

_HOW = ("max", "mean", "last", "center")
# Time steps mapped per block by window_scores_to_points: its temporaries stay O(block).
_POINT_BLOCK = 1 << 18


def _check_window_args(n_timestamps, window, stride):
    for name, value in (("window", window), ("stride", stride)):
        if not isinstance(value, Integral) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int; got {value!r}.")
    if stride > window:
        raise ValueError(
            f"stride={stride} is larger than window={window}: steps between windows would "
            "be covered by no window. Use stride <= window."
        )
    if n_timestamps < window:
        raise ValueError(
            f"Found a series of {n_timestamps} sample(s) (time steps), shorter than "
            f"window={window}; pass a longer series or a smaller window."
        )


def window_start_indices(n_timestamps, window, stride=1):
    """Start index of every window of :func:`sliding_windows`.

    Windows start every ``stride`` steps from 0; when ``stride`` does not divide
    ``n_timestamps - window``, one more window aligned to the end of the series is added,
    so that every time step is covered.

    Parameters
    ----------
    n_timestamps : int
        Length of the series.
    window : int
        Window length.
    stride : int, default=1
        Steps between consecutive window starts.

    Returns
    -------
    starts : ndarray of shape (n_windows,), dtype int64
        Strictly increasing; the last one is ``n_timestamps - window``.

    Examples
    --------
    >>> from skanomaly.timeseries import window_start_indices
    >>> window_start_indices(10, 4, stride=3)
    array([0, 3, 6])
    >>> window_start_indices(11, 4, stride=3)
    array([0, 3, 6, 7])
    """
    _check_window_args(n_timestamps, window, stride)
    last = n_timestamps - window
    starts = np.arange(0, last + 1, stride, dtype=np.int64)
    if starts[-1] != last:
        starts = np.append(starts, last)
    return starts


def sliding_windows(X, window, stride=1):
    """Windows of a series ``(T,)`` or ``(T, D)`` as an array ``(n_windows, window, D)``.

    Windows start every ``stride`` steps; the last window is aligned to the end of the series
    so that every time step belongs to at least one window (see
    :func:`window_start_indices`).

    **Memory.** When ``stride`` divides ``T - window`` (always with ``stride=1``), the result
    is a read-only, zero-copy strided view of ``X``: windowing a series of any length costs
    no memory. Otherwise the end-aligned extra window breaks the constant stride between
    windows, which no strided view can express; the result is then a new array holding the
    regular windows followed by the one extra window (its size is that of the windows, not of
    the series). Write a copy (``np.array(windows)``) before modifying windows in place.

    Parameters
    ----------
    X : array-like of shape (n_timestamps,) or (n_timestamps, n_channels)
        The series; a 1-D series is one channel.
    window : int
        Window length (``<= n_timestamps``).
    stride : int, default=1
        Steps between consecutive window starts.

    Returns
    -------
    windows : ndarray of shape (n_windows, window, n_channels)
        ``windows[i] == X[starts[i] : starts[i] + window]``.

    Examples
    --------
    >>> import numpy as np
    >>> from skanomaly.timeseries import sliding_windows
    >>> X = np.arange(12.0).reshape(6, 2)
    >>> W = sliding_windows(X, 3)
    >>> W.shape, np.shares_memory(W, X)
    ((4, 3, 2), True)
    >>> sliding_windows(np.arange(7.0), 3, stride=3)[:, :, 0]
    array([[0., 1., 2.],
           [3., 4., 5.],
           [4., 5., 6.]])
    """
    X = np.asarray(X)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError(
            "Expected a series of shape (n_timestamps,) or (n_timestamps, n_channels); got an "
            f"array with {X.ndim} dimensions."
        )
    view, starts = _regular_windows(X, window, stride)
    if len(view) == len(starts):
        return view
    return np.concatenate([view, X[None, starts[-1] :]], axis=0)


def _regular_windows(X, window, stride):
    """The strided view of the windows starting every ``stride`` steps, and all starts.

    The view holds every window but the end-aligned extra one, when there is one (it is
    ``X[starts[-1]:]``). ``X`` is a 2-D series.
    """
    starts = window_start_indices(len(X), window, stride)
    # (T - window + 1, D, window) -> every stride-th window -> (n, window, D); all views.
    view = sliding_window_view(X, window, axis=0)[::stride].transpose(0, 2, 1)
    return view, starts


def _window_chunks(X, window, stride, chunk_size):
    """Yield ``(first, windows)``: the windows of :func:`sliding_windows` in chunks.

    Each chunk holds at most ``chunk_size`` windows, ``windows[i]`` being window
    ``first + i``. Chunks are zero-copy views, except the one holding the end-aligned extra
    window (a copy of that chunk only), so walking a series of any length costs O(chunk).
    """
    view, starts = _regular_windows(X, window, stride)
    n_regular = len(view)
    for first in range(0, len(starts), chunk_size):
        stop = min(first + chunk_size, len(starts))
        if stop <= n_regular:
            yield first, view[first:stop]
        else:
            yield first, np.concatenate([view[first:n_regular], X[None, starts[-1] :]])


def window_scores_to_points(scores, n_timestamps, window, stride=1, how="max"):
    """Turn one score per window into one score per time step.

    Each time step gets an aggregate of the windows that cover it (windows as laid out by
    :func:`sliding_windows`); every step is covered by at least one window, so no step is
    padded with zeros or left undefined.

    Parameters
    ----------
    scores : array-like of shape (n_windows,)
        One score per window, in window order.
    n_timestamps : int
        Length of the series the windows were cut from.
    window : int
        Window length.
    stride : int, default=1
        Steps between window starts.
    how : {"max", "mean", "last", "center"}, default="max"
        ``"max"`` / ``"mean"``: maximum / mean over the covering windows. ``"last"``: the
        score of the window that ends at the step (the earliest covering window: the step is
        its last step with ``stride=1``; steps before the first window's end take the first
        window). ``"center"``: the covering window whose centre is closest to the step (ties:
        the earlier window).

    Returns
    -------
    point_scores : ndarray of shape (n_timestamps,), dtype float64

    Notes
    -----
    Window ``i`` covers step ``t`` when ``starts[i] <= t < starts[i] + window``. The windows
    covering ``t`` are those starting in ``(t - window, t]``. Scattering each window's score to
    its start position turns ``"max"`` into a running maximum of length ``window``
    (:func:`scipy.ndimage.maximum_filter1d`, O(T)) and ``"mean"`` into differences of
    cumulative sums; ``"last"`` and ``"center"`` are index look-ups with
    :func:`numpy.searchsorted`. Steps are mapped in blocks of 262,144, so the memory used
    besides ``scores`` and the result is O(block + window), whatever the series length.

    Examples
    --------
    >>> from skanomaly.timeseries import window_scores_to_points
    >>> window_scores_to_points([1.0, 5.0, 2.0], n_timestamps=5, window=3)
    array([1., 5., 5., 5., 2.])
    >>> window_scores_to_points([1.0, 5.0, 2.0], n_timestamps=5, window=3, how="mean")
    array([1.        , 3.        , 2.66666667, 3.5       , 2.        ])
    >>> window_scores_to_points([1.0, 5.0, 2.0], n_timestamps=5, window=3, how="last")
    array([1., 1., 1., 5., 2.])
    """
    if how not in _HOW:
        raise ValueError(f"how must be one of {_HOW}; got {how!r}.")
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 1:
        raise ValueError(f"scores must be 1-D (one per window); got shape {scores.shape}.")
    starts = window_start_indices(n_timestamps, window, stride)
    if len(scores) != len(starts):
        raise ValueError(
            f"Expected {len(starts)} window scores for n_timestamps={n_timestamps}, "
            f"window={window}, stride={stride}; got {len(scores)}."
        )
    if not np.isfinite(scores).all():
        raise ValueError("scores contains NaN or infinity.")
    point_scores = np.empty(n_timestamps)
    # Blocks of time steps keep the temporaries (running filters, index look-ups) at
    # O(block + window) whatever the series length; the result is the same as one pass.
    for first in range(0, n_timestamps, _POINT_BLOCK):
        last = min(first + _POINT_BLOCK, n_timestamps)
        point_scores[first:last] = _points_of_block(scores, starts, first, last, window, how)
    return point_scores


def _points_of_block(scores, starts, first, last, window, how):
    """Point scores of the steps ``first <= t < last`` (see window_scores_to_points)."""
    t = np.arange(first, last)
    if how == "max":
        # Window starts that can cover the block lie in [first - window + 1, last).
        origin = max(0, first - window + 1)
        lo, hi = np.searchsorted(starts, [origin, last], side="left")
        at_start = np.full(last - origin, -np.inf)
        at_start[starts[lo:hi] - origin] = scores[lo:hi]
        # Trailing maximum over at_start[t - window + 1 : t + 1] (origin shifts the filter
        # so that it looks back only); steps before 0 are -inf.
        trailing = maximum_filter1d(
            at_start, size=window, mode="constant", cval=-np.inf, origin=(window - 1) // 2
        )
        return trailing[first - origin :]
    # Windows covering t: indices in [lo, hi] of the sorted starts.
    lo = np.searchsorted(starts, t - window + 1, side="left")
    if how == "mean":
        hi = np.searchsorted(starts, t, side="right")
        # Cumulative sums local to the block: as exact as one global sum, and more precise
        # on long series (no large running total to subtract from).
        base = lo[0]
        cumulative = np.concatenate([[0.0], np.cumsum(scores[base : hi[-1]])])
        return (cumulative[hi - base] - cumulative[lo - base]) / (hi - lo)
    if how == "last":
        return scores[lo]
    # center: nearest window centre among the covering windows (a contiguous range).
    hi = np.searchsorted(starts, t, side="right") - 1
    ideal = t - (window - 1) / 2.0  # start whose centre is exactly t
    right = np.clip(np.searchsorted(starts, ideal, side="left"), lo, hi)
    left = np.clip(right - 1, lo, hi)
    choose_left = np.abs(starts[left] - ideal) <= np.abs(starts[right] - ideal)
    return scores[np.where(choose_left, left, right)]
