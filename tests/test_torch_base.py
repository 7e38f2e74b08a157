"""BaseTorchEstimator: the torch base without the detector contract (issue 19)."""

import pickle
from unittest import mock

import numpy as np
import pytest
import torch
from torch import nn

from skanomaly.base import BaseAnomalyDetector, BaseDeepDetector, BaseTorchEstimator


class _TwoStage(BaseTorchEstimator):
    """A non-detector with two stages, each its own step function (as GenIAS does)."""

    def _build(self, input_shape):
        return nn.Sequential(nn.Linear(input_shape[0], 2), nn.Dropout(0.5))

    def _fit_module(self, data, rng):
        target = torch.zeros(2, device=self.device_)
        self.seen_ = []
        for stage, scale in (("first", 1.0), ("second", 2.0)):

            def step(batch, stage=stage, scale=scale):
                self.seen_.append(stage)
                return scale * ((self.module_(batch[0]) - target) ** 2).mean()

            optimizer = torch.optim.SGD(self.module_.parameters(), lr=0.01)
            self._fit_stage(step, data, rng, optimizer=optimizer, epochs=2)
            setattr(self, f"{stage}_curve_", list(self.loss_curve_))


def _X():
    return np.random.default_rng(0).normal(size=(40, 3))


def test_a_torch_estimator_is_not_a_detector():
    model = _TwoStage(batch_size=8, random_state=0).fit(_X())
    assert not isinstance(model, BaseAnomalyDetector)
    assert "contamination" not in model.get_params()
    for attribute in ("threshold_", "decision_scores_", "labels_"):
        assert not hasattr(model, attribute)
    assert model.first_curve_ and model.second_curve_
    assert model.seen_[0] == "first" and model.seen_[-1] == "second"
    assert model.second_curve_[0] > model.first_curve_[-1]  # the second step's scale


def test_torch_and_detector_bases_share_one_loop():
    assert issubclass(BaseDeepDetector, BaseTorchEstimator)
    assert issubclass(BaseDeepDetector, BaseAnomalyDetector)
    assert BaseDeepDetector._train_loop is BaseTorchEstimator._train_loop
    assert {"contamination"} == set(BaseDeepDetector._parameter_constraints) - set(
        BaseTorchEstimator._parameter_constraints
    )


def test_map_batches_chunks_pads_and_restores_the_mode():
    model = _TwoStage(batch_size=8, random_state=0, device="cpu").fit(_X())
    model.module_.train()
    sizes = []

    def record(batch):
        sizes.append(len(batch))
        assert not model.module_.training and not torch.is_grad_enabled()
        return model.module_(batch)

    out = model._map_batches(record, _X()[:25], batch_size=10)
    assert sizes == [10, 10, 5] and [len(o) for o in out] == [10, 10, 5]
    assert model.module_.training  # restored
    sizes.clear()
    padded = model._map_batches(record, _X()[:25], batch_size=10, pad=True)
    assert sizes == [10, 10, 10] and [len(o) for o in padded] == [10, 10, 5]
    # Dropout is off in eval mode: the same rows give the same outputs either way.
    torch.testing.assert_close(torch.cat(out), torch.cat(padded))


def test_torch_estimator_pickles_and_saves(tmp_path):
    X = _X()
    model = _TwoStage(batch_size=8, random_state=0).fit(X)

    def embed(m):
        return torch.cat(m._map_batches(m.module_, X)).numpy()

    np.testing.assert_array_equal(embed(pickle.loads(pickle.dumps(model))), embed(model))
    model.save(tmp_path / "m")
    # load only rebuilds classes of known packages; let it trust this test module.
    with mock.patch("skanomaly._persistence._LOADABLE_PACKAGES", ("tests.",)):
        restored = _TwoStage.load(tmp_path / "m")
    np.testing.assert_array_equal(embed(restored), embed(model))


def test_generators_and_embeddings_are_torch_estimators_not_detectors():
    from skanomaly.injectors._genias import _GenIASGenerator
    from skanomaly.metrics._deep_svdd import _DeepSVDDEmbedding

    for klass in (_GenIASGenerator, _DeepSVDDEmbedding):
        assert issubclass(klass, BaseTorchEstimator)
        assert not issubclass(klass, BaseAnomalyDetector)


def test_genias_leaves_no_training_state_on_the_detector():
    from skanomaly.detectors import GenIASDetector

    windows = np.sin(np.arange(12)[None, :, None] / 2 + np.arange(30)[:, None, None] / 5)
    detector = GenIASDetector(
        epochs=1, classification_epochs=1, batch_size=16, hidden_channels=(4,),
        embedding_dim=4, n_classes=3, injector_epochs=1, random_state=0, device="cpu",
    ).fit(windows)
    for name in ("_stage", "_windows", "_negatives", "_bank", "_channel_stats"):
        assert not hasattr(detector, name)
    # The channel statistics reached the network's normalisation buffers.
    assert not torch.equal(detector.module_.std, torch.ones_like(detector.module_.std))


