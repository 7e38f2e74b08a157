"""Shared fixtures: tiny data, and the location of the optional shared benchmark data."""

import os
from pathlib import Path

import numpy as np
import pytest

# ../shared/data beside the repository holds real data for some tests; a user's clone has no
# such folder and those tests skip. SKANOMALY_SHARED_DATA points elsewhere if wanted.
SHARED_DATA = Path(
    os.environ.get("SKANOMALY_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
).resolve()


@pytest.fixture
def shared_data():
    """Path to ../shared/data, or skip the test when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared benchmark data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def tabular_data():
    """Small tabular set: 120 normal rows around the origin, 8 far-away anomalies."""
    rng = np.random.default_rng(0)
    normal = rng.normal(size=(120, 4))
    anomalies = rng.normal(loc=6.0, size=(8, 4))
    X = np.vstack([normal, anomalies]).astype(np.float64)
    y = np.r_[np.zeros(120, dtype=int), np.ones(8, dtype=int)]
    return X, y


@pytest.fixture
def window_data():
    """Small windowed set (n_windows, window, n_channels) of noisy sines."""
    rng = np.random.default_rng(0)
    t = np.arange(16)
    phases = rng.uniform(0, 2 * np.pi, size=(40, 1, 1))
    X = np.sin(t[None, :, None] / 3 + phases) + 0.05 * rng.normal(size=(40, 16, 2))
    return X.astype(np.float32)


@pytest.fixture(scope="module")
def one_torch_thread():
    """One intra-op torch thread for a test module of tiny models (a second thread only adds
    contention on a busy machine); use with ``pytestmark = pytest.mark.usefixtures(...)``."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
