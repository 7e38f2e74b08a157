"""The shared evaluation protocol (PROTOCOL.md) that every benchmark number goes through."""

import numpy as np
import pytest
from pyod.models.iforest import IForest

from skanomaly.benchmark import evaluate, shared_data_dir, tabular_split, timeseries_split
from skanomaly.datasets import make_anomalies
from skanomaly.utils._testing import ReferenceAutoEncoder


def test_tabular_split_is_stratified_scaled_on_train_and_seeded():
    X, y = make_anomalies(1000, 5, contamination=0.1, random_state=0)
    X_train, X_test, y_train, y_test = tabular_split((X, y), seed=3)
    assert len(X_train) == 700 and len(X_test) == 300
    assert y_train.mean() == pytest.approx(0.1, abs=0.005)
    assert y_test.mean() == pytest.approx(0.1, abs=0.005)
    np.testing.assert_allclose(X_train.mean(axis=0), 0.0, atol=1e-9)
    np.testing.assert_allclose(X_train.std(axis=0), 1.0, atol=1e-9)
    assert np.abs(X_test.mean(axis=0)).max() > 1e-6  # test statistics are not used
    again = tabular_split((X, y), seed=3)
    np.testing.assert_array_equal(again[0], X_train)
    other = tabular_split((X, y), seed=4)
    assert not np.array_equal(other[0], X_train)


def test_tabular_split_subsamples_large_sets_and_reads_npz(tmp_path):
    X, y = make_anomalies(500, 3, contamination=0.1, random_state=0)
    np.savez(tmp_path / "toy.npz", X=X, y=y)
    X_train, X_test, _, _ = tabular_split(tmp_path / "toy.npz", seed=0, max_rows=100)
    assert len(X_train) + len(X_test) == 100


def test_timeseries_split_standardises_with_train_statistics_only():
    train = np.c_[np.arange(100.0), np.full(100, 5.0)]
    test = np.c_[np.arange(100.0, 150.0), np.full(50, 7.0)]
    labels = np.r_[np.zeros(45), np.ones(5)]
    train_s, test_s, labels_s = timeseries_split((train, test, labels))
    np.testing.assert_allclose(train_s[:, 0].mean(), 0.0, atol=1e-12)
    np.testing.assert_allclose(train_s[:, 0].std(), 1.0)
    np.testing.assert_allclose(train_s[:, 1], 0.0)  # constant channel: std 0 -> 1
    np.testing.assert_allclose(test_s[:, 1], 2.0)
    assert test_s[:, 0].min() > train_s[:, 0].max()
    np.testing.assert_array_equal(labels_s, labels.astype(int))


def test_timeseries_split_reads_files(tmp_path):
    np.savez(
        tmp_path / "s.npz",
        train=np.arange(20.0).astype(np.float32),
        test=np.arange(10.0).astype(np.float32),
        test_labels=np.r_[np.zeros(9), 1].astype(np.int8),
    )
    train, test, labels = timeseries_split(tmp_path / "s.npz")
    assert train.shape == (20, 1) and test.shape == (10, 1) and labels.sum() == 1


def test_evaluate_fits_without_labels_unless_given():
    X_train, X_test, y_train, y_test = tabular_split(make_anomalies(400, 4, random_state=0))
    seen = {}

    class Spy(ReferenceAutoEncoder):
        def fit(self, X, y=None):
            seen["y"] = y
            return super().fit(X, y)

    result = evaluate(Spy(epochs=2, random_state=0, device="cpu"), X_train, X_test, y_test)
    assert seen["y"] is None
    assert set(result) == {"auroc", "aupr", "fit_s", "score_s"}
    assert 0.0 <= result["auroc"] <= 1.0 and result["fit_s"] > 0
    evaluate(Spy(epochs=1, device="cpu"), X_train, X_test, y_test, y_train=y_train)
    assert seen["y"] is y_train


def test_evaluate_metric_names_and_errors():
    X_train, X_test, _, y_test = tabular_split(make_anomalies(300, 4, random_state=1))
    result = evaluate(IForest(random_state=0), X_train, X_test, y_test, metrics=("best_f1",))
    assert 0.0 < result["best_f1"] <= 1.0
    with pytest.raises(ValueError, match="Unknown metric 'nope'"):
        evaluate(IForest(), X_train, X_test, y_test, metrics=("nope",))


def test_shared_data_dir_is_optional(tmp_path, monkeypatch):
    monkeypatch.setenv("SKANOMALY_SHARED_DATA", str(tmp_path / "missing"))
    assert shared_data_dir() is None
    assert shared_data_dir(tmp_path) == tmp_path.resolve()
    # Without the variable the default follows the package's checkout, not the working
    # directory.
    monkeypatch.delenv("SKANOMALY_SHARED_DATA")
    before = shared_data_dir()
    (tmp_path / "shared" / "data").mkdir(parents=True)
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    assert shared_data_dir() == before
