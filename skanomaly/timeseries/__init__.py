"""Raw time series: sliding windows, window-to-step score mapping and TimeSeriesDetector.

Detectors score windows ``(n_windows, window, n_channels)``; users have series
``(n_timestamps, n_channels)`` and want one score per time step. This subpackage bridges the
two without copies (windows are strided views) and without Python loops over windows.
"""

from skanomaly.timeseries._detector import TimeSeriesDetector
from skanomaly.timeseries._period import find_period
from skanomaly.timeseries._windows import (
    sliding_windows,
    window_scores_to_points,
    window_start_indices,
)

__all__ = [
    "TimeSeriesDetector",
    "find_period",
    "sliding_windows",
    "window_scores_to_points",
    "window_start_indices",
]
