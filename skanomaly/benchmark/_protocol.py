"""The evaluation protocol shared by the benchmark runner, ``benchmarks/`` and the docs.

One place decides how a data set is split, scaled, fitted and scored, so that every number the
project reports (and every comparison with PyOD baselines) is measured the same way:

* tabular (ADBench, unsupervised): at most 20,000 rows drawn with ``RandomState(seed)``, a
  stratified 70/30 split with ``random_state=seed``, a ``StandardScaler`` fitted on the train
  part, the detector fitted without labels;
* time series: each channel standardised with the train part's mean and std (std 0 -> 1),
  the detector fitted on the train part, every test step scored.
"""

import os
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skanomaly import metrics as _metrics
from skanomaly.datasets import load_adbench, load_timeseries

__all__ = ["evaluate", "shared_data_dir", "tabular_split", "timeseries_split"]

MAX_TABULAR_ROWS = 20_000


def shared_data_dir(path=None):
    """Locate an optional folder of benchmark data (``tabular/`` and ``timeseries/``).

    Nothing in skanomaly needs this folder; benchmark scripts and tests use it when present.

    Parameters
    ----------
    path : str or path-like, default=None
        Explicit folder. ``None`` uses the ``SKANOMALY_SHARED_DATA`` environment variable,
        else ``shared/data`` beside the checkout that holds the imported package (the layout
        of the project's development checkout); never the working directory. Data sets for
        users live in :func:`~skanomaly.datasets.get_data_home` instead.

    Returns
    -------
    folder : pathlib.Path or None
        The folder, or ``None`` when it does not exist.

    Examples
    --------
    >>> from skanomaly.benchmark import shared_data_dir
    >>> shared_data_dir("/nonexistent/folder") is None
    True
    """
    if path is None:
        checkout = Path(__file__).resolve().parents[2]
        path = os.environ.get("SKANOMALY_SHARED_DATA", checkout.parent / "shared" / "data")
    folder = Path(path).expanduser().resolve()
    return folder if folder.is_dir() else None


def tabular_split(data, seed=0, *, max_rows=MAX_TABULAR_ROWS, data_home=None):
    """Split and scale a tabular anomaly data set as the benchmark protocol says.

    Parameters
    ----------
    data : str, path-like or tuple (X, y)
        An ADBench ``.npz`` path, an ADBench name (loaded with
        :func:`~skanomaly.datasets.load_adbench` from ``data_home`` without downloading),
        or arrays ``(X, y)`` with 1 = anomaly.
    seed : int, default=0
        Seeds the subsample and the split.
    max_rows : int, default=20000
        Larger sets are subsampled to this many rows without replacement.
    data_home : str or path-like, default=None
        Folder for ADBench names.

    Returns
    -------
    X_train, X_test : ndarray of shape (n_train, n_features), (n_test, n_features)
        Standardised with the train part's statistics.
    y_train, y_test : ndarray of shape (n_train,), (n_test,)
        0/1 labels; the train part keeps its natural anomaly ratio (unsupervised setting).

    Examples
    --------
    >>> from skanomaly.benchmark import tabular_split
    >>> from skanomaly.datasets import make_anomalies
    >>> X_train, X_test, y_train, y_test = tabular_split(make_anomalies(200, 3, random_state=0))
    >>> X_train.shape, X_test.shape, int(y_test.sum())
    ((140, 3), (60, 3), 3)
    """
    X, y = _load_tabular(data, data_home)
    if len(X) > max_rows:
        rows = np.random.RandomState(seed).choice(len(X), max_rows, replace=False)
        X, y = X[rows], y[rows]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=seed
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def _load_tabular(data, data_home):
    if isinstance(data, tuple):
        X, y = data
        return np.asarray(X, dtype=np.float64), np.asarray(y).astype(np.int64).ravel()
    path = Path(data)
    if path.suffix == ".npz" and path.exists():
        with np.load(path, allow_pickle=False) as archive:
            return (
                np.asarray(archive["X"], dtype=np.float64),
                np.asarray(archive["y"]).astype(np.int64).ravel(),
            )
    return load_adbench(str(data), data_home=data_home, download=False, return_X_y=True)


