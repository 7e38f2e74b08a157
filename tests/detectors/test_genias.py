"""GenIASDetector: both heads on windows and raw series, stages, label-free training."""

import numpy as np
import pytest
import torch

from skanomaly.detectors import GenIASDetector
from skanomaly.injectors import GenIASInjector
from skanomaly.timeseries import TimeSeriesDetector
from tests._series_cases import KINDS, regression_series


def _series(n, shift, rng):
    t = np.arange(n) + shift
    return np.stack([np.sin(t / 8), np.cos(t / 13)], axis=1) + 0.05 * rng.normal(size=(n, 2))


@pytest.fixture(scope="module")
def series():
    """Normal 2-channel training series; a test series with level shifts and a shape change."""
    rng = np.random.default_rng(0)
    train = _series(1200, 0, rng)
    test = _series(1200, 7, rng)
    labels = np.zeros(len(test), dtype=int)
    for start, size in ((200, 15), (600, 15), (950, 15)):
        test[start : start + size, 0] += 1.5
        labels[start : start + size] = 1
    test[400:430, 1] = np.sin(np.arange(30) / 1.5)
    labels[400:430] = 1
    return train, test, labels


def _detector(head, **params):
    injector = GenIASInjector(hidden_channels=(16, 16), latent_dim=16, epochs=30, lr=3e-3)
    defaults = dict(
        head=head, injector=injector, hidden_channels=(16, 32), embedding_dim=16, epochs=4,
        classification_epochs=3, batch_size=32, device="cpu", random_state=0,
    )
    return GenIASDetector(**{**defaults, **params})


@pytest.mark.parametrize("head", ["carla", "classifier"])
def test_raw_series_and_training_signal(series, head):
    train, test, _ = series
    ts = TimeSeriesDetector(_detector(head), window=24, stride=6).fit(train)
    scores = ts.decision_function(test)
    assert scores.shape == (len(test),) and np.isfinite(scores).all()
    detector = ts.detector_
    windows = np.ascontiguousarray(
        np.lib.stride_tricks.sliding_window_view(train, (24, 2))[::6, 0], dtype=np.float32
    )
    injector = detector.injector.set_params(random_state=1)
    anomalies = injector.fit(windows).generate(windows, len(windows))
    if head == "classifier":
        # It learned its training signal: GenIAS anomalies of the training windows score
        # above the windows themselves. (Detection quality on real data: benchmarks/.)
        assert (
            detector.decision_function(anomalies).mean()
            > detector.decision_function(windows).mean()
        )
        assert len(detector.loss_curve_) == 4
        return
    # Stage 1 learned its triplet signal: in the embedding, a window is closer to the next
    # window than to GenIAS anomalies.
    with torch.no_grad():
        embed = detector.module_.eval().embed
        anchor = embed(torch.from_numpy(windows[:-1]))
        positive = embed(torch.from_numpy(windows[1:]))
        negative = embed(torch.from_numpy(anomalies[:-1]))
    assert (anchor - positive).norm(dim=1).mean() < (anchor - negative).norm(dim=1).mean()
    assert detector.pretext_loss_curve_[-1] < detector.pretext_loss_curve_[0]
    assert len(detector.pretext_loss_curve_) == 4 and len(detector.loss_curve_) == 3
    assert 0 <= detector.majority_class_ < detector.n_classes
    if detector.fallback_ is None:
        assert np.all((scores >= 0) & (scores <= 1))  # 1 - P(majority class)


def test_labels_are_ignored_and_refit_is_identical(series):
    train = series[0]
    windows = np.lib.stride_tricks.sliding_window_view(train, (16, 2))[::16, 0]
    quick = dict(epochs=1, classification_epochs=1)
    first = _detector("carla", **quick).fit(windows).decision_scores_
    y = np.zeros(len(windows), dtype=int)
    y[:3] = 1
    second = _detector("carla", **quick).fit(windows, y).decision_scores_
    np.testing.assert_array_equal(first, second)


