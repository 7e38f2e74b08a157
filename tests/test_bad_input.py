"""No silent garbage: one table of bad (and awkward but valid) inputs x every public estimator.

Every public estimator is found with ``skanomaly.utils.all_estimators`` (as in
tests/test_common.py), so a new detector or injector is enrolled automatically. Each cell of
the table (estimator x case) has one expected outcome:

* ``Raises(error, pattern)``: a clear error whose message matches ``pattern`` and names the
  estimator; never a raw torch/numpy traceback;
* ``OK``: the call succeeds and its output is finite and of the right shape;
* ``OkOrRaises(error, pattern)``: either of the above (e.g. training on values near 1e30
  may overflow float32 inside a network: the loop's clear error is an honest outcome).

Diverged training (``lr=1e6``) has its own test: an error or a ``ConvergenceWarning`` naming
the epoch and the loss.

Cells that differ from a case's default are listed in ``OVERRIDES`` with the reason. The
end of the module holds the regression tests of issue 21's other items (persistence).
"""

import json
import re
import warnings
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from skanomaly.base import BaseDeepDetector
from skanomaly.utils import all_estimators

from ._fast_params import fast_instance

ESTIMATORS = [cls for _, cls in all_estimators()]
N_ROWS, N_FEATURES = 12, 3


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@dataclass(frozen=True)
class Raises:
    error: type
    pattern: str


class _Ok:
    def __repr__(self):
        return "OK"


@dataclass(frozen=True)
class OkOrRaises:
    """Either OK, or a clear ``error`` naming the estimator (never a silent result)."""

    error: type
    pattern: str


OK = _Ok()


def _X(rows=N_ROWS, features=N_FEATURES):
    return np.random.default_rng(0).normal(size=(rows, features))


def _with(value):
    def make():
        X = _X()
        X[3, 1] = value
        return X

    return make


def _frame():
    pd = pytest.importorskip("pandas")
    return pd.DataFrame(_X(), columns=["a", "b", "c"])


# name -> (input maker, default expected outcome)
FIT_CASES = {
    "nan": (_with(np.nan), Raises(ValueError, "NaN")),
    "inf": (_with(np.inf), Raises(ValueError, "infinity")),
    "beyond_float32": (_with(1e39), Raises(ValueError, "infinity or a value too large")),
    "empty": (lambda: _X()[:0], Raises(ValueError, "0 sample")),
    "one_row": (lambda: _X()[:1], Raises(ValueError, "1 sample")),
    "one_d": (lambda: _X()[:, 0], Raises(ValueError, "Expected 2D array")),
    "four_d": (lambda: _X().reshape(N_ROWS, 3, 1, 1), Raises(ValueError, "4 dimensions")),
    "zero_length_windows": (lambda: np.zeros((N_ROWS, 0, 2)), Raises(ValueError, "positive")),
    "strings": (lambda: np.full((N_ROWS, 3), "a", dtype=object), Raises(ValueError, "convert")),
    "complex": (lambda: _X() + 1j, Raises(ValueError, "Complex data not supported")),
    # Training on values near 1e30 may overflow float32 inside the network: a clear
    # FloatingPointError (naming the epoch) is an honest outcome too.
    "huge_finite": (lambda: _X() * 1e30, OkOrRaises(FloatingPointError, "epoch")),
    "float16": (lambda: _X().astype(np.float16), OK),
    "int": (lambda: (_X() * 100).astype(np.int64), OK),
    "bool": (lambda: _X() > 0, OK),
    "constant_column": (lambda: np.c_[_X()[:, :2], np.full(N_ROWS, 7.0)], OK),
    "all_rows_equal": (lambda: np.ones((N_ROWS, N_FEATURES)), OK),
    "dataframe": (_frame, OK),
    "fewer_rows_than_batch": (lambda: _X(rows=5), OK),
    "windows": (lambda: _X(rows=N_ROWS * 4).reshape(N_ROWS, 4, 3), OK),
}

