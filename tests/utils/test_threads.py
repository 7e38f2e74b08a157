"""Thread control: sized to the work, never above the caller's setting, always restored."""

import numpy as np
import pytest
import torch
from torch import nn

from skanomaly.utils._testing import ReferenceAutoEncoder
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


# ---------------------------------------------------------------------- in the estimators
class _ThreadRecorder(ReferenceAutoEncoder):
    """Records torch's thread count inside training and scoring steps."""

    def _train_step(self, batch):
        self.seen_.add(("train", torch.get_num_threads()))
        if getattr(self, "fail", False):
            raise RuntimeError("step failed")
        return super()._train_step(batch)

    def _score_batch(self, X):
        self.seen_.add(("score", torch.get_num_threads()))
        return super()._score_batch(X)


def _recorder(**params):
    detector = _ThreadRecorder(hidden_dims=(4,), latent_dim=2, epochs=1, device="cpu", **params)
    detector.seen_ = set()
    return detector


@pytest.mark.parametrize(("torch_threads", "inside"), [("auto", 1), (1, 1), (3, 3), (None, 2)])
def test_fit_and_score_run_at_the_chosen_threads_and_restore(
    two_threads, tabular_data, torch_threads, inside
):
    X, _ = tabular_data
    detector = _recorder(torch_threads=torch_threads).fit(X)
    assert torch.get_num_threads() == two_threads
    detector.decision_function(X)
    assert torch.get_num_threads() == two_threads
    assert detector.seen_ == {("train", inside), ("score", inside)}


def test_threads_are_restored_when_fit_fails(two_threads, tabular_data):
    X, _ = tabular_data
    detector = _recorder(torch_threads=1)
    detector.fail = True
    with pytest.raises(RuntimeError, match="step failed"):
        detector.fit(X)
    assert torch.get_num_threads() == two_threads


def test_an_outer_limit_caps_auto(two_threads, tabular_data):
    # The benchmark runner (or a user) limiting threads around a fit is respected by "auto".
    X, _ = tabular_data
    with torch_thread_limit(1):
        detector = _recorder().fit(X)
        assert torch.get_num_threads() == 1
    assert detector.seen_ == {("train", 1), ("score", 1)}


@pytest.mark.parametrize("bad", [0, -1, "all", 1.5])
def test_bad_torch_threads_are_rejected(tabular_data, bad):
    X, _ = tabular_data
    with pytest.raises(ValueError, match="torch_threads"):
        _recorder(torch_threads=bad).fit(X)


def test_every_deep_detector_takes_torch_threads_and_saves_it(tmp_path, tabular_data):
    from sklearn.base import clone

    from skanomaly.base import BaseDeepDetector
    from skanomaly.utils import all_estimators

    for name, klass in all_estimators(type_filter="detector"):
        if issubclass(klass, BaseDeepDetector) and not name.startswith("Base"):
            assert klass().get_params()["torch_threads"] == "auto", name
            assert clone(klass(torch_threads=2)).torch_threads == 2, name
    X, _ = tabular_data
    detector = ReferenceAutoEncoder(epochs=1, device="cpu", random_state=0, torch_threads=3)
    detector.fit(X).save(tmp_path / "model")
    loaded = ReferenceAutoEncoder.load(tmp_path / "model")
    assert loaded.torch_threads == 3
    np.testing.assert_array_equal(loaded.decision_function(X), detector.decision_function(X))


def test_benchmark_cells_restore_the_callers_threads(two_threads, tmp_path):
    # run_benchmark used to call torch.set_num_threads in the cell, leaking it to the caller.
    from skanomaly.benchmark import run_benchmark
    from skanomaly.datasets import make_anomalies

    X, y = make_anomalies(200, 4, random_state=0)
    rows = run_benchmark(
        "tabular",
        detectors=["pyod:IForest"],
        datasets=[("mine", X, y)],
        seeds=[0],
        out=tmp_path,
        torch_threads=1,
        progress=False,
    )
    assert rows[0]["error"] == ""
    assert torch.get_num_threads() == two_threads