@pytest.mark.parametrize("user_seed", [None, 7])
def test_composite_detectors_keep_a_user_set_injector_seed(user_seed):
    from skanomaly.detectors import GenIASDetector
    from skanomaly.injectors import TrendInjector

    captured = {}

    class Recording(TrendInjector):
        def _fit(self, X, rng):
            captured["random_state"] = self.random_state
            return super()._fit(X, rng)

    windows = np.sin(np.arange(12)[None, :, None] / 2 + np.arange(30)[:, None, None] / 5)
    GenIASDetector(
        injector=Recording(random_state=user_seed), epochs=1, classification_epochs=1,
        batch_size=16, hidden_channels=(4,), embedding_dim=4, n_classes=3, random_state=0,
        device="cpu",
    ).fit(windows)
    if user_seed is None:
        assert isinstance(captured["random_state"], int)
    else:
        assert captured["random_state"] == user_seed


# ---------------------------------------------------------------- chunk planning (issue 20)
def _reference(n_features=21, **params):
    from skanomaly.utils._testing import ReferenceAutoEncoder

    X = np.random.default_rng(0).normal(size=(300, n_features))
    return ReferenceAutoEncoder(epochs=1, random_state=0, **params).fit(X), X


def test_cpu_scoring_chunks_are_one_thread_of_work_and_fixed():
    from skanomaly.utils._threads import _WORK_PER_THREAD, resolve_torch_threads

    model, _ = _reference(device="cpu")
    rows = model._inference_rows()
    n_weights = sum(p.numel() for p in model.module_.parameters())
    # A small MLP gets bigger chunks than the 1,024-row floor, within one thread's work,
    # so the "auto" thread rule keeps a single thread for them.
    assert model._score_batch_size < rows <= 8192
    assert n_weights * rows <= _WORK_PER_THREAD < n_weights * (rows + 1)
    assert resolve_torch_threads("auto", model.module_, rows, (21,)) == 1
    # Windows multiply the work by their length: a temporal shape keeps the floor.
    model.input_shape_ = (512, 21)
    assert model._inference_rows() == model._score_batch_size


def test_cpu_scores_do_not_depend_on_the_size_of_the_call():
    model, X = _reference(device="cpu")
    full = model.decision_function(X)
    assert model._inference_rows() > len(X)  # one padded chunk for the whole call
    singles = np.concatenate([model.decision_function(X[i : i + 1]) for i in range(5)])
    np.testing.assert_array_equal(singles, full[:5])


@pytest.mark.parametrize("working_memory", [1, 1024])
def test_accelerator_chunks_come_from_the_memory_budget(working_memory):
    """Planned for CUDA on any machine: the plan depends on the device type only."""
    from sklearn import config_context

    model, _ = _reference(device="cpu")
    model.device_ = torch.device("cuda")
    with config_context(working_memory=working_memory):
        rows = model._inference_rows()
        row_activation_bytes = 4 * 21 * 64  # _ACTIVATION_FACTOR bytes per input byte
        assert rows == max(1024, working_memory * 2**20 // row_activation_bytes)
        part_rows, size, floor = model._chunk_plan(10**7, (21,), rows)
        # Host data travel in parts of working_memory (one transfer each), never smaller
        # than a forward pass; short passes are padded to 64 rows, not to the full size.
        assert part_rows == max(rows, working_memory * 2**20 // (4 * 21))
        assert size == rows and floor == 64
        # Resident tensors are not re-transferred: one part.
        assert model._chunk_plan(10**7, (21,), rows, is_tensor=True)[0] == 10**7
    model.device_ = torch.device("cpu")
    assert model._chunk_plan(10**7, (21,), 2000) == (10**7, 2000, 2000)


def test_cpu_scoring_chunks_grow_with_the_threads_set_by_the_caller():
    model, X = _reference(device="cpu", torch_threads=1)
    one = model._inference_rows()
    model.set_params(torch_threads=3)
    assert model._inference_rows() == min(3 * one, 8192)
    # Float32 MLP rows are computed alike at any chunk size and thread count (bit for bit
    # on this project's CPUs; other BLAS builds may differ in the last digit).
    scores = model.decision_function(X)
    model.set_params(torch_threads=1)
    np.testing.assert_allclose(model.decision_function(X), scores, rtol=1e-6)