def timeseries_split(data, *, data_home=None):
    """Load a labelled series and standardise it as the benchmark protocol says.

    Parameters
    ----------
    data : str, path-like or tuple (train, test, test_labels)
        A time-series ``.npz`` (see :func:`~skanomaly.datasets.load_timeseries`), its name in
        ``data_home``, or the three arrays.
    data_home : str or path-like, default=None
        Folder for names.

    Returns
    -------
    train : ndarray of shape (T_train, D)
    test : ndarray of shape (T_test, D)
        Both standardised per channel with the train part's mean and std (std 0 -> 1).
    test_labels : ndarray of shape (T_test,)
        1 = anomalous time step.

    Examples
    --------
    >>> import numpy as np
    >>> from skanomaly.benchmark import timeseries_split
    >>> train, test, labels = timeseries_split((np.arange(10.0), np.arange(5.0), np.zeros(5)))
    >>> bool(np.isclose(train.mean(), 0.0)), train.shape
    (True, (10, 1))
    """
    if isinstance(data, tuple):
        train, test, test_labels = data
        train = np.asarray(train, dtype=np.float64)
        test = np.asarray(test, dtype=np.float64)
        train = train[:, None] if train.ndim == 1 else train
        test = test[:, None] if test.ndim == 1 else test
        test_labels = np.asarray(test_labels).astype(np.int64).ravel()
    else:
        bunch = load_timeseries(data, data_home=data_home)
        train, test, test_labels = bunch.train, bunch.test, bunch.test_labels
    mean = train.mean(axis=0)
    std = train.std(axis=0)
    std[std == 0] = 1.0
    return (train - mean) / std, (test - mean) / std, test_labels


def evaluate(detector, X_train, X_test, y_test, *, y_train=None, metrics=("auroc", "aupr")):
    """Fit ``detector`` on the train part, score the test part, and measure it.

    Parameters
    ----------
    detector : estimator
        Any detector with ``fit`` and ``decision_function`` (higher = more anomalous):
        skanomaly's, PyOD's, or a :class:`~skanomaly.timeseries.TimeSeriesDetector`.
        It is fitted in place.
    X_train, X_test : array-like
        Train and test parts (rows, windows or a raw series).
    y_test : array-like of shape (n_test,)
        0/1 labels of the test scores (rows or time steps).
    y_train : array-like, default=None
        Passed to ``fit`` only when given (semi-supervised variants); the unsupervised
        protocol fits without labels.
    metrics : sequence of str, default=("auroc", "aupr")
        Names of functions in :mod:`skanomaly.metrics` called as ``metric(y_test, scores)``;
        a function returning a tuple (``best_f1``) contributes its first value.

    Returns
    -------
    result : dict
        One entry per metric, plus ``fit_s`` and ``score_s`` (wall-clock seconds).

    Examples
    --------
    >>> from pyod.models.iforest import IForest
    >>> from skanomaly.benchmark import evaluate, tabular_split
    >>> from skanomaly.datasets import make_anomalies
    >>> X_train, X_test, y_train, y_test = tabular_split(make_anomalies(300, 4, random_state=0))
    >>> result = evaluate(IForest(random_state=0), X_train, X_test, y_test)
    >>> sorted(result)
    ['aupr', 'auroc', 'fit_s', 'score_s']
    """
    functions = {}
    for name in metrics:
        function = getattr(_metrics, name, None)
        if not callable(function):
            raise ValueError(f"Unknown metric {name!r}; choose from {sorted(_metrics.__all__)}.")
        functions[name] = function
    start = time.perf_counter()
    if y_train is None:
        detector.fit(X_train)
    else:
        detector.fit(X_train, y_train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    scores = np.asarray(detector.decision_function(X_test), dtype=np.float64)
    score_s = time.perf_counter() - start
    result = {}
    for name, function in functions.items():
        value = function(y_test, scores)
        result[name] = float(value[0] if isinstance(value, tuple) else value)
    result["fit_s"] = fit_s
    result["score_s"] = score_s
    return result