# (estimator class name, case) -> (outcome, reason)
OVERRIDES = {
    ("TimeSeriesDetector", "one_d"): (OK, "a 1-D array is a univariate series"),
    ("TimeSeriesDetector", "one_row"): (Raises(ValueError, "shorter than window"),
                                        "a series shorter than one window"),
    ("TimeSeriesDetector", "beyond_float32"): (OK, "works in float64"),
    ("TimeSeriesDetector", "zero_length_windows"): (
        Raises(ValueError, "dimensions"),
        "takes a raw series (T, D), never windows",
    ),
    ("TimeSeriesDetector", "windows"): (
        Raises(ValueError, "dimensions"),
        "takes a raw series (T, D), never windows",
    ),
    ("DetectorSelector", "windows"): (
        Raises(ValueError, "every one of the 2 candidates failed"),
        "its candidates decide; the test's PyOD IForests take 2-D rows only",
    ),
    ("AverageEnsemble", "windows"): (
        Raises(ValueError, "member 'IForest' failed to fit"),
        "its members decide; the test's PyOD IForests take 2-D rows only",
    ),
    ("GenIASInjector", "one_row"): (Raises(ValueError, "1 sample"),
                                    "its generator trains on at least two windows"),
    ("GenIASInjector", "beyond_float32"): (
        Raises(ValueError, "infinity or a value too large"),
        "its generator trains in float32",
    ),
}


def _injector_default(case):
    # Injectors generate from any number of normal rows, even one, and keep float64 data
    # as it is (the rows come back unchanged).
    return OK if case in ("one_row", "beyond_float32") else None


def expected(cls, case):
    """The outcome of fitting ``cls`` on ``FIT_CASES[case]`` (see the module docstring)."""
    if (cls.__name__, case) in OVERRIDES:
        return OVERRIDES[cls.__name__, case][0]
    if hasattr(cls, "fit_resample") and _injector_default(case) is not None:
        return _injector_default(case)
    return FIT_CASES[case][1]


def _run(estimator, X):
    """Fit (detectors) or fit_resample (injectors); return the output to check."""
    if hasattr(estimator, "fit_resample"):
        return estimator.fit_resample(X)[0]
    return estimator.fit(X).decision_scores_


@pytest.mark.parametrize("case", list(FIT_CASES))
@pytest.mark.parametrize("cls", ESTIMATORS, ids=[c.__name__ for c in ESTIMATORS])
def test_fit_case(cls, case):
    make, _ = FIT_CASES[case]
    outcome = expected(cls, case)
    estimator = fast_instance(cls)
    X = make()
    if isinstance(outcome, Raises):
        with pytest.raises(outcome.error, match=outcome.pattern) as excinfo:
            _run(estimator, X)
        assert cls.__name__ in str(excinfo.value), "the message must name the estimator"
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        # A GenIAS generator trained for one epoch on 12 rows may honestly warn that its
        # latent means barely vary (tests/injectors/test_genias.py tests that warning); the
        # cells here are about bad input, not about training length.
        warnings.filterwarnings("ignore", "GenIASInjector: the generator collapsed")
        try:
            output = _run(estimator, X)
        except Exception as exc:
            if not (isinstance(outcome, OkOrRaises) and isinstance(exc, outcome.error)):
                raise
            assert re.search(outcome.pattern, str(exc)) and cls.__name__ in str(exc)
            return
    output = np.asarray(output, dtype=np.float64)
    assert np.isfinite(output).all() and len(output) >= len(X)


# ---------------------------------------------------------------------- divergence (item 2)
TRAINABLE = [c for c in ESTIMATORS if "lr" in c().get_params()]


@pytest.mark.parametrize("cls", TRAINABLE, ids=[c.__name__ for c in TRAINABLE])
def test_diverged_training_is_never_silent(cls):
    # Issue 21, item 2: DHAG with lr=1e6 ended with loss 5.6e21 and every score 0.0; GenIAS
    # scored every window 0.0. The result must come with an error or a warning that says so.
    estimator = fast_instance(cls).set_params(lr=1e6)
    X = _X(rows=40, features=4) * 10
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            output = _run(estimator, X)
        except FloatingPointError as exc:
            assert cls.__name__ in str(exc) and "epoch" in str(exc)
            return
    diverged = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    if diverged:
        message = str(diverged[0].message)
        assert cls.__name__ in message and "epoch" in message and "loss" in message
        return
    # Neither: then the training did not diverge, and the output must rank the samples.
    output = np.asarray(output, dtype=np.float64)
    assert np.isfinite(output).all() and np.ptp(output) > 0


