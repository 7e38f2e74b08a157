"""DetectorSelector and centrality_scores: choosing among detectors without labels."""

import pickle

import numpy as np
import pytest
from pyod.models.ecod import ECOD
from pyod.models.iforest import IForest
from pyod.models.knn import KNN
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skanomaly.model_selection import DetectorSelector, centrality_scores, make_injection_scorer
from skanomaly.timeseries import TimeSeriesDetector

from .test_injection_scorer import TouchyLabels


class Constant:
    """A useless detector: every row gets the same score."""

    def fit(self, X, y=None):
        return self

    def decision_function(self, X):
        return np.zeros(len(X))

    def get_params(self, deep=True):
        return {}

    def set_params(self, **params):
        return self


class Failing(Constant):
    def fit(self, X, y=None):
        raise RuntimeError("boom")


@pytest.fixture
def X():
    rng = np.random.default_rng(0)
    return np.r_[rng.normal(size=(300, 3)), rng.normal(loc=6.0, size=(10, 3))]


def test_fit_never_reads_y(X):
    selector = DetectorSelector(
        [IForest(n_estimators=20, random_state=0), ECOD()], random_state=0
    ).fit(X, TouchyLabels())
    assert selector.best_name_ in ("IForest", "ECOD", "ensemble")


@pytest.mark.parametrize("strategy", ["auto", "borda", "injection", "centrality"])
def test_a_useful_detector_beats_a_constant_one(X, strategy):
    candidates = [("constant", Constant()), ("knn", KNN()), ("iforest", IForest(random_state=0))]
    if strategy == "centrality":
        candidates.append(("iforest2", IForest(random_state=1)))
    selector = DetectorSelector(candidates, strategy=strategy, random_state=0).fit(X)
    assert selector.best_name_ != "constant"
    # + the ensemble candidate (the average of the others); one scorer (ADBench types)
    assert selector.validation_scores_.shape == (len(candidates) + 1, 1)
    np.testing.assert_allclose(selector.decision_scores_, selector.decision_function(X))


def test_refit_uses_all_rows_and_is_reproducible(X):
    make = lambda refit: DetectorSelector(  # noqa: E731
        [IForest(n_estimators=20, random_state=0), KNN()], refit=refit, random_state=0
    )
    first, again = make(True).fit(X), make(True).fit(X)
    assert first.best_index_ == again.best_index_
    np.testing.assert_allclose(first.decision_function(X), again.decision_function(X))
    kept = make(False).fit(X)
    assert kept.best_estimator_.decision_scores_.shape[0] < len(X)
    assert first.best_estimator_.decision_scores_.shape[0] == len(X)


def test_default_candidates_are_pyod_zoo(X):
    selector = DetectorSelector(random_state=0).fit(X)
    assert selector.names_ == ["IForest", "KNN", "LOF", "ECOD", "HBOS", "ensemble"]
    assert np.isfinite(selector.validation_scores_).all()
    assert np.isfinite(selector.centrality_).all()


def test_failing_candidate_is_skipped_with_a_warning(X):
    with pytest.warns(UserWarning, match="'Failing' failed"):
        selector = DetectorSelector([Failing(), KNN()], random_state=0).fit(X)
    assert selector.best_name_ == "KNN"
    assert np.isnan(selector.validation_scores_[0]).all()
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="every one"):
        DetectorSelector([Failing()], random_state=0).fit(X)


def test_duplicate_names_are_numbered_and_pipelines_work(X):
    pipe = make_pipeline(StandardScaler(), KNN())
    selector = DetectorSelector([KNN(), KNN(n_neighbors=10), pipe], random_state=0).fit(X)
    assert selector.names_ == ["KNN", "KNN_2", "Pipeline", "ensemble"]


def test_custom_scoring_and_clone(X):
    scorer = make_injection_scorer(metric="roc_auc", random_state=1)
    selector = DetectorSelector([KNN(), ECOD()], scoring=scorer, strategy="injection")
    fitted = clone(selector).fit(X)
    assert fitted.validation_scores_.shape == (3, 1)  # KNN, ECOD, their average
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_allclose(restored.decision_function(X), fitted.decision_function(X))


@pytest.mark.parametrize(
    "candidates, scoring, error, message",
    [
        ([], None, ValueError, "at least one candidate"),
        ([StandardScaler()], None, TypeError, "fit and decision_function"),
        ([KNN()], [], ValueError, "non-empty list"),
    ],
)
def test_bad_parameters(X, candidates, scoring, error, message):
    with pytest.raises(error, match=message):
        DetectorSelector(candidates, scoring=scoring).fit(X)


def test_time_series_candidates_hold_out_the_end():
    rng = np.random.default_rng(0)
    t = np.arange(1600)
    series = np.sin(t / 10)[:, None] + 0.05 * rng.normal(size=(1600, 1))
    candidates = [
        TimeSeriesDetector(IForest(n_estimators=20, random_state=0), window=window, stride=4)
        for window in (16, 48)
    ]
    selector = DetectorSelector(candidates, random_state=0).fit(series)
    assert selector.validation_scores_.shape == (2, 1)  # window injectors only
    # "auto" ranks series candidates by injection alone (centrality is not consulted).
    assert selector.best_index_ == int(np.argmax(selector.validation_scores_[:, 0]))
    assert selector.decision_function(series).shape == (1600,)


def test_centrality_scores():
    agree = [[1, 2, 3, 4, 5], [1, 2, 3, 5, 4], [1, 2, 4, 3, 5], [5, 4, 3, 2, 1]]
    centrality = centrality_scores(agree)
    assert centrality.shape == (4,)
    assert np.argmin(centrality) == 3
    assert centrality_scores([[1, 2, 3]]).tolist() == [0.0]
    # A constant scorer has an undefined tau: it counts as no agreement, not NaN.
    assert np.isfinite(centrality_scores([[1, 1, 1], [1, 2, 3]])).all()
