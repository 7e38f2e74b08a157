"""Threshold-free ranking metrics and the best-F1 oracle for anomaly scores."""

import numpy as np
from sklearn.metrics import average_precision_score, make_scorer, roc_auc_score

from skanomaly.utils._validation import check_scores

__all__ = ["auroc", "aupr", "best_f1", "make_anomaly_scorer"]


def auroc(y_true, scores):
    """Area under the ROC curve of anomaly scores.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        1 = anomaly, 0 = normal.
    scores : array-like of shape (n_samples,)
        Anomaly scores, higher = more anomalous (``decision_function``).

    Returns
    -------
    auroc : float

    Examples
    --------
    >>> from skanomaly.metrics import auroc
    >>> auroc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    y_true, scores = check_scores(y_true, scores)
    return float(roc_auc_score(y_true, scores))


def aupr(y_true, scores):
    """Area under the precision-recall curve (average precision) of anomaly scores.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        1 = anomaly, 0 = normal.
    scores : array-like of shape (n_samples,)
        Anomaly scores, higher = more anomalous.

    Returns
    -------
    aupr : float

    Examples
    --------
    >>> from skanomaly.metrics import aupr
    >>> round(aupr([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 3)
    0.833
    """
    y_true, scores = check_scores(y_true, scores)
    return float(average_precision_score(y_true, scores))


def best_f1(y_true, scores):
    """Best F1 over all thresholds, and that threshold. **An oracle**: it uses the labels.

    Use it to describe the headroom of a score, never to report a deployable detector: a
    deployed detector picks its threshold without test labels (``contamination``).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        1 = anomaly, 0 = normal.
    scores : array-like of shape (n_samples,)
        Anomaly scores, higher = more anomalous.

    Returns
    -------
    f1 : float
        The best F1.
    threshold : float
        Scores ``>= threshold`` are flagged to reach it.

    Examples
    --------
    >>> from skanomaly.metrics import best_f1
    >>> f1, threshold = best_f1([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> round(f1, 3), threshold
    (0.8, 0.35)
    """
    y_true, scores = check_scores(y_true, scores)
    order = np.argsort(-scores, kind="mergesort")
    sorted_scores, sorted_true = scores[order], y_true[order]
    # Only the last position of each run of tied scores is a valid cut.
    distinct = np.r_[np.flatnonzero(np.diff(sorted_scores)), len(scores) - 1]
    true_pos = np.cumsum(sorted_true)[distinct]
    flagged = distinct + 1
    precision = true_pos / flagged
    recall = true_pos / sorted_true.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(true_pos > 0, 2 * precision * recall / (precision + recall), 0.0)
    best = int(np.argmax(f1))
    return float(f1[best]), float(sorted_scores[distinct[best]])


_SCORERS = {
    "roc_auc": roc_auc_score,
    "auroc": roc_auc_score,
    "average_precision": average_precision_score,
    "aupr": average_precision_score,
}


def make_anomaly_scorer(name="roc_auc"):
    """A scikit-learn scorer that ranks ``decision_function`` output against 0/1 labels.

    Use it as ``GridSearchCV(..., scoring=make_anomaly_scorer("average_precision"))``: the
    labels of the validation folds are only used to score, detectors still fit unlabelled.

    Parameters
    ----------
    name : {"roc_auc", "auroc", "average_precision", "aupr"}, default="roc_auc"
        The metric.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y)``; greater is better.

    Examples
    --------
    >>> from skanomaly.metrics import make_anomaly_scorer
    >>> scorer = make_anomaly_scorer("average_precision")
    """
    if name not in _SCORERS:
        raise ValueError(f"name must be one of {sorted(_SCORERS)}; got {name!r}.")
    return make_scorer(_SCORERS[name], response_method="decision_function")