def test_dhag_divergence_names_the_epoch_and_the_loss():
    from skanomaly.detectors import DHAGDetector

    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(200, 8)), rng.normal(3, 1, size=(10, 8))])
    with pytest.warns(ConvergenceWarning, match=r"same score.*loss went from .* at epoch 5"):
        DHAGDetector(epochs=5, lr=1e6, random_state=0, device="cpu").fit(X)


def test_identical_rows_are_not_reported_as_divergence():
    from skanomaly.detectors import DHAGDetector

    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        DHAGDetector(epochs=1, random_state=0, device="cpu").fit(np.ones((10, 3)))


# ---------------------------------------------------------------------- after fit
DETECTORS = [c for c in ESTIMATORS if hasattr(c, "decision_function")]
INJECTORS = [c for c in ESTIMATORS if hasattr(c, "fit_resample")]


@pytest.fixture(scope="module")
def fitted():
    """One fitted instance per detector (fitting is the costly part)."""
    return {cls: fast_instance(cls).fit(_X()) for cls in DETECTORS}


PREDICT_CASES = {
    "too_few_features": (lambda: _X()[:, :2], "features"),
    "nan": (_with(np.nan), "NaN"),
    "windows_for_tabular": (lambda: _X().reshape(N_ROWS, 3, 1), "tabular|dimensions"),
    "one_d": (lambda: _X()[:, 0], "Expected 2D|1-D|features"),
}


@pytest.mark.parametrize("case", list(PREDICT_CASES))
@pytest.mark.parametrize("cls", DETECTORS, ids=[c.__name__ for c in DETECTORS])
def test_predict_case(cls, case, fitted):
    make, pattern = PREDICT_CASES[case]
    with pytest.raises(ValueError, match=pattern) as excinfo:
        fitted[cls].decision_function(make())
    assert cls.__name__ in str(excinfo.value)


@pytest.mark.parametrize("cls", DETECTORS, ids=[c.__name__ for c in DETECTORS])
def test_calls_before_fit(cls):
    for method in ("decision_function", "predict", "predict_proba", "score_samples"):
        with pytest.raises(NotFittedError):
            getattr(fast_instance(cls), method)(_X())


@pytest.mark.parametrize("cls", INJECTORS, ids=[c.__name__ for c in INJECTORS])
def test_generate_after_fit_checks_the_shape(cls):
    injector = fast_instance(cls).fit(_X())
    assert injector.generate(_X(), 2).shape == (2, N_FEATURES)
    with pytest.raises(ValueError, match="features|shape") as excinfo:
        injector.generate(_X()[:, :2], 2)
    assert cls.__name__ in str(excinfo.value)
    with pytest.raises(ValueError, match="n_anomalies"):
        injector.generate(_X(), -1)


@pytest.mark.parametrize("cls", INJECTORS, ids=[c.__name__ for c in INJECTORS])
def test_injectors_return_the_original_rows_exactly(cls):
    # Issue 21, item 3: rows came back cast to float32.
    X = np.random.default_rng(0).integers(10**9, 10**9 + 100, size=(N_ROWS, N_FEATURES))
    X_res = fast_instance(cls).fit_resample(X)[0]
    assert X_res.dtype == np.float64
    np.testing.assert_array_equal(X_res[:N_ROWS], X)


# ---------------------------------------------------------------------- persistence (item 5)
DEEP = [c for c in DETECTORS if issubclass(c, BaseDeepDetector)]


@pytest.fixture
def saved(tmp_path):
    from skanomaly.detectors import DHAGDetector

    X = _X()
    detector = fast_instance(DHAGDetector).fit(X)
    return detector, detector.save(tmp_path / "model"), X


def _edit_params(path, edit):
    meta = json.loads((path / "params.json").read_text())
    edit(meta)
    (path / "params.json").write_text(json.dumps(meta))


@pytest.mark.parametrize("key", ["decision_function", "fit", "contamination", "__class__",
                                 "_parameter_constraints", "not_fitted"])
