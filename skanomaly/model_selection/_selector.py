"""DetectorSelector: fit candidate detectors, rank them without labels, refit the winner."""

import warnings
from numbers import Real

import numpy as np
from scipy.stats import kendalltau, rankdata
from sklearn.base import clone
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from sklearn_compat.base import _fit_context

from skanomaly.base import BaseAnomalyDetector
from skanomaly.model_selection._ensemble import AverageEnsemble, _named_estimators, _pyod_zoo
from skanomaly.model_selection._scorer import _final_step, make_injection_scorer
from skanomaly.utils._validation import check_detector_input, check_random_seed

__all__ = ["DetectorSelector", "centrality_scores"]

_MIN_HOLDOUT_ROWS = 10
# Chosen on development data (benchmarks/model_selection_results.md), never on ADBench.
_AUTO_ENSEMBLE = "zscore"


def centrality_scores(validation_scores):
    """Model centrality (Goswami et al., 2023): agreement of each model with the others.

    A detector whose ranking of the validation rows agrees with the consensus of the other
    candidates is taken to be more reliable. The centrality of a candidate is its mean Kendall
    tau with every other candidate's scores.

    Parameters
    ----------
    validation_scores : array-like of shape (n_candidates, n_samples)
        ``decision_function`` of every candidate on the same rows.

    Returns
    -------
    centrality : ndarray of shape (n_candidates,)
        Higher = more central. One candidate alone gets 0.

    References
    ----------
    .. [1] M. Goswami, C. Challu, L. Callot, L. Minorics and A. Kan, "Unsupervised Model
       Selection for Time-series Anomaly Detection", ICLR 2023.

    Examples
    --------
    >>> from skanomaly.model_selection import centrality_scores
    >>> centrality_scores([[1, 2, 3, 4], [1, 2, 4, 3], [4, 3, 2, 1]]).round(2).tolist()
    [-0.17, 0.0, -0.83]
    """
    scores = np.asarray(validation_scores, dtype=np.float64)
    n = len(scores)
    tau = np.eye(n)
    for i in range(n):
        for j in range(i + 1, n):
            value = kendalltau(scores[i], scores[j]).statistic
            tau[i, j] = tau[j, i] = 0.0 if not np.isfinite(value) else value
    if n < 2:
        return np.zeros(n)
    return (tau.sum(axis=1) - 1.0) / (n - 1)


