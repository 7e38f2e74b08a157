"""BaseDeepDetector behaviour that the common checks do not cover: devices, the loop, errors."""

import json
import pickle
from unittest import mock

import numpy as np
import pytest
import torch

from skanomaly.base import BaseDeepDetector
from skanomaly.nn import fork_rng, resolve_device
from skanomaly.utils._testing import ReferenceAutoEncoder


def _detector(**params):
    defaults = dict(epochs=3, batch_size=16, hidden_dims=(8,), latent_dim=2, random_state=0)
    defaults.update(params)
    return ReferenceAutoEncoder(**defaults)


# ---------------------------------------------------------------------- devices
def test_auto_device_picks_cuda_when_available():
    with mock.patch("torch.cuda.is_available", return_value=True):
        assert resolve_device("auto") == torch.device("cuda")
    with mock.patch("torch.cuda.is_available", return_value=False):
        assert resolve_device("auto") == torch.device("cpu")


def test_explicit_cuda_index_checked_against_device_count():
    with (
        mock.patch("torch.cuda.is_available", return_value=True),
        mock.patch("torch.cuda.device_count", return_value=2),
    ):
        assert resolve_device("cuda:1") == torch.device("cuda:1")
        with pytest.raises(ValueError, match="2 CUDA"):
            resolve_device("cuda:3")


@pytest.mark.parametrize("device", ["cuda", "cuda:0"])
def test_cuda_requested_without_cuda_is_a_clear_error(device, tabular_data):
    with mock.patch("torch.cuda.is_available", return_value=False):
        with pytest.raises(ValueError, match="CUDA is not available"):
            _detector(device=device).fit(tabular_data[0])


@pytest.mark.parametrize("device", ["gpu", "tpu", "cuda:x"])
def test_unknown_device_name(device, tabular_data):
    with pytest.raises(ValueError, match="device must be"):
        _detector(device=device).fit(tabular_data[0])


def test_device_is_resolved_in_fit_not_init(tabular_data):
    detector = _detector(device="auto")
    assert detector.device == "auto" and not hasattr(detector, "device_")
    detector.fit(tabular_data[0])
    # Whatever this machine has (CPU, CUDA or MPS): what "auto" resolves to at fit time.
    assert detector.device_ == resolve_device("auto")
    assert {p.device.type for p in detector.module_.parameters()} == {detector.device_.type}


def test_model_trained_on_cuda_unpickles_on_cpu_only_machine(tabular_data):
    X = tabular_data[0]
    detector = _detector(device="cuda").set_params(device="cpu").fit(X)
    expected = detector.decision_function(X)
    # Pretend the pickle came from a CUDA machine: device parameter and device_ name CUDA.
    detector.device = "cuda"
    detector.device_ = torch.device("cuda:0")
    payload = pickle.dumps(detector)
    with mock.patch("torch.cuda.is_available", return_value=False):
        with pytest.warns(UserWarning, match="not available here"):
            restored = pickle.loads(payload)
    assert restored.device_ == torch.device("cpu")
    np.testing.assert_array_equal(restored.decision_function(X), expected)


def test_getstate_moves_accelerator_tensors_to_cpu(tabular_data):
    detector = _detector(device="cpu").fit(tabular_data[0])
    with (
        mock.patch("skanomaly._persistence._on_accelerator", return_value=True),
        mock.patch("skanomaly._persistence._cpu_copy", side_effect=lambda v: ("cpu-copy", v)) as copy,
    ):
        state = detector.__getstate__()
    assert state["module_"][0] == "cpu-copy"
    assert copy.called


def test_save_load_uses_weights_only_and_map_location(tabular_data, tmp_path):
    X = tabular_data[0]
    detector = _detector(device="cpu").fit(X)
    detector.save(tmp_path / "model")
    meta = json.loads((tmp_path / "model" / "params.json").read_text())
    assert meta["class"].endswith("ReferenceAutoEncoder")
    assert meta["params"]["hidden_dims"] == {"__tuple__": [8]}
    real_load = torch.load
    with mock.patch("torch.load", side_effect=real_load) as load:
        restored = BaseDeepDetector.load(tmp_path / "model")
    assert load.call_args.kwargs == {"map_location": "cpu", "weights_only": True}
    np.testing.assert_array_equal(restored.decision_function(X), detector.decision_function(X))