def test_load_accepts_only_fitted_attributes(saved, key):
    _, path, _ = saved
    _edit_params(path, lambda meta: meta["fitted"].update({key: 42}))
    with pytest.raises(ValueError, match=f"{key!r} as a fitted attribute"):
        BaseDeepDetector.load(path)


def test_load_checks_the_version(saved):
    detector, path, X = saved
    _edit_params(path, lambda meta: meta.update(skanomaly_version="99.0"))
    with pytest.raises(ValueError, match="newer major version"):
        BaseDeepDetector.load(path)
    _edit_params(path, lambda meta: meta.update(skanomaly_version="0.99.0"))
    with pytest.warns(UserWarning, match="newer than this one"):
        restored = BaseDeepDetector.load(path)
    np.testing.assert_array_equal(restored.decision_function(X), detector.decision_function(X))
    _edit_params(path, lambda meta: meta.pop("skanomaly_version"))
    with pytest.raises(ValueError, match="no valid skanomaly_version"):
        BaseDeepDetector.load(path)


def test_truncated_weights_name_the_file(saved):
    _, path, _ = saved
    weights = path / "weights.pt"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(ValueError, match=r"weights\.pt .*truncated or corrupted"):
        BaseDeepDetector.load(path)


def test_corrupted_params_name_the_file(saved):
    _, path, _ = saved
    (path / "params.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"params\.json is not valid JSON"):
        BaseDeepDetector.load(path)


def test_mismatched_weights_are_a_clear_error(saved):
    _, path, _ = saved
    _edit_params(path, lambda meta: meta["params"].update(hidden_dims={"__tuple__": [16]}))
    with pytest.raises(ValueError, match="do not fit the DHAGDetector network"):
        BaseDeepDetector.load(path)


def test_load_on_a_missing_device_raises_like_fit(saved):
    _, path, X = saved
    with pytest.raises(ValueError) as from_load:
        BaseDeepDetector.load(path, device="cuda:7" if torch.cuda.is_available() else "cuda")
    if torch.cuda.device_count() > 7:
        pytest.skip("this machine has a cuda:7")
    with pytest.raises(ValueError) as from_fit:
        fast_instance(type(saved[0])).set_params(
            device="cuda:7" if torch.cuda.is_available() else "cuda"
        ).fit(X)
    assert str(from_load.value) == str(from_fit.value)


def test_estimators_inside_tuples_round_trip_through_the_params_file():
    from skanomaly import _persistence
    from skanomaly.injectors import PointSpikeInjector, RandomChoiceInjector, TrendInjector

    mix = RandomChoiceInjector(
        injectors=(PointSpikeInjector(magnitude=(1.0, 2.0)), TrendInjector()), weights=(0.3, 0.7)
    )
    encoded = _persistence._encode_param("injector", mix)
    decoded = _persistence._decode(json.loads(json.dumps(encoded)))
    assert isinstance(decoded.injectors, tuple) and decoded.weights == (0.3, 0.7)
    assert decoded.injectors[0].magnitude == (1.0, 2.0)
    assert type(decoded.injectors[1]) is TrendInjector


def test_genias_with_a_mixed_injector_saves_and_loads(tmp_path):
    # Issue 21, item 5: GenIASDetector(injector=RandomChoiceInjector(injectors=(...))) could
    # not be saved.
    from skanomaly.detectors import GenIASDetector
    from skanomaly.injectors import PointSpikeInjector, RandomChoiceInjector, TrendInjector

    windows = _X(rows=N_ROWS * 8).reshape(N_ROWS, 8, 3)
    injector = RandomChoiceInjector(injectors=(PointSpikeInjector(), TrendInjector()))
    detector = fast_instance(GenIASDetector).set_params(injector=injector).fit(windows)
    restored = BaseDeepDetector.load(detector.save(tmp_path / "genias"))
    assert isinstance(restored.injector.injectors, tuple)
    np.testing.assert_array_equal(
        restored.decision_function(windows), detector.decision_function(windows)
    )
    assert clone(restored).get_params()["injector"].injectors[1].__class__ is TrendInjector
