"""Input checks shared by detectors, injectors and metrics.

Every public entry point funnels its input through one of these helpers so that bad input
raises one clear ``ValueError``/``TypeError`` that states what was expected and what arrived,
instead of a torch stack trace deep inside a training step.
"""

import contextlib
import math
import numbers

import numpy as np
from sklearn.utils import check_array
from sklearn.utils.validation import _check_feature_names, validate_data

__all__ = [
    "check_detector_input",
    "check_layer_widths",
    "check_random_seed",
    "check_binary_labels",
    "check_scores",
]


def _ndim(X):
    # Reading ``ndim`` avoids materialising lists or DataFrames twice; np.ndim covers
    # nested lists. Sparse matrices report 2 and are rejected by validate_data.
    ndim = getattr(X, "ndim", None)
    if ndim is None:
        try:
            ndim = np.ndim(X)
        except ValueError:  # ragged nested lists
            ndim = -1
    return ndim


def check_detector_input(
    estimator, X, *, reset, ensure_min_samples=2, dtype=np.float32, ensure_all_finite=True
):
    """Validate ``X`` for a detector or injector and record or check its shape.

    Accepts tabular ``(n_samples, n_features)`` data (arrays, lists, DataFrames) and windows
    ``(n_windows, window, n_channels)``. With ``reset=True`` it stores ``n_features_in_``,
    ``feature_names_in_`` (DataFrames) and ``input_shape_`` (the shape of one sample); with
    ``reset=False`` it checks ``X`` against them.

    Parameters
    ----------
    estimator : estimator instance
        The estimator whose fitted shape attributes are set or checked.
    X : array-like of shape (n_samples, n_features) or (n_windows, window, n_channels)
        Input data.
    reset : bool
        Whether to record the shape (``fit``) or check it (``predict`` and friends).
    ensure_min_samples : int, default=2
        Fewer rows raise a ``ValueError``.
    dtype : numpy dtype, default=np.float32
        Output dtype.
    ensure_all_finite : bool, default=True
        Raise scikit-learn's ``ValueError`` on NaN or infinity. ``False`` leaves that test
        to the caller (the torch detectors run it on the device after the transfer).

    Returns
    -------
    X : ndarray
        C-contiguous array of ``dtype``, finite unless ``ensure_all_finite=False``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.base import BaseEstimator
    >>> from skanomaly.utils import check_detector_input
    >>> est = BaseEstimator()
    >>> X = check_detector_input(est, np.zeros((10, 8, 3)), reset=True)
    >>> X.dtype, est.n_features_in_, est.input_shape_
    (dtype('float32'), 3, (8, 3))
    """
    with naming(estimator):
        return _check_detector_input(
            estimator, X, reset, ensure_min_samples, dtype, ensure_all_finite
        )


@contextlib.contextmanager
def naming(estimator):
    """Prefix the ``ValueError``s raised inside the block with the estimator's name (unless
    they name it already), so that a message always says which estimator refused the data.

    Examples
    --------
    >>> from sklearn.base import BaseEstimator
    >>> from skanomaly.utils._validation import naming
    >>> try:
    ...     with naming(BaseEstimator()):
    ...         raise ValueError("Complex data not supported")
    ... except ValueError as exc:
    ...     print(exc)
    BaseEstimator: Complex data not supported
    """
    try:
        yield
    except ValueError as exc:
        name = type(estimator).__name__
        if exc.args and isinstance(exc.args[0], str) and name not in exc.args[0]:
            exc.args = (f"{name}: {exc.args[0]}", *exc.args[1:])
        raise


