"""GaussianNoiseInjector and SMOTENoiseInjector (AnoRand Sec. 5.1)."""

import warnings
from unittest import mock

import numpy as np
import pytest
from imblearn.over_sampling import SMOTE
from sklearn.base import clone

from skanomaly.injectors import GaussianNoiseInjector, SMOTENoiseInjector
from skanomaly.pipeline import make_pipeline
from skanomaly.utils._testing import ReferenceAutoEncoder

INJECTORS = [GaussianNoiseInjector, SMOTENoiseInjector]


@pytest.fixture
def X():
    return np.random.default_rng(0).normal(size=(400, 5))


@pytest.mark.parametrize("cls", INJECTORS)
def test_row_and_label_counts_with_labels(cls, X):
    y = np.r_[np.zeros(380, dtype=int), np.ones(20, dtype=int)]
    injector = cls(anomaly_ratio=0.05, random_state=0)
    X_res, y_res = injector.fit_resample(X, y)
    n_new = int(np.ceil(0.05 * 380))  # generated per *normal* row
    assert X_res.shape == (400 + n_new, 5) and injector.n_injected_ == n_new
    np.testing.assert_array_equal(y_res, np.r_[y, np.ones(n_new, dtype=int)])
    np.testing.assert_allclose(X_res[:400], X.astype(np.float32))
    assert injector.is_injected_.sum() == n_new and not injector.is_injected_[:400].any()
    # Generated rows derive from normal rows only (or from none: -1).
    sources = injector.sample_indices_[400:]
    assert np.all((sources == -1) | (y[np.clip(sources, 0, None)] == 0))


@pytest.mark.parametrize("cls", INJECTORS)
def test_y_none_means_all_normal(cls, X):
    X_res, y_res = cls(random_state=0).fit_resample(X)
    assert y_res[:400].sum() == 0 and y_res[400:].all() and len(y_res) == 420


@pytest.mark.parametrize("cls", INJECTORS)
def test_reproducible_with_random_state(cls, X):
    first = cls(random_state=3).fit_resample(X)[0]
    np.testing.assert_array_equal(first, clone(cls(random_state=3)).fit_resample(X)[0])
    assert not np.array_equal(first, cls(random_state=4).fit_resample(X)[0])
    generator = np.random.default_rng(1)
    a = cls().generate(X, 9, random_state=np.random.default_rng(1))
    b = cls().generate(X, 9, random_state=generator)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cls", INJECTORS)
def test_noise_level_is_the_standard_deviation(cls):
    # Constant rows: every generated value is the constant plus the Gaussian noise (SMOTE
    # interpolations of identical rows are the same row).
    X = np.full((2000, 3), 2.0)
    generated = cls(noise_level=0.5, random_state=0).generate(X, 1000)
    assert np.mean(generated) == pytest.approx(2.0, abs=0.02)
    assert np.std(generated - 2.0) == pytest.approx(0.5, rel=0.05)
    assert np.array_equal(cls(noise_level=0.0).generate(X, 5), np.full((5, 3), 2.0, np.float32))


def test_smote_expands_a_random_subset_with_imblearn():
    X = np.random.default_rng(0).normal(size=(1000, 4))
    injector = SMOTENoiseInjector(subset_ratio=0.02, noise_level=0.0, random_state=0)
    with mock.patch(
        "skanomaly.injectors._noise.SMOTE", wraps=SMOTE
    ) as smote:
        X_res, _ = injector.fit_resample(X)
    # 2% of 1000 rows seed 50 anomalies; SMOTE (imbalanced-learn's) makes the other 30.
    kwargs = smote.call_args.kwargs
    assert kwargs["sampling_strategy"] == {1: 50} and kwargs["k_neighbors"] == 5
    sources = injector.sample_indices_[1000:]
    assert (sources >= 0).sum() == 20 and (sources == -1).sum() == 30
    # Without noise, the seeds are copies and SMOTE rows lie between two seeds.
    np.testing.assert_allclose(X_res[1000:1020], X[sources[:20]].astype(np.float32))
    seeds = X[sources[:20]]
    lo, hi = seeds.min(axis=0) - 1e-6, seeds.max(axis=0) + 1e-6
    assert np.all((X_res[1020:] >= lo) & (X_res[1020:] <= hi))


