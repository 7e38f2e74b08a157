import numpy as np
import pytest
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from skanomaly.metrics import aupr, auroc, best_f1, make_anomaly_scorer
from skanomaly.utils._testing import ReferenceAutoEncoder


def test_auroc_aupr_match_sklearn():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    s = rng.normal(size=200) + y
    assert auroc(y, s) == pytest.approx(roc_auc_score(y, s))
    assert aupr(y, s) == pytest.approx(average_precision_score(y, s))


def test_best_f1_matches_brute_force_over_thresholds():
    rng = np.random.default_rng(1)
    for _ in range(50):
        y = rng.integers(0, 2, 40)
        y[0] = 1
        s = rng.integers(0, 8, 40).astype(float)  # many ties
        f1, threshold = best_f1(y, s)
        brute = max(f1_score(y, (s >= t).astype(int)) for t in np.unique(s))
        assert f1 == pytest.approx(brute)
        assert f1_score(y, (s >= threshold).astype(int)) == pytest.approx(f1)


def test_best_f1_hand_example():
    # Flag {0.8, 0.4, 0.35}: TP=2, FP=1, FN=0 -> F1 = 0.8 at threshold 0.35.
    assert best_f1([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == (pytest.approx(0.8), 0.35)


@pytest.mark.parametrize(
    ("y", "s", "message"),
    [
        ([0, 0, 0], [1, 2, 3], "both normal"),
        ([0, 1, 2], [1, 2, 3], "0 \\(normal\\) and 1"),
        ([0, 1], [1, 2, 3], "same length"),
        ([0, 1], [1, np.nan], "NaN"),
    ],
)
def test_metrics_reject_bad_input(y, s, message):
    with pytest.raises(ValueError, match=message):
        auroc(y, s)


def test_scorer_ranks_decision_function_in_grid_search(tabular_data):
    X, y = tabular_data
    search = GridSearchCV(
        ReferenceAutoEncoder(epochs=2, device="cpu", random_state=0),
        {"latent_dim": [1, 2]},
        scoring=make_anomaly_scorer("average_precision"),
        cv=StratifiedKFold(2),
    )
    search.fit(X, y)
    assert 0 <= search.best_score_ <= 1
    with pytest.raises(ValueError, match="name must be"):
        make_anomaly_scorer("accuracy")