def _check_detector_input(estimator, X, reset, ensure_min_samples, dtype, ensure_all_finite):
    ndim = _ndim(X)
    name = type(estimator).__name__
    if not reset:
        _check_input_ndim(estimator, ndim)
    if ndim == 3:
        X = check_array(
            X,
            allow_nd=True,
            dtype=dtype,
            ensure_min_samples=ensure_min_samples,
            ensure_all_finite=ensure_all_finite,
            input_name="X",
            estimator=estimator,
        )
        if X.shape[1] == 0 or X.shape[2] == 0:
            raise ValueError(
                f"{name}: windows need a positive length and at least one channel; got X with "
                f"shape {X.shape}."
            )
        _check_feature_names(estimator, X, reset=reset)
        if reset:
            estimator.n_features_in_ = X.shape[2]
            estimator.input_shape_ = tuple(X.shape[1:])
        else:
            _check_input_shape(estimator, X)
        return np.ascontiguousarray(X)
    if ndim > 3:
        raise ValueError(
            f"{name} expected a 2-D array (n_samples, n_features) or a 3-D array of windows "
            f"(n_windows, window, n_channels); got an array with {ndim} dimensions."
        )
    X = validate_data(
        estimator,
        X,
        reset=reset,
        dtype=dtype,
        ensure_min_samples=ensure_min_samples,
        ensure_all_finite=ensure_all_finite,
    )
    if reset:
        estimator.input_shape_ = (X.shape[1],)
    else:
        _check_input_shape(estimator, X)
    return np.ascontiguousarray(X)


def _check_input_ndim(estimator, ndim):
    """Tabular data for a model fitted on windows (or the reverse) gets a message in terms of
    windows and channels, not scikit-learn's "expecting <n_channels> features"."""
    expected = getattr(estimator, "input_shape_", None)
    if expected is None or ndim not in (2, 3) or ndim - 1 == len(expected):
        return
    name = type(estimator).__name__
    if len(expected) == 2:
        window, n_channels = expected
        raise ValueError(
            f"{name} was fitted on windows of shape (window, n_channels) = {tuple(expected)}; "
            f"got a 2-D array. Pass windows of shape (n_windows, {window}, {n_channels})."
        )
    raise ValueError(
        f"{name} was fitted on tabular data with {expected[0]} features; got a 3-D array of "
        f"windows. Pass an array of shape (n_samples, {expected[0]})."
    )


def _check_input_shape(estimator, X):
    expected = tuple(getattr(estimator, "input_shape_", X.shape[1:]))
    got = tuple(X.shape[1:])
    if got != expected:
        kind = "windows of shape (window, n_channels)" if len(expected) == 2 else "features"
        raise ValueError(
            f"X has sample shape {got}, but {type(estimator).__name__} was fitted on "
            f"{kind} {expected}."
        )


def check_random_seed(random_state):
    """Turn ``random_state`` into an integer seed without touching global RNG state.

    ``None`` draws fresh OS entropy (a different result each fit, as in scikit-learn);
    an int is used as is; a ``RandomState``/``Generator`` instance is advanced once.

    Parameters
    ----------
    random_state : int, RandomState instance, Generator or None
        The ``random_state`` parameter of an estimator.

    Returns
    -------
    seed : int

    Examples
    --------
    >>> from skanomaly.utils import check_random_seed
    >>> check_random_seed(42)
    42
    """
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(random_state, numbers.Integral):
        return int(random_state) % (2**32)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**31 - 1))
    raise TypeError(
        "random_state must be None, an int, a numpy RandomState or Generator; got "
        f"{type(random_state).__name__}."
    )


def check_binary_labels(y, *, name="y_true"):
    """Return ``y`` as a 1-D int array of 0 (normal) / 1 (anomaly) or raise ``ValueError``.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels.
    name : str, default="y_true"
        Name used in error messages.

    Returns
    -------
    y : ndarray of int64, shape (n_samples,)

    Examples
    --------
    >>> from skanomaly.utils import check_binary_labels
    >>> check_binary_labels([0, 1, 1.0])
    array([0, 1, 1])
    """
    y = check_array(y, ensure_2d=False, dtype=None, input_name=name)
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D; got shape {y.shape}.")
    values = np.unique(y)
    if not np.isin(values, [0, 1]).all():
        raise ValueError(
            f"{name} must hold 0 (normal) and 1 (anomaly) labels; got values {values[:10]}."
        )
    return y.astype(np.int64)


