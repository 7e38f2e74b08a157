"""Hand-crafted window injectors: changes confined to the labelled steps and chosen channels."""

import numpy as np
import pytest

from skanomaly.injectors import (
    ContextualInjector,
    CutAddPasteInjector,
    PointSpikeInjector,
    RandomChoiceInjector,
    SeasonalInjector,
    ShapeletInjector,
    TrendInjector,
)

INJECTORS = [
    PointSpikeInjector,
    ContextualInjector,
    SeasonalInjector,
    TrendInjector,
    ShapeletInjector,
    CutAddPasteInjector,
]


@pytest.fixture
def windows():
    rng = np.random.default_rng(0)
    t = np.arange(64)
    phases = rng.uniform(0, 2 * np.pi, size=(30, 1, 4))
    return (np.sin(t[None, :, None] / 4 + phases) + 0.05 * rng.normal(size=(30, 64, 4))).astype(
        np.float32
    )


def _generate(injector, X, n):
    generated = injector._generate_checked(X, n)
    return generated.X, generated.source_indices, generated.point_labels


@pytest.mark.parametrize("cls", INJECTORS, ids=[c.__name__ for c in INJECTORS])
def test_changes_only_labelled_steps_on_a_channel_subset(cls, windows):
    X_new, source, labels = _generate(cls(random_state=0), windows, 40)
    assert X_new.shape == (40, 64, 4) and labels.shape == (40, 64)
    changed = np.abs(X_new - windows[source]) > 1e-6  # (n, window, channels)
    assert changed.any(axis=(1, 2)).mean() > 0.9  # nearly every window is really distorted
    assert not changed[labels == 0].any()  # nothing outside the labelled steps
    # One contiguous labelled segment per window.
    starts = np.diff(np.pad(labels, ((0, 0), (1, 1))), axis=1) == 1
    np.testing.assert_array_equal(starts.sum(axis=1), 1)
    # At most ceil(0.5 * 4) = 2 channels touched.
    assert changed.any(axis=1).sum(axis=1).max() <= 2
    if cls is PointSpikeInjector:
        np.testing.assert_array_equal(labels.sum(axis=1), 1)
    else:
        lengths = labels.sum(axis=1)
        assert lengths.min() >= round(0.1 * 64) and lengths.max() <= round(0.5 * 64)


def test_spike_size_is_in_standard_deviations(windows):
    X_new, source, labels = _generate(
        PointSpikeInjector(magnitude=(4.0, 4.0), channel_fraction=1.0, random_state=1), windows, 20
    )
    diff = (X_new - windows[source])[labels == 1]  # (20, channels)
    scale = windows.reshape(-1, 4).std(axis=0)
    touched = np.abs(diff) > 1e-6
    np.testing.assert_allclose(
        np.abs(diff)[touched], (4.0 * np.broadcast_to(scale, diff.shape))[touched], rtol=1e-4
    )


def test_trend_ends_at_its_magnitude(windows):
    X_new, source, labels = _generate(
        TrendInjector(magnitude=(3.0, 3.0), channel_fraction=1.0, random_state=2), windows, 10
    )
    scale = windows.reshape(-1, 4).std(axis=0)
    for i in range(10):
        steps = np.flatnonzero(labels[i])
        diff = X_new[i, steps] - windows[source[i], steps]
        np.testing.assert_allclose(diff[0], 0, atol=1e-5)  # the ramp starts at 0
        end = np.abs(diff[-1])
        touched = end > 1e-6
        np.testing.assert_allclose(end[touched], 3.0 * scale[touched], rtol=1e-4)


def test_tabular_input_is_univariate_windows():
    X = np.random.default_rng(0).normal(size=(50, 12))
    injector = ContextualInjector(anomaly_ratio=0.2, random_state=0)
    X_res, y_res = injector.fit_resample(X)
    assert X_res.shape == (60, 12) and y_res.sum() == 10
    assert injector.point_labels_.shape == (60, 12)
    assert injector.point_labels_[:50].sum() == 0 and injector.point_labels_[50:].any(axis=1).all()


