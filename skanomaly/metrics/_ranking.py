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
    It needs those labels: a search fitted without ``y`` raises a ``ValueError`` that points
    to :func:`skanomaly.model_selection.make_injection_scorer`, the label-free scorer (instead
    of scikit-learn's NaN scores, which would silently make the first candidate the best).

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
    scorer = make_scorer(_SCORERS[name], response_method="decision_function")
    # Same object, one more check: rebuild it as a _LabelledScorer without calling the
    # private constructor of scikit-learn's _Scorer (its signature changes between releases).
    labelled = object.__new__(_LabelledScorer)
    labelled.__dict__.update(scorer.__dict__)
    labelled._metric_name = name
    return labelled


class _LabelledScorer(type(make_scorer(roc_auc_score))):
    """scikit-learn's scorer, failing loudly when the labels it needs are missing."""

    def __call__(self, estimator, X, y_true=None, **kwargs):
        if y_true is None:
            return _missing_labels(self._metric_name)
        return super().__call__(estimator, X, y_true, **kwargs)

    def _score(self, method_caller, estimator, X, y_true=None, **kwargs):
        if y_true is None:
            return _missing_labels(self._metric_name)
        return super()._score(method_caller, estimator, X, y_true, **kwargs)


class _LabelsRequired:
    """Returned instead of a score when a labelled scorer gets no labels inside scikit-learn.

    scikit-learn's ``_score`` turns any exception raised by a scorer into ``error_score``
    (NaN by default) plus a "Scoring failed" warning, so ``GridSearchCV(...).fit(X)`` would end
    with NaN scores and the first candidate as ``best_params_``. A returned non-number,
    however, is checked *outside* that ``try``: scikit-learn raises ``ValueError("scoring must
    return a number, got <this object> ...")``, and this object's text is our explanation.
    """

    def __init__(self, message):
        self.message = message

    def __repr__(self):
        return self.message

    __str__ = __repr__


def _missing_labels(name):
    message = (
        f"make_anomaly_scorer({name!r}) needs the labels y of the validation data, but the "
        "search or cross-validation was fitted without y. Without labels, score candidates "
        "on injected anomalies: scoring=skanomaly.model_selection.make_injection_scorer()"
    )
    if _called_by_sklearn_validation():
        return _LabelsRequired(message)
    raise ValueError(message)


def _called_by_sklearn_validation():
    """Whether a scikit-learn function that swallows scorer exceptions called us."""
    import sys

    frame = sys._getframe(2)
    for _ in range(4):
        if frame is None:
            return False
        module = frame.f_globals.get("__name__", "")
        if module.startswith(("sklearn.model_selection", "sklearn.metrics._scorer")):
            return True
        frame = frame.f_back
    return False