def check_scores(y_true, scores, *, require_both_classes=True):
    """Validate a label vector and a matching finite score vector (higher = more anomalous).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        0/1 labels.
    scores : array-like of shape (n_samples,)
        Finite anomaly scores.
    require_both_classes : bool, default=True
        Raise a ``ValueError`` unless both labels occur.

    Returns
    -------
    y_true : ndarray of int64, shape (n_samples,)
    scores : ndarray of float64, shape (n_samples,)

    Examples
    --------
    >>> from skanomaly.utils import check_scores
    >>> y, s = check_scores([0, 1], [0.1, 0.9])
    >>> y.tolist(), s.dtype
    ([0, 1], dtype('float64'))
    """
    y_true = check_binary_labels(y_true)
    scores = check_array(scores, ensure_2d=False, dtype=np.float64, input_name="scores")
    if scores.ndim != 1:
        raise ValueError(f"scores must be 1-D; got shape {scores.shape}.")
    if scores.shape[0] != y_true.shape[0]:
        raise ValueError(
            f"y_true and scores must have the same length; got {y_true.shape[0]} and "
            f"{scores.shape[0]}."
        )
    if require_both_classes and np.unique(y_true).size < 2:
        raise ValueError(
            "y_true must contain both normal (0) and anomalous (1) labels to compute this metric."
        )
    return y_true, scores


def check_layer_widths(widths, name, *, allow_empty=False):
    """Return ``widths`` (layer sizes of a network) as a tuple of ints, or raise ``ValueError``.

    Parameters
    ----------
    widths : sequence of int
        One positive int per layer.
    name : str
        Parameter name, for the message.
    allow_empty : bool, default=False
        Whether no layer at all is valid.

    Returns
    -------
    widths : tuple of int

    Examples
    --------
    >>> from skanomaly.utils import check_layer_widths
    >>> check_layer_widths((64, 32), "hidden_dims")
    (64, 32)
    """
    if (not allow_empty and len(widths) == 0) or not all(
        isinstance(w, numbers.Integral) and not isinstance(w, bool) and w >= 1 for w in widths
    ):
        need = "a tuple of positive ints" + ("" if allow_empty else " (at least one)")
        raise ValueError(f"{name} must be {need}; got {widths!r}.")
    return tuple(int(w) for w in widths)


# ---------------------------------------------------------------------- sample shapes
# One definition of the shape conventions of ``input_shape_`` (set by check_detector_input):
# ``(n_features,)`` for tabular rows, ``(window, n_channels)`` for windows. Window models read
# a 2-D array ``(n, d)`` as ``n`` univariate windows of length ``d``.
def as_windows(X):
    """``(n, d)`` -> ``(n, d, 1)`` (univariate windows), 3-D unchanged; numpy or torch."""
    return X[:, :, None] if X.ndim == 2 else X


def window_shape(input_shape):
    """``(window, n_channels)`` of one sample: a 1-D sample is one univariate window."""
    if len(input_shape) == 1:
        return int(input_shape[0]), 1
    return int(input_shape[0]), int(input_shape[1])


def flat_size(input_shape):
    """Number of inputs of one sample flattened into a row (features, or window x channels)."""
    return math.prod(int(size) for size in input_shape)


def evenly_spread(n, budget):
    """Indices of at most ``budget`` of ``n`` samples, evenly spread from the first to the
    last; all ``n`` when ``budget`` is None or not smaller.

    The training-window budget of the window detectors: consecutive sliding windows overlap
    almost entirely, so every k-th one loses little and still covers the whole series.
    """
    if budget is None or budget >= n:
        return np.arange(n)
    return np.linspace(0, n - 1, budget).round().astype(np.intp)


def seed_unset_random_state(estimator, rng):
    """Seed ``estimator`` (a clone owned by the caller) from ``rng`` when its ``random_state``
    is ``None``; a user-set ``random_state`` is kept. Returns ``estimator``.

    Composite estimators (detectors holding an injector or a classifier) use this so that
    their own ``random_state`` makes the whole fit reproducible without overriding the
    sub-estimator's seed the user chose.
    """
    if estimator.get_params().get("random_state", 0) is None:
        estimator.set_params(random_state=int(rng.integers(2**31 - 1)))
    return estimator
