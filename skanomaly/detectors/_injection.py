"""InjectionClassifier: any scikit-learn classifier as a detector of injected anomalies."""

from numbers import Real

import numpy as np
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_is_fitted
from sklearn_compat.base import _fit_context

from skanomaly._detector_base import BaseAnomalyDetector
from skanomaly.injectors import SMOTENoiseInjector
from skanomaly.utils._params import NestedDefaultsMixin
from skanomaly.utils._validation import (
    check_detector_input,
    check_random_seed,
    seed_unset_random_state,
)

__all__ = ["InjectionClassifier"]


class InjectionClassifier(NestedDefaultsMixin, BaseAnomalyDetector):
    """Turn a classifier into an anomaly detector: train it on normal vs injected rows.

    ``fit`` treats every training row as normal (label 0), lets ``injector`` append
    synthetic anomalies (label 1) through its ``fit_resample``, and fits a clone of
    ``classifier`` on the result. The anomaly score of a row is the classifier's probability
    of the injected class (Steinwart et al.'s view of detection as classification against
    generated anomalies, the idea behind AnoRand). Windows ``(n, window, n_channels)`` are
    flattened for the classifier.

    A PyOD detector (``decision_scores_``, ``threshold_``, ``labels_``, ``predict``,
    ``predict_proba``) and a scikit-learn estimator. ``decision_scores_`` are the
    classifier's in-sample probabilities of the training rows, so ``threshold_`` can sit
    lower than on fresh data for classifiers that memorise their training set.

    Parameters
    ----------
    classifier : classifier or None, default=None
        A scikit-learn classifier with ``predict_proba``; cloned in ``fit``. ``None`` means
        ``RandomForestClassifier()``. When its ``random_state`` is ``None`` the clone is
        seeded from ``random_state``.
    injector : BaseInjector or None, default=None
        Generates the anomalies; cloned in ``fit``. ``None`` means ``SMOTENoiseInjector()``.
        Nested parameters (``injector__noise_level``, ``classifier__max_depth``) can be set
        even while the parameter is ``None``: the default instance is created first.
    contamination : float in (0, 0.5], default=0.1
        Expected share of anomalies; sets ``threshold_`` and so ``predict``.
    random_state : int, RandomState instance or None, default=None
        Seeds the injection and, when unseeded, the classifier.

    Attributes
    ----------
    classifier_ : classifier
        The fitted clone of ``classifier``.
    decision_scores_ : ndarray of shape (n_samples,)
        Scores of the training rows (higher = more anomalous).
    threshold_ : float
        ``1 - contamination`` percentile of ``decision_scores_``.
    labels_ : ndarray of shape (n_samples,)
        0/1 labels of the training rows.
    n_injected_ : int
        Number of synthetic anomalies the classifier was trained on.
    n_features_in_ : int
        Features (tabular) or channels (windows).
    input_shape_ : tuple of int
        Shape of one sample.
    feature_names_in_ : ndarray of str
        Column names, when ``X`` was a DataFrame with string column names.

    See Also
    --------
    skanomaly.detectors.AnoRandDetector : A network trained on the same kind of labels.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skanomaly.detectors import InjectionClassifier
    >>> from skanomaly.injectors import GaussianNoiseInjector
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(size=(200, 3)), rng.normal(6, 1, size=(5, 3))])
    >>> detector = InjectionClassifier(
    ...     RandomForestClassifier(n_estimators=20),
    ...     GaussianNoiseInjector(anomaly_ratio=0.5, noise_level=3.0),
    ...     random_state=0,
    ... ).fit(X)
    >>> scores = detector.decision_function(X)
    >>> bool(scores[200:].mean() > scores[:200].mean())
    True
    """

    _parameter_constraints = {
        "classifier": [HasMethods(["fit", "predict_proba"]), None],
        "injector": [HasMethods(["fit_resample"]), None],
        "contamination": [Interval(Real, 0, 0.5, closed="right")],
        "random_state": ["random_state"],
    }
    _nested_defaults = {"classifier": RandomForestClassifier, "injector": SMOTENoiseInjector}

    def __init__(self, classifier=None, injector=None, *, contamination=0.1, random_state=None):
        # Only store (PyOD's __init__ validates here, so it is not called).
        self.classifier = classifier
        self.injector = injector
        self.contamination = contamination
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit the classifier on ``X`` (all normal) plus injected anomalies.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_windows, window, n_channels)
            Training data.
        y : None
            Ignored; present for the scikit-learn API.

        Returns
        -------
        self : object
            Fitted detector.
        """
        X = check_detector_input(self, X, reset=True)
        rng = np.random.default_rng(check_random_seed(self.random_state))
        injector = SMOTENoiseInjector() if self.injector is None else clone(self.injector)
        classifier = RandomForestClassifier() if self.classifier is None else clone(
            self.classifier
        )
        for estimator in (injector, classifier):
            seed_unset_random_state(estimator, rng)
        X_res, y_res = injector.fit_resample(X)
        X_res = np.asarray(X_res)
        self.n_injected_ = int(np.sum(y_res == 1))
        self.classifier_ = classifier.fit(X_res.reshape(len(X_res), -1), y_res)
        self._injected_column = int(np.flatnonzero(self.classifier_.classes_ == 1)[0])
        self._set_training_scores(self._decision_function(X))
        return self

    def decision_function(self, X):
        """Probability that each row is an injected anomaly; higher = more anomalous.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_windows, window, n_channels)
            Samples to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,), dtype float64
        """
        check_is_fitted(self)
        X = check_detector_input(self, X, reset=False, ensure_min_samples=1)
        return self._decision_function(X)

    def _decision_function(self, X):
        proba = self.classifier_.predict_proba(X.reshape(len(X), -1))
        return np.asarray(proba[:, self._injected_column], dtype=np.float64)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags
