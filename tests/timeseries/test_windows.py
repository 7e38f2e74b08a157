"""sliding_windows / window_start_indices / window_scores_to_points against direct loops."""

import numpy as np
import pytest

from skanomaly.timeseries import sliding_windows, window_scores_to_points, window_start_indices

CASES = [
    (T, w, s)
    for T in (1, 2, 5, 7, 13, 40)
    for w in (1, 2, 3, 4, 7)
    for s in (1, 2, 3, 5)
    if w <= T and s <= w
]


def _reference_points(scores, starts, n_timestamps, window, how):
    """Obviously-correct loop: gather the covering windows of every step."""
    out = np.empty(n_timestamps)
    for t in range(n_timestamps):
        covering = [i for i, start in enumerate(starts) if start <= t < start + window]
        assert covering, "every step must be covered"
        values = scores[covering]
        if how == "max":
            out[t] = values.max()
        elif how == "mean":
            out[t] = values.mean()
        elif how == "last":
            out[t] = scores[covering[0]]
        else:
            distance = [abs(starts[i] + (window - 1) / 2 - t) for i in covering]
            out[t] = scores[covering[int(np.argmin(distance))]]
    return out


@pytest.mark.parametrize(("T", "window", "stride"), CASES)
def test_windows_match_slices_and_cover_every_step(T, window, stride):
    X = np.arange(T * 3, dtype=float).reshape(T, 3)
    starts = window_start_indices(T, window, stride)
    windows = sliding_windows(X, window, stride)
    assert windows.shape == (len(starts), window, 3)
    assert starts[0] == 0 and starts[-1] == T - window
    assert np.all(np.diff(starts) > 0) and np.all(np.diff(starts) <= stride)
    for i, start in enumerate(starts):
        np.testing.assert_array_equal(windows[i], X[start : start + window])


@pytest.mark.parametrize(("T", "window", "stride"), CASES)
@pytest.mark.parametrize("how", ["max", "mean", "last", "center"])
def test_points_match_loop_reference(T, window, stride, how):
    starts = window_start_indices(T, window, stride)
    scores = np.random.default_rng(T * 100 + window * 10 + stride).normal(size=len(starts))
    expected = _reference_points(scores, starts, T, window, how)
    got = window_scores_to_points(scores, T, window, stride, how)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_zero_copy_view_when_stride_divides():
    X = np.random.default_rng(0).normal(size=(1000, 2))
    windows = sliding_windows(X, 50)
    assert np.shares_memory(windows, X) and windows.base is not None
    assert not windows.flags.writeable  # a view must not let users overwrite the series
    aligned = sliding_windows(X, 50, stride=10)  # 950 % 10 == 0
    assert np.shares_memory(aligned, X)
    extra = sliding_windows(X, 50, stride=7)  # 950 % 7 != 0: one end-aligned extra window
    assert not np.shares_memory(extra, X)
    np.testing.assert_array_equal(extra[-1], X[-50:])
    np.testing.assert_array_equal(extra[-2], X[7 * 135 : 7 * 135 + 50])


def test_univariate_series_is_one_channel():
    windows = sliding_windows(np.arange(6.0), 4)
    assert windows.shape == (3, 4, 1)
    np.testing.assert_array_equal(windows[:, :, 0], [[0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5]])


def test_hand_worked_mapping():
    # windows [0..2], [1..3], [2..4] with scores 1, 5, 2
    scores = [1.0, 5.0, 2.0]
    np.testing.assert_allclose(window_scores_to_points(scores, 5, 3, how="max"), [1, 5, 5, 5, 2])
    np.testing.assert_allclose(
        window_scores_to_points(scores, 5, 3, how="mean"), [1, 3, 8 / 3, 3.5, 2]
    )
    np.testing.assert_allclose(window_scores_to_points(scores, 5, 3, how="last"), [1, 1, 1, 5, 2])
    np.testing.assert_allclose(window_scores_to_points(scores, 5, 3, how="center"), [1, 1, 5, 2, 2])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: sliding_windows(np.zeros(3), 4), "shorter than window=4"),
        (lambda: sliding_windows(np.zeros((5, 2, 2)), 2), "3 dimensions"),
        (lambda: sliding_windows(np.zeros(10), 0), "window must be a positive int"),
        (lambda: sliding_windows(np.zeros(10), 3, stride=4), "stride=4 is larger than window=3"),
        (lambda: window_scores_to_points([1.0, 2.0], 10, 3), "Expected 8 window scores"),
        (lambda: window_scores_to_points([1.0] * 8, 10, 3, how="median"), "how must be one of"),
        (lambda: window_scores_to_points([np.nan] * 8, 10, 3), "NaN"),
    ],
)
def test_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_large_series_is_fast_and_exact():
    # 200k steps: the vectorised mapping agrees with the closed form of a ramp.
    T, window = 200_000, 100
    scores = np.arange(T - window + 1, dtype=float)  # increasing: max = latest covering window
    points = window_scores_to_points(scores, T, window, how="max")
    np.testing.assert_array_equal(points, np.minimum(np.arange(T), T - window))


@pytest.mark.parametrize("block", [1, 3, 7])
@pytest.mark.parametrize(("T", "window", "stride"), [(40, 7, 3), (40, 4, 1), (13, 5, 5), (9, 1, 1)])
@pytest.mark.parametrize("how", ["max", "mean", "last", "center"])
def test_points_in_blocks_match_one_pass(monkeypatch, block, T, window, stride, how):
    # Long series are mapped block by block; tiny blocks exercise every block boundary.
    from skanomaly.timeseries import _windows

    starts = window_start_indices(T, window, stride)
    scores = np.random.default_rng(T + window + stride).normal(size=len(starts))
    one_pass = window_scores_to_points(scores, T, window, stride, how)
    monkeypatch.setattr(_windows, "_POINT_BLOCK", block)
    blocked = window_scores_to_points(scores, T, window, stride, how)
    np.testing.assert_allclose(blocked, one_pass, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        blocked, _reference_points(scores, starts, T, window, how), rtol=1e-12, atol=1e-12
    )


@pytest.mark.parametrize(("T", "window", "stride"), [(40, 7, 3), (41, 7, 3), (10, 4, 2)])
def test_window_chunks_are_views_and_cover_every_window(T, window, stride):
    from skanomaly.timeseries._windows import _window_chunks

    X = np.arange(T * 2, dtype=float).reshape(T, 2)
    expected = sliding_windows(X, window, stride)
    chunks = list(_window_chunks(X, window, stride, chunk_size=4))
    assert [first for first, _ in chunks] == list(range(0, len(expected), 4))
    np.testing.assert_array_equal(np.concatenate([c for _, c in chunks]), expected)
    n_regular = (T - window) // stride + 1
    for first, chunk in chunks:
        if first + len(chunk) <= n_regular:
            assert np.shares_memory(chunk, X)