def test_any_injector_gives_the_negatives(series):
    """A hand-made injector (CARLA's original setting uses hand-crafted anomalies)."""
    from skanomaly.injectors import BaseInjector, GeneratedAnomalies

    class SpikeInjector(BaseInjector):
        def _generate(self, X, n_anomalies, rng):
            source = rng.integers(0, len(X), n_anomalies)
            out = X[source].copy()
            out[:, X.shape[1] // 2] += 3.0
            return GeneratedAnomalies(out, source)

    windows = np.lib.stride_tricks.sliding_window_view(series[0], (16, 2))[::16, 0]
    detector = _detector("classifier", injector=SpikeInjector(), epochs=2).fit(windows)
    spiked = windows.copy()
    spiked[:, 8] += 3.0
    assert detector.decision_function(spiked).mean() > detector.decision_scores_.mean()


def test_two_dimensional_input_is_one_channel_windows():
    rng = np.random.default_rng(0)
    X = np.sin(np.arange(20)[None, :] / 3 + rng.uniform(0, 6, (40, 1)))
    detector = _detector("carla", epochs=1, classification_epochs=1).fit(X)
    assert detector.input_shape_ == (20,)
    assert detector.decision_function(X).shape == (40,)


def test_more_neighbours_than_windows_is_clipped():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3, 8, 1))
    detector = _detector("carla", n_neighbors=50, epochs=1, classification_epochs=1).fit(X)
    assert np.isfinite(detector.decision_scores_).all()


def test_bad_hidden_channels_raise():
    with pytest.raises(ValueError, match="hidden_channels"):
        _detector("carla", hidden_channels=()).fit(np.zeros((4, 8, 1)))


def test_real_series(shared_data):
    """One NAB series of the shared panel: fits and scores every step (no quality claim)."""
    from skanomaly.benchmark import timeseries_split

    path = shared_data / "timeseries" / "nab_realAWSCloudwatch_ec2_cpu_utilization_24ae8d.npz"
    train, test, labels = timeseries_split(path)
    ts = TimeSeriesDetector(
        _detector("classifier", epochs=1), window=32, stride=8
    ).fit(train)
    scores = ts.decision_function(test)
    assert scores.shape == labels.shape and np.isfinite(scores).all()


def _tiny(seed=0, **params):
    """Smallest settings that still learn the regression series (about 3-6 s per fit)."""
    injector = GenIASInjector(hidden_channels=(8,), latent_dim=8, epochs=10, lr=3e-3)
    defaults = dict(
        injector=injector, hidden_channels=(8, 16), embedding_dim=8, epochs=3,
        classification_epochs=2, batch_size=32, device="cpu", random_state=seed,
    )
    return GenIASDetector(**{**defaults, **params})


def test_auroc_floor_on_regression_series():
    """Issue 17: GenIAS ranked level shifts *below* normal steps (AUROC 0.041 on a sine)."""
    from sklearn.metrics import roc_auc_score

    aurocs = {}
    for kind in KINDS:
        train, test, labels = regression_series(kind)
        ts = TimeSeriesDetector(_tiny(), window=32, stride=8).fit(train)
        aurocs[kind] = roc_auc_score(labels, ts.decision_function(test))
    assert np.mean(list(aurocs.values())) >= 0.9, aurocs
    assert min(aurocs.values()) >= 0.8, aurocs


def _windows(series, window=16, stride=1):
    return np.ascontiguousarray(
        np.lib.stride_tricks.sliding_window_view(series, (window, series.shape[1]))[::stride, 0],
        dtype=np.float32,
    )


def test_positives_are_the_previous_time_steps(series):
    """Issue 18: positives were drawn within +-5 *rows* (475 steps at stride 95); CARLA's
    positive is one of the previous stride-1 windows, also when training windows are capped."""
    windows = _windows(series[0][:400])
    detector = _tiny(max_train_windows=50, positive_offset=3)
    detector._validate_params()
    data = detector._prepare_training_data(windows, None, np.random.default_rng(0))
    anchors, positives, _ = data.indices
    assert len(anchors) == 50 and len(data.negatives) == 50
    gap = anchors - positives
    assert np.all((np.abs(gap) >= 1) & (np.abs(gap) <= 3))
    assert np.all(gap[anchors >= 3] > 0)  # the past, where there is one


