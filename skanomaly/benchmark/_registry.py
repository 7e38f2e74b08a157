"""Names -> detectors for the benchmark runner: skanomaly's detectors and PyOD baselines.

A name is either one of skanomaly's detectors (``"AnoRand"``, ``"DHAG"``, ``"GenIAS"``,
``"ASTER"``), ``"pyod:<Class>"`` for a PyOD baseline, or ``"stumpy:MatrixProfile"`` (the
matrix profile of the test series against the training series, time-series suite only; PyOD's
own ``MatrixProfile`` cannot score a series it was not fitted on). Every detector is built for one cell
of the grid: seeded with the cell's seed and, with ``quick=True``, with small per-detector
settings so that a whole grid runs in minutes.

skanomaly's detectors are imported lazily, by name, when a cell is built: a detector that is
missing from the installed version fails its own cells (the error is recorded) and nothing
else.
"""

import importlib
import inspect

from sklearn.base import clone

__all__ = ["list_detectors", "make_detector"]

# name -> class name in skanomaly.detectors.
_OURS = {
    "AnoRand": "AnoRandDetector",
    "DHAG": "DHAGDetector",
    "GenIAS": "GenIASDetector",
    "ASTER": "ASTERDetector",
}
# Quick settings of our detectors (``quick=True``): a smoke run of every stage, not a result.
# Measured on the embedded series (1,500 steps x 2 channels, window 100, stride 10, one torch
# thread; issue 17): ``skanomaly bench --suite timeseries`` took 261 s with 10 epochs of every
# stage at full width (GenIAS 43-51 s and ASTER 65-80 s per fit, most in the generator's
# epochs and the transformer's attention). Every stage gets a few epochs and the networks are
# narrower. A parameter a class does not have (renamed in a later version) is an error of
# make_detector, caught by the benchmark tests.
_OURS_QUICK = {
    "AnoRand": {"epochs": 10, "batch_size": 128},
    "DHAG": {"epochs": 5, "batch_size": 128},
    "GenIAS": {
        "epochs": 3,
        "batch_size": 128,
        "injector_epochs": 5,
        "classification_epochs": 3,
        "hidden_channels": (16, 32),
        "embedding_dim": 32,
        # The default became 512 for full fits (issue 17's budget study); a smoke run keeps 256.
        "max_train_windows": 256,
    },
    "ASTER": {
        "epochs": 3,
        "batch_size": 128,
        "d_model": 32,
        "n_layers": 1,
        "dim_feedforward": 64,
    },
}
# Quick runs of the time-series suite fit every window detector on at most this many windows
# (TimeSeriesDetector's max_fit_windows, evenly spread over the training series): long
# training series (SMD: 23,688 steps) then cost what a short one does.
_QUICK_FIT_WINDOWS = 1000

# PyOD baselines: name -> (module, class, kind, quick parameters, fixed parameters).
# kind "points" detectors score rows; in the time-series suite they see flattened windows
# through TimeSeriesDetector. kind "series" detectors are PyOD's own time-series detectors:
# they take the raw series (T, D) and return one score per step.
_PYOD = {
    "IForest": ("pyod.models.iforest", "IForest", "points", {}, {}),
    "ECOD": ("pyod.models.ecod", "ECOD", "points", {}, {}),
    "COPOD": ("pyod.models.copod", "COPOD", "points", {}, {}),
    "KNN": ("pyod.models.knn", "KNN", "points", {}, {}),
    "LOF": ("pyod.models.lof", "LOF", "points", {}, {}),
    "HBOS": ("pyod.models.hbos", "HBOS", "points", {}, {}),
    "PCA": ("pyod.models.pca", "PCA", "points", {}, {}),
    "AutoEncoder": (
        "pyod.models.auto_encoder",
        "AutoEncoder",
        "points",
        {"epoch_num": 5},
        {"verbose": 0, "device": "cpu"},
    ),
    "DeepSVDD": ("pyod.models.deep_svdd", "DeepSVDD", "points", {"epochs": 10}, {"verbose": 0}),
    # PyOD's time-series detectors.
    "TimeSeriesOD": ("pyod.models.ts_od", "TimeSeriesOD", "series", {}, {}),
    "SpectralResidual": ("pyod.models.ts_spectral_residual", "SpectralResidual", "series", {}, {}),
    "MatrixProfile": ("pyod.models.ts_matrix_profile", "MatrixProfile", "series", {}, {}),
    "KShape": ("pyod.models.ts_kshape", "KShape", "series", {"max_iter": 20}, {}),
    "SAND": ("pyod.models.ts_sand", "SAND", "series", {"max_iter": 10}, {}),
    "LSTMAD": ("pyod.models.ts_lstm", "LSTMAD", "series", {"epochs": 5}, {}),
    "AnomalyTransformer": (
        "pyod.models.ts_anomaly_transformer",
        "AnomalyTransformer",
        "series",
        {"epochs": 2, "d_model": 64, "n_layers": 1},
        {"device": "cpu"},
    ),
}
# Baselines of the time-series suite from other libraries: name -> class in
# skanomaly.benchmark._baselines (they take the raw series and the window length).
_OTHER_SERIES = {"stumpy:MatrixProfile": "MatrixProfileAB"}
# PyOD's series detectors that take a window length.
_WINDOW_PARAMETER = {
    "TimeSeriesOD": "window_size",
    "MatrixProfile": "window_size",
    "KShape": "window_size",
    "SAND": "window_size",
    "LSTMAD": "window_size",
    "AnomalyTransformer": "window_size",
}