@pytest.mark.parametrize("n_rows", [1, 2, 3])
def test_smote_handles_tiny_inputs(n_rows, X):
    generated = SMOTENoiseInjector(random_state=0).generate(X[:n_rows], 6)
    assert generated.shape == (6, 5) and np.isfinite(generated).all()


@pytest.mark.parametrize("cls", INJECTORS)
def test_windows_are_supported(cls, window_data):
    injector = cls(random_state=0)
    X_res, y_res = injector.fit_resample(window_data)
    assert X_res.shape[1:] == window_data.shape[1:]
    assert len(X_res) == len(window_data) + injector.n_injected_ == len(y_res)
    assert injector.generate(window_data, 4).shape == (4, *window_data.shape[1:])


@pytest.mark.parametrize("cls", INJECTORS)
def test_in_imblearn_pipeline_injects_at_fit_only(cls, X):
    seen = {}

    class Recorder(ReferenceAutoEncoder):
        def fit(self, X, y=None):
            seen["fit"] = len(X)
            return super().fit(X, y)

        def decision_function(self, X):
            seen["score"] = X.copy()
            return super().decision_function(X)

    pipe = make_pipeline(cls(random_state=0), Recorder(epochs=1, random_state=0, device="cpu"))
    pipe.fit(X)
    assert seen["fit"] == 420
    pipe.decision_function(X)
    np.testing.assert_array_equal(seen["score"], X)  # raw rows, nothing injected


def test_bad_parameters_are_rejected(X):
    with pytest.raises(ValueError, match="noise_level"):
        SMOTENoiseInjector(noise_level=-1).fit_resample(X)
    with pytest.raises(ValueError, match="k_neighbors"):
        SMOTENoiseInjector(k_neighbors=0).fit_resample(X)
    with pytest.raises(ValueError, match="subset_ratio"):
        SMOTENoiseInjector(subset_ratio=1.5).fit_resample(X)
    with pytest.raises(ValueError, match="n_anomalies"):
        GaussianNoiseInjector().generate(X, -2)


@pytest.mark.parametrize("cls", [GaussianNoiseInjector, SMOTENoiseInjector])
def test_fit_resample_returns_the_original_rows_unchanged(cls):
    # Issue 21, item 3: rows were cast to float32 (integers near 1e9 moved by up to 32).
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    X = rng.integers(10**9, 10**9 + 1000, size=(60, 3))
    X_res, _ = cls(random_state=0).fit_resample(X)
    assert X_res.dtype == np.float64
    np.testing.assert_array_equal(X_res[:60], X)
    X64 = rng.normal(size=(60, 3)) * 1e6 + 1e9
    X_res, _ = cls(random_state=0).fit_resample(X64)
    assert X_res.dtype == np.float64
    np.testing.assert_array_equal(X_res[:60], X64)
    X32 = X64.astype(np.float32)
    assert cls(random_state=0).fit_resample(X32)[0].dtype == np.float32
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    frame_res, _ = cls(random_state=0).fit_resample(frame)
    assert list(frame_res.columns) == ["a", "b", "c"]
    assert (frame_res.dtypes == np.float64).all()
    np.testing.assert_array_equal(frame_res.to_numpy()[:60], X)


@pytest.mark.parametrize("cls", [GaussianNoiseInjector, SMOTENoiseInjector])
def test_negligible_noise_on_unscaled_data_warns(cls, X):
    # Issue 21 (scale): InjectionClassifier's AUROC fell from 0.85 to 0.28 on X x 1e3, silently:
    # the noise is in the units of X, so its anomalies were copies of normal rows.
    with pytest.warns(UserWarning, match=f"{cls.__name__}: noise_level=.*StandardScaler"):
        cls(random_state=0).fit_resample(X * 1e3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cls(random_state=0).fit_resample(X)
        cls(random_state=0, noise_level=0.0).fit_resample(X * 1e3)
