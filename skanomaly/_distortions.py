"""Segment distortions: the anomaly kinds shared by the window injectors and the synthetic
series generator.

:mod:`skanomaly.injectors._timeseries` (the hand-crafted window injectors) and
:func:`skanomaly.datasets.make_timeseries_anomalies` both distort segments with these
functions, so the synthetic benchmark and the injectors agree on what each anomaly kind is.
A private module of its own (numpy only) so that the data sets do not import the injectors.
"""

import numpy as np

__all__ = []

def _spike(segment, scale, rng, magnitude=(3.0, 6.0), **_):
    """Add a spike of ``magnitude`` channel standard deviations (random sign)."""
    size = rng.uniform(*magnitude, size=segment.shape[1]) * rng.choice(
        [-1.0, 1.0], segment.shape[1]
    )
    return segment + size * scale


def _contextual(segment, scale, rng, magnitude=(1.0, 2.0), **_):
    """Rescale the segment around its mean and shift its level: values can stay within the
    global range of the series while breaking the local context."""
    mean = segment.mean(axis=0)
    factor = rng.uniform(0.3, 0.6, size=segment.shape[1]) ** rng.choice(
        [-1.0, 1.0], segment.shape[1]
    )
    shift = rng.uniform(*magnitude, size=segment.shape[1]) * rng.choice(
        [-1.0, 1.0], segment.shape[1]
    )
    return mean + factor * (segment - mean) + shift * scale


def _seasonal(segment, scale, rng, frequency_factors=(0.5, 2.0), **_):
    """Change the local frequency: the segment is replayed ``f`` times faster (``f > 1``) or
    slower (``f < 1``), by linear interpolation of its own values."""
    length = len(segment)
    factor = rng.choice(np.asarray(frequency_factors, dtype=float))
    if length < 2:
        return segment.copy()
    position = (np.arange(length) * factor) % (length - 1)
    base = np.floor(position).astype(int)
    frac = (position - base)[:, None]
    upper = np.minimum(base + 1, length - 1)
    return (1 - frac) * segment[base] + frac * segment[upper]


def _trend(segment, scale, rng, magnitude=(2.0, 4.0), **_):
    """Add a linear ramp reaching ``magnitude`` standard deviations at the segment's end."""
    ramp = np.linspace(0.0, 1.0, len(segment))[:, None]
    size = rng.uniform(*magnitude, size=segment.shape[1]) * rng.choice(
        [-1.0, 1.0], segment.shape[1]
    )
    return segment + ramp * size * scale


def _shapelet(segment, scale, rng, **_):
    """Replace the segment's shape by a square wave spanning the same range: the values are
    ordinary, the basic shape is not."""
    length = len(segment)
    low, high = segment.min(axis=0), segment.max(axis=0)
    amplitude = np.maximum((high - low) / 2, 0.5 * scale)
    centre = (high + low) / 2
    n_cycles = rng.integers(1, 4)
    square = np.sign(np.sin(2 * np.pi * n_cycles * (np.arange(length) + 0.5) / max(length, 1)))
    return centre + amplitude * square[:, None]


def _cut_add_paste(segment, scale, rng, donor=None, magnitude=(0.0, 2.0), **_):
    """Paste ``donor`` (a segment cut elsewhere) over the segment, plus a random linear trend."""
    ramp = np.linspace(0.0, 1.0, len(segment))[:, None]
    size = rng.uniform(*magnitude, size=segment.shape[1]) * rng.choice(
        [-1.0, 1.0], segment.shape[1]
    )
    return donor + ramp * size * scale


_DISTORTIONS = {
    "point": _spike,
    "contextual": _contextual,
    "seasonal": _seasonal,
    "trend": _trend,
    "shapelet": _shapelet,
    "cut_add_paste": _cut_add_paste,
}


def distort(series, kind, start, length, channels, scale, rng, **params):
    """Distort ``series[start:start + length, channels]`` in place with anomaly ``kind``."""
    rows = slice(start, start + length)
    segment = series[rows][:, channels].astype(np.float64)
    series[rows, channels] = _DISTORTIONS[kind](segment, scale[channels], rng, **params)