SUITES = ("tabular", "timeseries")


def list_detectors(suite=None):
    """Names the benchmark registry knows.

    Parameters
    ----------
    suite : {"tabular", "timeseries"} or None, default=None
        Only the names usable in that suite (PyOD's time-series detectors are not usable on
        tabular data); ``None`` lists all.

    Returns
    -------
    names : list of str
        skanomaly's detectors first, then ``"pyod:<Class>"`` baselines.

    Examples
    --------
    >>> from skanomaly.benchmark import list_detectors
    >>> list_detectors("tabular")[:5]
    ['AnoRand', 'DHAG', 'GenIAS', 'ASTER', 'pyod:IForest']
    """
    _check_suite(suite, allow_none=True)
    names = list(_OURS)
    for name, (_, _, kind, _, _) in _PYOD.items():
        if suite == "tabular" and kind == "series":
            continue
        names.append(f"pyod:{name}")
    if suite != "tabular":
        names.extend(_OTHER_SERIES)
    return names


def check_detector_name(name, suite):
    """Raise a ``ValueError`` naming the choices if ``name`` is unknown for ``suite``."""
    _check_suite(suite)
    if name not in list_detectors(suite):
        if name in list_detectors():
            raise ValueError(f"{name!r} is a time-series detector; use it with suite='timeseries'.")
        raise ValueError(
            f"Unknown detector {name!r} for suite {suite!r}; known names: "
            f"{', '.join(list_detectors(suite))}."
        )


def make_detector(
    name, *, suite="tabular", seed=0, quick=False, window=100, stride=1, n_features=None
):
    """Build the detector of one benchmark cell.

    Parameters
    ----------
    name : str or tuple (str, estimator)
        A registry name (see :func:`list_detectors`), or a ``(label, estimator)`` pair: the
        estimator is cloned and its ``random_state`` (if any) set to ``seed``.
    suite : {"tabular", "timeseries"}, default="tabular"
        In the time-series suite, detectors that score rows or windows are wrapped in
        :class:`~skanomaly.timeseries.TimeSeriesDetector`; PyOD's own time-series detectors
        get ``window`` as their window length.
    seed : int, default=0
        ``random_state`` of the detector (when it has one).
    quick : bool, default=False
        Use the registry's fast settings instead of the defaults: few epochs of every stage
        and narrower networks for skanomaly's detectors, and in the time-series suite at most
        1,000 training windows per detector (``TimeSeriesDetector(max_fit_windows=1000)``).
    window, stride : int, default=100, 1
        Sliding windows of the time-series suite (PyOD's ``TimeSeriesOD`` gets ``stride``
        as its ``step``).
    n_features : int, default=None
        Columns the detector will see (PyOD's ``DeepSVDD`` needs it at construction).

    Returns
    -------
    detector : estimator
        Unfitted.

    Examples
    --------
    >>> from skanomaly.benchmark import make_detector
    >>> make_detector("pyod:IForest", seed=1).random_state
    1
    """
    _check_suite(suite)
    if isinstance(name, tuple):
        detector = clone(name[1])
        if "random_state" in detector.get_params(deep=False):
            detector.set_params(random_state=seed)
        kind = "points"
    else:
        check_detector_name(name, suite)
        if name in _OURS:
            detector = _make_ours(name, seed, quick)
            kind = "points"
        elif name in _OTHER_SERIES:
            from skanomaly.benchmark import _baselines

            detector = getattr(_baselines, _OTHER_SERIES[name])(window=window)
            kind = "series"
        else:
            detector, kind = _make_pyod(
                name.removeprefix("pyod:"), seed, quick, window, stride, n_features
            )
    if suite == "timeseries" and kind == "points":
        from skanomaly.timeseries import TimeSeriesDetector

        budget = {"max_fit_windows": _QUICK_FIT_WINDOWS} if quick else {}
        detector = TimeSeriesDetector(detector, window=window, stride=stride, **budget)
    return detector


def _check_suite(suite, allow_none=False):
    if suite is None and allow_none:
        return
    if suite not in SUITES:
        raise ValueError(f"suite must be one of {SUITES}; got {suite!r}.")


def _make_ours(name, seed, quick):
    detectors = importlib.import_module("skanomaly.detectors")
    class_name = _OURS[name]
    cls = getattr(detectors, class_name, None)
    if cls is None:
        raise ImportError(
            f"skanomaly.detectors.{class_name} is not available in this version of skanomaly."
        )
    params = {"random_state": seed}
    if quick:
        params.update(_OURS_QUICK[name])
    return cls(**params)


def _make_pyod(name, seed, quick, window, stride, n_features):
    module, class_name, kind, quick_params, fixed = _PYOD[name]
    cls = getattr(importlib.import_module(module), class_name)
    params = dict(fixed)
    if quick:
        params.update(quick_params)
    accepted = inspect.signature(cls.__init__).parameters
    if "random_state" in accepted:
        params["random_state"] = seed
    if "n_features" in accepted:
        if n_features is None:
            raise ValueError(f"pyod:{name} needs n_features at construction.")
        params["n_features"] = n_features
    if name in _WINDOW_PARAMETER:
        params[_WINDOW_PARAMETER[name]] = window
    if name == "TimeSeriesOD":
        params["step"] = stride
    return cls(**params), kind
