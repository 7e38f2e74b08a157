"""AverageEnsemble and DetectorSelector's ensemble candidate (issue 16, second round)."""

import numpy as np
import pytest
from pyod.models.ecod import ECOD
from pyod.models.iforest import IForest
from pyod.models.knn import KNN
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from skanomaly.model_selection import AverageEnsemble, DetectorSelector, make_injection_scorer

from .test_injection_scorer import TouchyLabels
from .test_selector import Constant


@pytest.fixture
def X():
    rng = np.random.default_rng(0)
    return np.r_[rng.normal(size=(200, 3)), rng.normal(loc=5.0, size=(8, 3))]


def _members():
    return [IForest(n_estimators=20, random_state=0), KNN(), ECOD()]


def _by_hand(X_fit, X_new, normalization):
    """The average of the members' normalised scores, computed independently."""
    columns = []
    for member in _members():
        member.fit(X_fit)
        train = member.decision_scores_
        new = member.decision_function(X_new)
        if normalization == "rank":
            columns.append((train[None, :] <= new[:, None]).mean(axis=1))
        else:
            columns.append((new - train.mean()) / train.std())
    return np.mean(columns, axis=0)


@pytest.mark.parametrize("normalization", ["rank", "zscore"])
def test_scores_are_the_average_of_normalised_member_scores(X, normalization):
    X_new = np.r_[X[:20] + 0.3, np.full((2, 3), 9.0)]
    ensemble = AverageEnsemble(_members(), normalization=normalization).fit(X)
    np.testing.assert_allclose(
        ensemble.decision_function(X_new), _by_hand(X, X_new, normalization), atol=1e-12
    )
    assert ensemble.names_ == ["IForest", "KNN", "ECOD"]
    # The far rows are the most anomalous for every member, so for the average too.
    assert set(np.argsort(ensemble.decision_function(X_new))[-2:]) == {20, 21}


def test_training_scores_use_the_members_training_scores(X):
    ensemble = AverageEnsemble(_members(), normalization="zscore").fit(X)
    columns = []
    for member in _members():
        train = member.fit(X).decision_scores_
        columns.append((train - train.mean()) / train.std())
    np.testing.assert_allclose(ensemble.decision_scores_, np.mean(columns, axis=0), atol=1e-12)
    assert ensemble.predict(X).sum() == pytest.approx(0.1 * len(X), abs=2)


def test_fit_never_reads_y(X):
    ensemble = AverageEnsemble(_members()).fit(X, TouchyLabels())
    assert ensemble.decision_function(X).shape == (len(X),)


def test_clone_and_grid_search_without_labels(X):
    search = GridSearchCV(
        AverageEnsemble(_members()),
        {"normalization": ["rank", "zscore"]},
        scoring=make_injection_scorer(random_state=0),
        cv=2,
    ).fit(X)
    assert search.best_params_["normalization"] in ("rank", "zscore")
    twin = clone(search.best_estimator_)
    assert not hasattr(twin, "estimators_")
    np.testing.assert_allclose(
        twin.fit(X).decision_function(X), search.best_estimator_.decision_function(X)
    )


class NaNScores(Constant):
    def decision_function(self, X):
        return np.full(len(X), np.nan)


@pytest.mark.parametrize(
    "detectors, error, message",
    [
        ([], ValueError, "at least one detector"),
        ([KNN(), "knn"], TypeError, "fit and decision_function"),
        ([KNN(), NaNScores()], ValueError, "'NaNScores' gave non-finite"),
    ],
)
def test_bad_members(X, detectors, error, message):
    with pytest.raises(error, match=message):
        AverageEnsemble(detectors).fit(X)


def test_bad_normalization(X):
    with pytest.raises(ValueError, match="normalization"):
        AverageEnsemble(_members(), normalization="max").fit(X)


class CountingKNN(KNN):
    """KNN that counts its fits (class-wide), to show the ensemble refits nothing."""

    fits = 0

    def fit(self, X, y=None):
        type(self).fits += 1
        return super().fit(X, y)


@pytest.mark.parametrize("normalization", ["rank", "zscore"])
def test_selector_ensemble_candidate_reuses_the_fitted_candidates(X, normalization):
    CountingKNN.fits = 0
    candidates = [CountingKNN(), CountingKNN(n_neighbors=10), ECOD()]
    selector = DetectorSelector(
        candidates, ensemble=normalization, strategy="centrality", refit=False, random_state=0
    ).fit(X)
    assert CountingKNN.fits == 2  # one fit per candidate; the ensemble adds none
    assert selector.names_ == ["CountingKNN", "CountingKNN_2", "ECOD", "ensemble"]
    assert selector.validation_scores_.shape == (4, 1)  # the scorer's default only
    assert np.isfinite(selector.centrality_).all()
    # The consensus agrees most with everyone: centrality picks it, and it is kept as
    # fitted on the training part (refit=False) with the candidates as its members.
    assert selector.best_name_ == "ensemble"
    best = selector.best_estimator_
    assert isinstance(best, AverageEnsemble) and best.normalization == normalization
    assert [type(m).__name__ for m in best.estimators_] == ["CountingKNN", "CountingKNN", "ECOD"]
    np.testing.assert_allclose(selector.decision_function(X), best.decision_function(X))


def test_selector_refits_a_winning_ensemble_on_all_rows(X):
    selector = DetectorSelector(
        [KNN(), ECOD()], ensemble="rank", strategy="centrality", random_state=0
    ).fit(X)
    assert selector.best_name_ == "ensemble"
    assert selector.best_estimator_.decision_scores_.shape == (len(X),)
    for member in selector.best_estimator_.estimators_:
        assert member.decision_scores_.shape == (len(X),)


def test_selector_without_ensemble_has_no_extra_candidate(X):
    selector = DetectorSelector([KNN(), ECOD()], ensemble=None, random_state=0).fit(X)
    assert selector.names_ == ["KNN", "ECOD"]


def test_selector_ensemble_skips_candidates_with_non_finite_scores(X):
    with pytest.warns(UserWarning, match="'NaNScores' failed|non-finite"):
        selector = DetectorSelector(
            [KNN(), ECOD(), NaNScores()], ensemble="rank", random_state=0
        ).fit(X)
    assert selector.names_[-1] == "ensemble"
    assert selector.best_name_ != "NaNScores"


class NaNTrainingScores(Constant):
    """Scores new rows, but its training scores are NaN: it cannot be normalised."""

    def fit(self, X, y=None):
        self.decision_scores_ = np.full(len(X), np.nan)
        return self

    def decision_function(self, X):
        return np.asarray(X).sum(axis=1)


def test_selector_warns_and_goes_on_when_the_ensemble_cannot_be_built(X):
    with pytest.warns(UserWarning, match="ensemble candidate failed.*non-finite training"):
        selector = DetectorSelector([KNN(), NaNTrainingScores()], random_state=0).fit(X)
    assert selector.names_ == ["KNN", "NaNTrainingScores"]