def test_each_stage_step_is_one_forward_pass(series):
    """Issue 18: anchors, positives and anomalies went through separate forward passes, so
    BatchNorm normalised each group with its own statistics (CARLA: one batch)."""
    detector = _tiny(epochs=1, classification_epochs=1).fit(_windows(series[0][:300], stride=4))
    calls = []
    detector.module_.blocks.register_forward_hook(lambda *args: calls.append(1))
    w = torch.from_numpy(_windows(series[0][:300], stride=4)[:12])
    idx = torch.arange(4)
    detector.module_.train()
    detector._triplet_loss(w, w, (idx, idx + 1, idx))
    assert len(calls) == 1
    neighbours = (idx, torch.stack([idx + 1] * 2, 1), torch.stack([idx + 5] * 2, 1))
    detector._scan_loss(w, neighbours)
    assert len(calls) == 2


def test_collapsed_classification_stage_falls_back_to_neighbours(series, monkeypatch):
    """Issue 18: stage 2 collapsed to one class with P ~ 0.5 and "1 - P(majority)" ranked
    windows arbitrarily (AUROC 0.0015 / 0.98 over seeds). A head that puts everything in
    one class must be detected without labels and replaced by the neighbour score."""

    def one_class(self, bank, batch):
        return -torch.log_softmax(self.module_(bank[batch[0]]), dim=1)[:, 0].mean()

    monkeypatch.setattr(GenIASDetector, "_scan_loss", one_class)
    windows = _windows(series[0], window=24, stride=6)
    detector = _tiny(classification_lr=0.05, carla_score="auto").fit(windows)
    assert detector.fallback_ == "neighbours"
    assert detector.generated_auroc_ > 0.5
    spiked = windows.copy()
    spiked[:, 12] += 3.0
    assert detector.decision_function(spiked).mean() > detector.decision_scores_.mean()


def test_verbose_reaches_every_stage_with_public_names(series, capsys):
    windows = _windows(series[0], stride=8)
    injector = GenIASInjector(hidden_channels=(8,), latent_dim=8, epochs=1)
    GenIASDetector(
        injector=None, injector_epochs=1, hidden_channels=(8,), embedding_dim=8, epochs=1,
        classification_epochs=1, verbose=1, random_state=0, device="cpu",
    ).fit(windows)
    err = capsys.readouterr().err
    for name in ("GenIASInjector [generator]", "GenIASDetector [pretext]",
                 "GenIASDetector [self-supervised classification]"):
        assert name in err
    assert "_GenIAS" not in err
    _tiny(head="classifier", injector=injector, epochs=1, verbose=1).fit(windows)
    assert "GenIASDetector [classifier]" in capsys.readouterr().err


