"""BaseAnomalyDetector: the PyOD + scikit-learn detector contract, without torch.

Importable without torch, so that :class:`~skanomaly.timeseries.TimeSeriesDetector` and
:class:`~skanomaly.detectors.InjectionClassifier` (and ``import skanomaly.timeseries``) do not
load it. Public as :class:`skanomaly.base.BaseAnomalyDetector`.

* ``decision_function`` returns scores where **higher means more anomalous**; ``predict``
  returns 0 (normal) / 1 (anomaly) against ``threshold_``, the ``1 - contamination`` percentile
  of the training scores (PyOD's convention);
* ``score_samples`` returns ``-decision_function`` (scikit-learn's orientation) for users who
  expect it;
* scikit-learn's ``outlier_detector`` tag is *not* claimed: it demands -1/+1 labels, which
  contradicts PyOD's 0/1 labels. Without it, ``parametrize_with_checks`` passes.
"""

from pyod.models.base import BaseDetector
from sklearn.base import BaseEstimator

__all__ = ["BaseAnomalyDetector"]


class BaseAnomalyDetector(BaseDetector):
    """The PyOD + scikit-learn contract shared by every skanomaly detector (torch-free part).

    Subclasses (:class:`BaseDeepDetector`, :class:`~skanomaly.timeseries.TimeSeriesDetector`,
    :class:`~skanomaly.detectors.InjectionClassifier`) implement ``fit`` and
    ``decision_function`` and call :meth:`_set_training_scores` at the end of ``fit``; this
    class supplies the rest:

    * scikit-learn's ``get_params``/``set_params``/``repr`` instead of PyOD's older copies, and
      no validation in ``__init__`` (PyOD's ``__init__``, which validates, is never called);
    * ``threshold_`` / ``labels_`` from the training scores (PyOD's contamination
      percentile), hence PyOD's ``predict``, ``predict_proba`` and ``predict_confidence``;
    * ``score_samples = -decision_function`` for scikit-learn users;
    * scikit-learn tags without PyOD's ``outlier_detector`` claim (see the module docstring).

    Examples
    --------
    A detector that scores the distance to the training mean:

    >>> import numpy as np
    >>> from skanomaly.base import BaseAnomalyDetector
    >>> class DistanceToMean(BaseAnomalyDetector):
    ...     def __init__(self, *, contamination=0.1):
    ...         self.contamination = contamination
    ...     def fit(self, X, y=None):
    ...         self.mean_ = np.asarray(X, dtype=float).mean(axis=0)
    ...         self._set_training_scores(self.decision_function(X))
    ...         return self
    ...     def decision_function(self, X):
    ...         return np.linalg.norm(np.asarray(X, dtype=float) - self.mean_, axis=1)
    >>> X = np.r_[np.zeros((9, 2)), [[5.0, 5.0]]]
    >>> DistanceToMean().fit(X).predict(X).tolist()
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    """

    _get_param_names = classmethod(BaseEstimator._get_param_names.__func__)
    get_params = BaseEstimator.get_params
    set_params = BaseEstimator.set_params
    __repr__ = BaseEstimator.__repr__

    def _set_training_scores(self, scores):
        """Store the training scores and derive ``threshold_`` and ``labels_`` from them."""
        self._classes = 2  # read by PyOD's predict_proba
        self.decision_scores_ = scores
        self._process_decision_scores()

    def score_samples(self, X):
        """Opposite of :meth:`decision_function` (scikit-learn's orientation: lower = more
        abnormal).

        Parameters
        ----------
        X : array-like
            Samples to score, shaped like the training data.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        return -self.decision_function(X)

    def __sklearn_is_fitted__(self):
        return hasattr(self, "decision_scores_")

    def __sklearn_tags__(self):
        # Skip PyOD's override: it claims the outlier_detector tag, whose checks require
        # -1/+1 labels (see module docstring).
        tags = BaseEstimator.__sklearn_tags__(self)
        tags.target_tags.required = False
        return tags