def test_load_refuses_foreign_classes(tabular_data, tmp_path):
    detector = _detector(device="cpu").fit(tabular_data[0])
    path = detector.save(tmp_path / "model")
    meta = json.loads((path / "params.json").read_text())
    meta["class"] = "os.system"
    (path / "params.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="Refusing"):
        BaseDeepDetector.load(path)


def test_fork_rng_leaves_global_state_alone():
    torch.manual_seed(7)
    before = torch.get_rng_state().clone()
    with fork_rng(torch.device("cpu"), 123):
        first = torch.rand(3)
    with fork_rng(torch.device("cpu"), 123):
        second = torch.rand(3)
    assert torch.equal(first, second)
    assert torch.equal(torch.get_rng_state(), before)


# ---------------------------------------------------------------------- loop
def test_parameters_are_validated_in_fit_not_init(tabular_data):
    detector = _detector(contamination=0.9, epochs=0)  # no error here
    with pytest.raises(ValueError, match="contamination"):
        detector.fit(tabular_data[0])


def test_nan_loss_stops_with_error_naming_the_epoch(tabular_data):
    class Exploding(ReferenceAutoEncoder):
        def _train_step(self, batch):
            loss = super()._train_step(batch)
            return loss * torch.tensor(float("nan")) if len(self.loss_curve_) == 1 else loss

    with pytest.raises(FloatingPointError, match="epoch 2 of 3"):
        Exploding(epochs=3, random_state=0, device="cpu").fit(tabular_data[0])


@pytest.mark.parametrize(
    ("n", "batch_size", "expected"),
    [
        (5, 128, [(0, 5)]),
        (10, 3, [(0, 3), (3, 6), (6, 10)]),  # a 1-row tail merges into the previous batch
        (9, 3, [(0, 3), (3, 6), (6, 9)]),
        (2, 1, [(0, 1), (1, 2)]),
    ],
)
def test_batch_bounds_never_empty_or_single_row_tail(n, batch_size, expected):
    assert _detector(batch_size=batch_size)._batch_bounds(n) == expected


def test_fewer_rows_than_batch_size_still_trains(tabular_data):
    X = tabular_data[0][:7]
    detector = _detector(batch_size=256, epochs=2).fit(X)
    assert len(detector.loss_curve_) == 2 and detector.n_epochs_ == 2


def test_loss_decreases_and_curve_recorded(tabular_data):
    detector = _detector(epochs=15, lr=1e-2).fit(tabular_data[0])
    assert len(detector.loss_curve_) == 15
    assert detector.loss_curve_[-1] < detector.loss_curve_[0]


def test_early_stopping_restores_best_weights(tabular_data):
    X = tabular_data[0]
    detector = _detector(epochs=30, early_stopping=True, patience=2, lr=5e-2).fit(X)
    best = int(np.argmin(detector.validation_scores_)) + 1
    assert detector.best_epoch_ == best
    assert detector.n_epochs_ <= 30
    # The kept weights are the best epoch's: re-evaluating the held-out rows gives its loss.
    rng = np.random.default_rng(0)
    _, valid = detector._split_validation((X.astype(np.float32),), rng)
    assert detector._evaluate(detector._train_step, valid) == pytest.approx(min(detector.validation_scores_), rel=1e-5)


def test_verbose_shows_a_progress_bar(tabular_data, capsys):
    _detector(verbose=1, epochs=2).fit(tabular_data[0])
    assert "ReferenceAutoEncoder" in capsys.readouterr().err


def test_scores_do_not_depend_on_the_batch_a_row_is_scored_with(tabular_data):
    X = tabular_data[0]
    detector = _detector().fit(X)
    full = detector.decision_function(X)
    one_by_one = np.concatenate([detector.decision_function(X[i : i + 2]) for i in range(0, 20, 2)])
    np.testing.assert_array_equal(one_by_one, full[:20])


def test_semi_supervised_flag_requires_labels(tabular_data):
    class Labelled(ReferenceAutoEncoder):
        def _uses_labels(self):
            return True

    with pytest.raises(ValueError, match="needs y"):
        Labelled(epochs=1, device="cpu").fit(tabular_data[0])
    with pytest.raises(ValueError, match="0 \\(normal\\) and 1"):
        Labelled(epochs=1, device="cpu").fit(tabular_data[0], np.full(len(tabular_data[0]), 2))


def test_anomalies_score_higher(tabular_data):
    X, y = tabular_data
    detector = _detector(epochs=30, lr=1e-2).fit(X[y == 0])
    scores = detector.decision_function(X)
    assert scores[y == 1].min() > np.median(scores[y == 0])


# ---------------------------------------------------------------------- layer widths
def test_check_layer_widths_shared_by_the_detectors():
    from skanomaly.utils import check_layer_widths

    assert check_layer_widths([64, np.int64(8)], "hidden_dims") == (64, 8)
    assert check_layer_widths((), "perturbator_dims", allow_empty=True) == ()
    for bad in [(), (0,), (8, True), (2.5,)]:
        with pytest.raises(ValueError, match="hidden_dims must be a tuple of positive ints"):
            check_layer_widths(bad, "hidden_dims")
