"""Thread control: sized to the work, never above the caller's setting, always restored."""

import pytest
import torch
from torch import nn

from skanomaly.utils._threads import (
    auto_torch_threads,
    resolve_torch_threads,
    torch_thread_limit,
)


@pytest.fixture
def two_threads():
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    yield 2
    torch.set_num_threads(previous)


def test_limit_sets_and_restores_even_on_error(two_threads):
    with torch_thread_limit(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == two_threads
    with pytest.raises(RuntimeError, match="boom"), torch_thread_limit(1):
        raise RuntimeError("boom")
    assert torch.get_num_threads() == two_threads
    with torch_thread_limit(None):
        assert torch.get_num_threads() == two_threads


def test_auto_threads_grow_with_the_work_up_to_the_limit(two_threads):
    assert auto_torch_threads(0) == 1
    assert auto_torch_threads(5_000 * 128) == 1  # a small MLP at batch 128
    assert auto_torch_threads(3 * 2**24, limit=8) == 3
    assert auto_torch_threads(10**12) == two_threads  # never above the caller's setting
    assert auto_torch_threads(10**12, limit=4) == 4


def test_resolve_counts_weights_rows_and_time_steps(two_threads):
    small = nn.Linear(21, 64)  # 1,408 weights
    assert resolve_torch_threads("auto", small, 128, (21,)) == 1
    assert resolve_torch_threads(3, small, 128, (21,)) == 3  # an int is used as is
    assert resolve_torch_threads(None, small, 128, (21,)) is None  # caller's setting kept
    wide = nn.Linear(1024, 1024)  # 1M weights: 2**20 * 128 rows = 8 * 2**24
    assert resolve_torch_threads("auto", wide, 128, (1024,)) == two_threads
    # Windows: every weight is used at each of the 100 time steps.
    conv = nn.Conv1d(8, 8, 3)  # 200 weights
    assert resolve_torch_threads("auto", conv, 128, (100, 8)) == 1
    assert resolve_torch_threads("auto", conv, 128 * 10_000, (100, 8)) == two_threads