def _amplitude_series(n_train=1200, n_test=1200, period=40, seed=0):
    """A noisy sine; in the test part three periods played 1.6 times louder (labelled)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_train + n_test, dtype=float)
    series = np.sin(2 * np.pi * t / period)[:, None] + rng.normal(0, 0.05, (len(t), 1))
    test = series[n_train:].copy()
    labels = np.zeros(n_test, dtype=int)
    for start in (200, 600, 1000):
        test[start : start + period] *= 1.6
        labels[start : start + period] = 1
    return series[:n_train], test, labels


def test_neighbour_score_is_stable_across_seeds():
    """Issue 18: GenIAS-CARLA's AUROC moved by 0.1-0.5 from seed to seed on most panel
    series: the neighbour score lived in the learned representation only. It now also
    measures the windows themselves; three seeds must agree and rank the anomalies high."""
    from sklearn.metrics import roc_auc_score

    train, test, labels = _amplitude_series()
    aurocs = []
    for seed in range(3):
        ts = TimeSeriesDetector(_tiny(seed), window=32, stride=8).fit(train)
        aurocs.append(roc_auc_score(labels, ts.decision_function(test)))
    assert min(aurocs) >= 0.9, aurocs
    assert max(aurocs) - min(aurocs) < 0.1, aurocs


def _tail_surprise_np(reference, tail_start, x):
    """``-log p`` of ``x`` among the sorted ``reference``, with the exponential tail fitted
    to the reference beyond ``tail_start`` (float64 numpy: the neighbour score's formula)."""
    n = len(reference)
    p = (n - np.searchsorted(reference, x) + 0.5) / (n + 1)
    mean_excess = np.mean(reference[reference > tail_start] - tail_start)
    beyond = x > tail_start
    p[beyond] = np.minimum(p[beyond], 0.1 * np.exp(-(x[beyond] - tail_start) / mean_excess))
    return -np.log(p)


def test_neighbour_score_combines_features_and_windows(series):
    """The neighbour score is ``-log p_features - log p_windows``: each ``p`` the tail
    probability of the mean squared distance to the nearest training windows among the
    training windows' own (exponential beyond their 90th percentile)."""
    windows = _windows(series[0], window=24, stride=6)
    detector = _tiny().fit(windows)
    if detector.fallback_ != "neighbours":
        detector._set_neighbour_banks(torch.from_numpy(windows))
    own = detector._knn_distance(torch.from_numpy(windows), exclude_self=True)
    module = detector.module_.eval()
    X = torch.from_numpy(windows[:5] + 3.0)
    with torch.no_grad():
        score = detector._knn_batch(X).numpy()
        expected = np.zeros(len(X))
        for j, (query, bank) in enumerate(
            ((module.features(X), detector.memory_bank_),
             (((X - module.mean) / module.std).flatten(1), detector.window_bank_))
        ):
            train = torch.from_numpy(bank)
            own_j = torch.cdist(train, train).pow(2).topk(
                detector.n_neighbors + 1, dim=1, largest=False).values[:, 1:].mean(1)
            reference = np.sort(np.log(own_j.double().numpy()))
            np.testing.assert_allclose(detector.neighbour_tails_[j, 2:], reference, rtol=1e-4)
            start = np.quantile(reference, 0.9)
            np.testing.assert_allclose(detector.neighbour_tails_[j, 0], start, rtol=1e-4)
            dist = torch.cdist(query, train).pow(2)
            nearest = dist.topk(detector.n_neighbors, dim=1, largest=False).values.mean(1)
            expected += _tail_surprise_np(reference, start, np.log(nearest.double().numpy()))
    np.testing.assert_allclose(score, expected, rtol=1e-3)
    assert (score > own.max()).all()  # shifted windows are far from every training window


def test_neighbour_score_ignores_the_distances_contrast(series, monkeypatch):
    """Issue 18: the encoder's seed changes the *contrast* of the feature distances (their
    spread in log space), and a geometric mean of the two halves moved with it (seed spread
    0.4 AUROC on panel series). The score must depend only on each window's position among
    the training windows: raising one half's distances to a power (and scaling them) leaves
    every score unchanged."""
    from skanomaly.detectors import _genias

    windows = _windows(series[0], window=24, stride=6)
    test = _windows(series[1], window=24, stride=6)
    detector = _tiny().fit(windows)
    assert detector.fallback_ == "neighbours"
    before = detector.decision_function(test)
    n_features = detector.memory_bank_.shape[1]
    assert n_features != detector.window_bank_.shape[1]
    mean_knn = _genias._mean_knn

    def contrasted(query, bank, k, exclude_self):
        distance = mean_knn(query, bank, k, exclude_self)
        return 7.0 * distance.pow(3) if bank.shape[1] == n_features else distance

    monkeypatch.setattr(_genias, "_mean_knn", contrasted)
    detector._set_neighbour_tails()
    after = detector.decision_function(test)
    np.testing.assert_allclose(after, before, rtol=1e-3, atol=1e-3)


def test_carla_score_class_is_the_papers_score(series):
    """``carla_score="class"`` keeps CARLA's ``1 - P(majority class)`` (no neighbour banks)."""
    windows = _windows(series[0], window=24, stride=6)
    detector = _tiny(carla_score="class").fit(windows)
    assert detector.fallback_ is None and not hasattr(detector, "window_bank_")
    with torch.no_grad():
        proba = torch.softmax(detector.module_.eval()(torch.from_numpy(windows)), dim=1)
    expected = 1 - proba[:, detector.majority_class_].numpy()
    np.testing.assert_allclose(detector.decision_function(windows), expected, rtol=1e-5)