class DetectorSelector(BaseAnomalyDetector):
    """Pick the best of several detectors without labels, then refit it on all the data.

    ``fit`` holds out ``validation_fraction`` of ``X``, fits a clone of every candidate on the
    rest, adds (by default, for rows) the average of their standardised scores as one more
    candidate (:class:`AverageEnsemble`, built from the fitted candidates without refitting
    them), ranks the candidates on the held-out part without labels (by default, for rows, the
    Borda count of an injected-anomaly score, :func:`make_injection_scorer`, and of model
    centrality), and refits the best candidate on the whole of ``X``. Candidates may be anything with
    ``fit`` and ``decision_function``: skanomaly's detectors, PyOD's, Pipelines. The selector is
    itself a PyOD detector (``decision_scores_``, ``threshold_``, ``labels_``, ``predict``)
    whose scores are the winner's.

    ``y`` is never read: the choice uses no labels.

    Parameters
    ----------
    candidates : list of estimators or of (name, estimator) pairs, or None, default=None
        The detectors to choose from (unfitted; they are cloned). ``None`` uses PyOD's
        IForest, KNN, LOF, ECOD and HBOS with their defaults.
    scoring : callable, list of callables or None, default=None
        ``scoring(fitted_estimator, X_validation)`` -> float, greater is better. ``None`` uses
        :func:`make_injection_scorer`'s default: for rows, ADBench's four synthetic anomaly
        types generated from the held-out rows (the injected-anomaly validation of Fung et al.
        2023); for time-series candidates, the window injectors. (Until the ensemble candidate
        came, ``None`` also added a scorer with noise anomalies, Gaussian noise of 1 and 3
        standard deviations and SMOTE + noise; with the ensemble it did not help on
        development data.)
    strategy : {"auto", "borda", "injection", "centrality"}, default="auto"
        How candidates are ranked. ``"injection"``: the mean of the ``scoring`` values;
        ``"centrality"``: agreement with the other candidates on the held-out rows
        (:func:`centrality_scores`, Goswami et al. 2023); ``"borda"``: the sum of the ranks
        given by every scorer and by centrality (ties broken by the first scorer), the
        rank aggregation of Goswami et al. ``"auto"`` is ``"borda"`` for rows and windows and
        ``"injection"`` for time-series candidates: each won on development data that is not
        the benchmark's (see the user guide, "Tuning without labels").
    ensemble : {"auto", "zscore", "rank"} or None, default="auto"
        Add the average of the fitted candidates' scores as one more candidate, named
        ``"ensemble"``: an :class:`AverageEnsemble` of every candidate that fitted and scored
        the held-out rows, with this ``normalization``, built from the models already fitted
        (no candidate is fitted twice; only a winning ensemble is refitted, member by member,
        when ``refit=True``). ``"auto"``: ``"zscore"`` for rows and windows, none for
        time-series candidates (not measured there). ``None``: no ensemble candidate. On by
        default since, on development data (not the benchmark's), the zscore average as a
        candidate raised the selection's mean test AUPR from 0.676 to 0.723 (user guide,
        "Tuning without labels").
    validation_fraction : float in (0, 1), default=0.25
        Share of the rows held out to rank candidates: a random subset for tabular data, the
        last steps for a raw series (candidates that are
        :class:`~skanomaly.timeseries.TimeSeriesDetector`). With fewer than 10 rows in either
        part, candidates are fitted and ranked on all the rows.
    refit : bool, default=True
        Refit the winner on all of ``X``; ``False`` keeps the clone fitted on the training
        part.
    contamination : float in (0, 0.5], default=0.1
        Expected share of anomalies; sets ``threshold_`` from the winner's training scores.
    random_state : int, RandomState instance or None, default=None
        Seeds the held-out split and the injected anomalies.

    Attributes
    ----------
    best_estimator_ : estimator
        The winning candidate, fitted.
    best_index_ : int
        Its position in ``names_`` (``len(candidates)`` when the ensemble won).
    best_name_ : str
        Its name.
    names_ : list of str
        Name of every candidate (given, or the class name, numbered when repeated), then
        ``"ensemble"`` when the ensemble candidate was added.
    validation_scores_ : ndarray of shape (n_candidates, n_scorers)
        Every scorer's value for every candidate on the held-out part (NaN where a candidate
        failed).
    centrality_ : ndarray of shape (n_candidates,)
        Model centrality of every candidate on the held-out part.
    decision_scores_ : ndarray of shape (n_samples,)
        The winner's scores of the training data.
    threshold_ : float
        Score above which ``predict`` returns 1.
    labels_ : ndarray of shape (n_samples,)
        0/1 labels of the training data.
    n_features_in_ : int
        Number of features (tabular) or channels (windows, series).
    input_shape_ : tuple of int
        Shape of one sample seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names, when ``X`` was a DataFrame with string column names.

    See Also
    --------
    make_injection_scorer : The default label-free scoring.
    AverageEnsemble : The ensemble candidate.

    Examples
    --------
    >>> import numpy as np
    >>> from pyod.models.ecod import ECOD
    >>> from pyod.models.iforest import IForest
    >>> from skanomaly.model_selection import DetectorSelector
    >>> X = np.random.default_rng(0).normal(size=(200, 3))
    >>> selector = DetectorSelector([("iforest", IForest(random_state=0)), ("ecod", ECOD())],
    ...                             random_state=0).fit(X)
    >>> selector.names_
    ['iforest', 'ecod', 'ensemble']
    >>> selector.best_name_ in selector.names_, selector.decision_function(X).shape
    (True, (200,))
    """

    _parameter_constraints = {
        "candidates": [list, tuple, None],
        "scoring": [callable, list, None],
        "strategy": [StrOptions({"auto", "injection", "centrality", "borda"})],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "ensemble": [StrOptions({"auto", "rank", "zscore"}), None],
        "refit": ["boolean"],
        "contamination": [Interval(Real, 0, 0.5, closed="right")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        candidates=None,
        *,
        scoring=None,
        strategy="auto",
        validation_fraction=0.25,
        ensemble="auto",
        refit=True,
        contamination=0.1,
        random_state=None,
    ):
        self.candidates = candidates
        self.scoring = scoring
        self.strategy = strategy
        self.validation_fraction = validation_fraction
        self.ensemble = ensemble
        self.refit = refit
        self.contamination = contamination
        self.random_state = random_state

    def _named_candidates(self):
        if self.candidates is None:
            return _pyod_zoo(self.random_state)
        return _named_estimators(self.candidates, "DetectorSelector", "candidate")

    def _split(self, n, series, seed):
        n_valid = int(round(self.validation_fraction * n))
        if min(n_valid, n - n_valid) < _MIN_HOLDOUT_ROWS:
            everything = np.arange(n)
            return everything, everything
        if series:
            # A series is ordered: hold out its end, as TimeSeriesSplit would.
            return np.arange(n - n_valid), np.arange(n - n_valid, n)
        order = np.random.default_rng(seed).permutation(n)
        return np.sort(order[n_valid:]), np.sort(order[:n_valid])

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit every candidate on part of ``X``, rank them without labels, refit the best.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_windows, window, n_channels)
            Training data: rows, windows, or a raw series ``(n_timestamps, n_channels)``
            when the candidates are time-series detectors.
        y : Ignored
            Never read (present for API consistency).

        Returns
        -------
        self : object
        """
        del y  # the selection is label-free by construction
        # float32 like the deep detectors: values beyond it are rejected up front, clearly.
        check_detector_input(self, X, reset=True)
        named = self._named_candidates()
        seed = check_random_seed(self.random_state)
        from skanomaly.timeseries import TimeSeriesDetector

        series = any(isinstance(_final_step(est), TimeSeriesDetector) for _, est in named)
        scorers = self._scorers(seed, series)
        train, valid = self._split(_n_samples(X), series, seed)
        X_train, X_valid = _take(X, train), _take(X, valid)

        fitted, scores, valid_scores = [], [], []
        for name, estimator in named:
            try:
                model = clone(estimator).fit(X_train)
                scores.append([float(scorer(model, X_valid)) for scorer in scorers])
                valid_scores.append(np.asarray(model.decision_function(X_valid), dtype=float))
                fitted.append(model)
            except Exception as exc:  # one failing candidate must not sink the others
                warnings.warn(
                    f"DetectorSelector: candidate {name!r} failed and is skipped: "
                    f"{type(exc).__name__}: {exc}",
                    UserWarning,
                    stacklevel=2,
                )
                scores.append([np.nan] * len(scorers))
                valid_scores.append(None)
                fitted.append(None)
        ok = [i for i, model in enumerate(fitted) if model is not None]
        if not ok:
            raise ValueError(
                f"DetectorSelector: every one of the {len(named)} candidates failed to fit "
                "or score; see the warnings above."
            )
        normalization = self._ensemble_normalization(series)
        members = [i for i in ok if np.isfinite(valid_scores[i]).all()]
        if normalization is not None and len(members) >= 2:
            added = self._ensemble_candidate(
                [named[i] for i in members], [fitted[i] for i in members], normalization,
                scorers, X_train, X_valid,
            )
            if added is not None:
                taken = {name for name, _ in named}
                name = next(f"ensemble{suffix}" for suffix in ("", *range(2, len(named) + 2))
                            if f"ensemble{suffix}" not in taken)
                named.append((name, added[0]))
                fitted.append(added[1])
                scores.append(added[2])
                valid_scores.append(added[3])
                ok.append(len(named) - 1)
        self.names_ = [name for name, _ in named]
        self.validation_scores_ = np.asarray(scores, dtype=np.float64)
        self.centrality_ = np.full(len(named), np.nan)
        finite_rows = [i for i in ok if np.isfinite(valid_scores[i]).all()]
        if len(finite_rows) >= 1:
            self.centrality_[finite_rows] = centrality_scores(
                [valid_scores[i] for i in finite_rows]
            )
        self.best_index_ = int(self._choose(ok, series))
        self.best_name_ = self.names_[self.best_index_]
        best = named[self.best_index_][1]
        if self.refit:
            self.best_estimator_ = clone(best).fit(X)
        else:
            self.best_estimator_ = fitted[self.best_index_]
        self._set_training_scores(
            np.asarray(self.best_estimator_.decision_function(X), dtype=np.float64).ravel()
        )
        return self

    def _ensemble_candidate(self, member_named, members, normalization, scorers, X_train,
                            X_valid):
        """The average of the fitted candidates, built from them (no refit) and scored like
        the others: (unfitted ensemble, fitted ensemble, scorer values, held-out scores), or
        None with a warning when it cannot be built."""
        ensemble = AverageEnsemble(
            member_named, normalization=normalization, contamination=self.contamination
        )
        try:
            model = clone(ensemble)
            check_detector_input(model, X_train, reset=True)
            model._set_members([name for name, _ in member_named], members, X_train)
            values = [float(scorer(model, X_valid)) for scorer in scorers]
            held_out = np.asarray(model.decision_function(X_valid), dtype=float)
        except Exception as exc:  # e.g. members whose scores cannot be normalised
            warnings.warn(
                f"DetectorSelector: the ensemble candidate failed and is skipped: "
                f"{type(exc).__name__}: {exc}",
                UserWarning,
                stacklevel=3,
            )
            return None
        return ensemble, model, values, held_out

    def _ensemble_normalization(self, series):
        if self.ensemble == "auto":
            # Measured on development rows only (the user guide, "Tuning without labels");
            # the series benchmark has no ensemble candidate, so series keep none.
            return None if series else _AUTO_ENSEMBLE
        return self.ensemble

    def _scorers(self, seed, series):
        if self.scoring is None:
            # The scorer's default: ADBench's four anomaly types for rows, the window
            # injectors for series. (The noise injectors of the first round added nothing to
            # the Borda count on development data once the ensemble candidate was in.)
            return [make_injection_scorer(random_state=seed)]
        scorers = list(self.scoring) if isinstance(self.scoring, list) else [self.scoring]
        if not scorers or not all(callable(scorer) for scorer in scorers):
            raise ValueError(
                "DetectorSelector: scoring must be a callable, a non-empty list of callables "
                f"or None; got {self.scoring!r}."
            )
        return scorers

    def _choose(self, ok, series):
        values = np.where(np.isfinite(self.validation_scores_), self.validation_scores_, -np.inf)
        centrality = np.where(np.isfinite(self.centrality_), self.centrality_, -np.inf)
        strategy = self.strategy
        if strategy == "auto":
            strategy = "injection" if series else "borda"
        if strategy == "injection":
            key = values.mean(axis=1)
        elif strategy == "centrality":
            key = centrality
        else:
            # Borda count: the ranks given by every scorer and by centrality, summed; higher
            # is better. The first scorer breaks ties.
            columns = [values[ok, j] for j in range(values.shape[1])] + [centrality[ok]]
            key = np.full(len(centrality), -np.inf)
            key[ok] = sum(rankdata(column) for column in columns) + 1e-6 * rankdata(columns[0])
        masked = np.full(len(key), -np.inf)
        masked[ok] = key[ok]
        return int(np.argmax(masked))

    def decision_function(self, X):
        """Anomaly scores of the winning candidate; higher = more anomalous.

        Parameters
        ----------
        X : array-like
            Samples shaped like the training data.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        check_detector_input(self, X, reset=False, ensure_min_samples=1)
        return np.asarray(self.best_estimator_.decision_function(X), dtype=np.float64).ravel()


def _n_samples(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)


def _take(X, rows):
    if hasattr(X, "iloc"):
        return X.iloc[rows]
    return np.asarray(X)[rows]
