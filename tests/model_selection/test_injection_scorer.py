"""make_injection_scorer: label-free scoring usable by GridSearchCV and cross_val_score."""

import warnings

import numpy as np
import pytest
from imblearn.pipeline import make_pipeline as make_imb_pipeline
from pyod.models.iforest import IForest
from pyod.models.knn import KNN
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skanomaly.detectors import AnoRandDetector
from skanomaly.injectors import (
    GaussianNoiseInjector,
    GenIASInjector,
    PointSpikeInjector,
    SMOTENoiseInjector,
)
from skanomaly.metrics import make_anomaly_scorer
from skanomaly.model_selection import make_injection_scorer
from skanomaly.timeseries import TimeSeriesDetector


class TouchyLabels:
    """A ``y`` that fails the test if anything reads it."""

    def __getattr__(self, name):
        raise AssertionError(f"y was read (attribute {name!r})")

    def __len__(self):
        raise AssertionError("y was read (len)")

    def __getitem__(self, item):
        raise AssertionError("y was read (indexing)")

    def __array__(self, *args, **kwargs):
        raise AssertionError("y was read (np.asarray)")

    def __iter__(self):
        raise AssertionError("y was read (iteration)")


@pytest.fixture
def X():
    rng = np.random.default_rng(0)
    return rng.normal(size=(240, 4)) * np.array([1.0, 10.0, 100.0, 0.1])


def test_gridsearch_without_y_gives_distinct_finite_scores(X):
    """The issue's done-when: w x noise_level, no y, distinct finite scores.

    The paper's fused score (ND + AE blocks) is used: the unsupervised default score (the AE
    block's standardised residuals) moves by ~1e-5 with the noise level on such tiny data.
    """
    pipe = make_pipeline(
        StandardScaler(),
        AnoRandDetector(
            injector=SMOTENoiseInjector(),
            anomaly_score="fused",
            epochs=3,
            batch_size=64,
            mlp_hidden_dims=(8,),
            encoder_hidden_dims=(8,),
            latent_dim=2,
            random_state=0,
            device="cpu",
        ),
    )
    grid = {
        "anoranddetector__w": [0.2, 0.8],
        "anoranddetector__injector__noise_level": [0.5, 3.0],
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no "Scoring failed" warning
        search = GridSearchCV(pipe, grid, scoring=make_injection_scorer(), cv=2).fit(X)
    scores = search.cv_results_["mean_test_score"]
    assert np.isfinite(scores).all()
    assert len(np.unique(np.round(scores, 12))) == len(scores)
    assert search.best_index_ == int(np.argmax(scores))


def test_scorer_never_reads_y(X):
    detector = IForest(n_estimators=20, random_state=0).fit(X[:160])
    scorer = make_injection_scorer()
    assert scorer(detector, X[160:], TouchyLabels()) == scorer(detector, X[160:])


def test_scorer_is_deterministic_and_seeded(X):
    detector = IForest(n_estimators=20, random_state=0).fit(X[:160])
    a = make_injection_scorer(random_state=3)(detector, X[160:])
    b = make_injection_scorer(random_state=3)(detector, X[160:])
    c = make_injection_scorer(random_state=4)(detector, X[160:])
    assert a == b
    assert a != c


def test_scorer_ranks_a_good_detector_above_a_constant_one(X):
    class Constant:
        def decision_function(self, X):
            return np.zeros(len(X))

    good = KNN().fit(X[:160])
    scorer = make_injection_scorer(GaussianNoiseInjector(noise_level=5.0), metric="roc_auc")
    assert scorer(good, X[160:]) > 0.9
    assert scorer(Constant(), X[160:]) == pytest.approx(0.5)


def test_standardize_makes_noise_level_scale_free(X):
    """Noise in standard deviations: rescaling every feature leaves the score unchanged."""
    scaled = make_pipeline(StandardScaler(), IForest(n_estimators=20, random_state=0))
    scorer = make_injection_scorer(GaussianNoiseInjector(noise_level=2.0))
    a = scorer(scaled.fit(X[:160]), X[160:])
    b = scorer(scaled.fit(X[:160] * 1000.0), X[160:] * 1000.0)
    assert a == pytest.approx(b, rel=1e-6)


@pytest.mark.parametrize("aggregate", ["mean", "mix"])
def test_several_injectors(X, aggregate):
    detector = IForest(n_estimators=20, random_state=0).fit(X[:160])
    injectors = [GaussianNoiseInjector(noise_level=1.0), SMOTENoiseInjector(noise_level=4.0)]
    score = make_injection_scorer(injectors, aggregate=aggregate)(detector, X[160:])
    assert 0.0 < score <= 1.0
    if aggregate == "mean":
        single = [make_injection_scorer(i)(detector, X[160:]) for i in injectors]
        assert min(single) <= score <= max(single)


def test_works_on_imblearn_pipeline_with_injector_step(X):
    pipe = make_imb_pipeline(
        StandardScaler(), SMOTENoiseInjector(random_state=0), IForest(n_estimators=20, random_state=0)
    )
    scores = cross_val_score(pipe, X, scoring=make_injection_scorer(), cv=3)
    assert np.isfinite(scores).all()


def test_dataframe_input_keeps_feature_names(X):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=list("abcd"))
    pipe = make_pipeline(StandardScaler(), IForest(n_estimators=20, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # "X does not have valid feature names"
        scores = cross_val_score(pipe, frame, scoring=make_injection_scorer(), cv=2)
    assert np.isfinite(scores).all()


def test_windows_are_scored_as_rows():
    rng = np.random.default_rng(0)
    windows = np.sin(np.arange(16) / 2)[None, :, None] + 0.1 * rng.normal(size=(80, 16, 1))
    detector = IForest(n_estimators=20, random_state=0)

    class Flat:
        def decision_function(self, X):
            return detector.decision_function(np.asarray(X).reshape(len(X), -1))

    detector.fit(windows[:60].reshape(60, -1))
    score = make_injection_scorer(PointSpikeInjector())(Flat(), windows[60:])
    assert 0.0 < score <= 1.0


def test_time_series_detector_with_contiguous_folds():
    rng = np.random.default_rng(0)
    t = np.arange(1200)
    series = np.c_[np.sin(t / 8), np.cos(t / 13)] + 0.05 * rng.normal(size=(1200, 2))
    grid = {"window": [16, 32]}
    search = GridSearchCV(
        TimeSeriesDetector(IForest(n_estimators=20, random_state=0), stride=4),
        grid,
        scoring=make_injection_scorer(),
        cv=TimeSeriesSplit(2),
    ).fit(series)
    scores = search.cv_results_["mean_test_score"]
    assert np.isfinite(scores).all() and scores.max() > 0.1


def test_series_too_short_for_segments():
    ts = TimeSeriesDetector(IForest(n_estimators=5, random_state=0), window=4).fit(np.ones((40, 1)))
    with pytest.raises(ValueError, match="too short"):
        make_injection_scorer(segment_length=50)(ts, np.ones((20, 1)))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"metric": "accuracy"}, "metric must be"),
        ({"aggregate": "max"}, "aggregate must be"),
        ({"anomaly_ratio": 0.0}, "anomaly_ratio"),
        ({"segment_length": 1}, "segment_length"),
    ],
)
def test_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_injection_scorer(**kwargs)


def test_bad_injectors(X):
    detector = IForest(n_estimators=5, random_state=0).fit(X)
    with pytest.raises(TypeError, match="skanomaly injector"):
        make_injection_scorer(StandardScaler())(detector, X)
    with pytest.raises(ValueError, match="at least one"):
        make_injection_scorer([])(detector, X)
    with pytest.raises(ValueError, match="must be fitted"):
        make_injection_scorer(GenIASInjector())(detector, X)


def test_non_finite_scores_are_an_error(X):
    class Broken:
        def decision_function(self, X):
            return np.full(len(X), np.nan)

    with pytest.raises(ValueError, match="non-finite"):
        make_injection_scorer()(Broken(), X)


def test_repr_names_the_parameters():
    assert "metric='roc_auc'" in repr(make_injection_scorer(metric="roc_auc"))


# ---------------------------------------------------------------------- labelled scorer, no y
@pytest.mark.parametrize("n_jobs", [None, 2])
def test_labelled_scorer_without_y_fails_loudly_in_gridsearch(X, n_jobs):
    search = GridSearchCV(
        IForest(n_estimators=5),
        {"max_features": [0.5, 1.0]},
        scoring=make_anomaly_scorer("average_precision"),
        cv=2,
        n_jobs=n_jobs,
    )
    with pytest.raises(ValueError, match="make_injection_scorer"):
        search.fit(X)


def test_labelled_scorer_without_y_fails_in_multimetric_and_cross_val_score(X):
    scoring = {"ap": make_anomaly_scorer("aupr"), "auc": make_anomaly_scorer()}
    with pytest.raises(ValueError, match="make_injection_scorer"):
        GridSearchCV(IForest(n_estimators=5), {"max_features": [1.0]}, scoring=scoring,
                     refit=False, cv=2).fit(X)
    with pytest.raises(ValueError, match="make_injection_scorer"):
        cross_val_score(IForest(n_estimators=5), X, scoring=make_anomaly_scorer(), cv=2)


def test_labelled_scorer_called_directly_without_y_raises(X):
    detector = IForest(n_estimators=5, random_state=0).fit(X)
    with pytest.raises(ValueError, match="needs the labels y"):
        make_anomaly_scorer()(detector, X)


def test_labelled_scorer_with_y_still_scores(X):
    y = (np.arange(len(X)) % 12 == 0).astype(int)
    scores = cross_val_score(
        IForest(n_estimators=5, random_state=0), X, y, scoring=make_anomaly_scorer(), cv=2
    )
    assert np.isfinite(scores).all()