def test_random_choice_mixes_and_respects_weights(windows):
    injector = RandomChoiceInjector(random_state=0)
    X_new, source, labels = _generate(injector, windows, 60)
    assert X_new.shape == (60, 64, 4) and labels.any(axis=1).all()
    lengths = labels.sum(axis=1)
    assert (lengths == 1).any() and (lengths > 1).any()  # spikes and segments both drawn
    only_spikes = RandomChoiceInjector(
        injectors=(PointSpikeInjector(), TrendInjector()), weights=(1.0, 0.0), random_state=0
    )
    _, _, labels = _generate(only_spikes, windows, 20)
    np.testing.assert_array_equal(labels.sum(axis=1), 1)
    X_res, y_res = RandomChoiceInjector(anomaly_ratio=0.1, random_state=0).fit_resample(windows)
    assert X_res.shape == (33, 64, 4) and y_res.sum() == 3


@pytest.mark.parametrize(
    ("injector", "message"),
    [
        (TrendInjector(length_range=(0.6, 0.2)), "length_range"),
        (TrendInjector(length_range=(0.0, 0.2)), "length_range"),
        # Issue 21, item 4: tuple parameters were not validated.
        (PointSpikeInjector(magnitude=(-1.0,)), r"PointSpikeInjector: magnitude must be"),
        (ContextualInjector(magnitude=(-2.0, 1.0)), "magnitude"),
        (TrendInjector(magnitude=(1.0, float("inf"))), "magnitude"),
        (CutAddPasteInjector(magnitude=("a", 1.0)), "magnitude"),
        (SeasonalInjector(frequency_factors=()), "frequency_factors"),
        (SeasonalInjector(frequency_factors=(0.5, -2.0)), "frequency_factors"),
        (RandomChoiceInjector(weights=(1.0,)), "weights"),
        (RandomChoiceInjector(injectors=()), "at least one"),
    ],
)
def test_errors(injector, message, windows):
    with pytest.raises(ValueError, match=message):
        injector.generate(windows, 3)


@pytest.mark.parametrize("cls", INJECTORS)
def test_bad_tuple_parameters_are_rejected_by_fit_too(cls, windows):
    params = {"length_range": (0.5,)}
    with pytest.raises(ValueError, match=f"{cls.__name__}: length_range"):
        cls(**params).fit(windows)


@pytest.mark.parametrize("cls", [*INJECTORS, RandomChoiceInjector])
@pytest.mark.parametrize("magnitude", [1e19, 1e30])
def test_huge_values_give_finite_anomalies(cls, magnitude, windows):
    # Issue 21, item 4: the float32 standard deviation overflowed from ~1e19 on, so the
    # anomalies came out as inf (with only a RuntimeWarning).
    X = windows.astype(np.float64) * magnitude
    with np.errstate(all="raise"):
        X_res, _ = cls(random_state=0, anomaly_ratio=0.2).fit_resample(X)
    assert np.isfinite(X_res).all()
    assert np.abs(X_res[len(X):]).max() > 0.1 * magnitude


def test_anomalies_that_overflow_float32_are_refused(windows):
    X = (windows / np.abs(windows).max() * 3e38).astype(np.float32)
    with pytest.raises(ValueError, match="PointSpikeInjector generated non-finite"):
        PointSpikeInjector(magnitude=(5.0, 6.0), random_state=0).fit_resample(X)


@pytest.mark.parametrize("cls", [*INJECTORS, RandomChoiceInjector])
def test_generate_checks_the_fitted_window_shape(cls, windows):
    # Issue 21, item 4: a fitted hand-crafted injector accepted windows of another shape.
    injector = cls(random_state=0).fit(windows)
    assert injector.generate(windows, 2).shape == (2, *windows.shape[1:])
    with pytest.raises(ValueError, match=f"{cls.__name__} was fitted on windows"):
        injector.generate(windows[:, :32], 2)
    with pytest.raises(ValueError, match=r"sample shape \(64, 2\)"):
        injector.generate(windows[:, :, :2], 2)
    # Unfitted, a hand-crafted injector generates from any window shape (it learns nothing).
    assert cls(random_state=0).generate(windows[:, :32], 2).shape == (2, 32, 4)
