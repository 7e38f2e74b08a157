"""BaseTorchEstimator: the torch base without the detector contract (issue 19)."""

import os
import pickle
import subprocess
import sys
import warnings
from unittest import mock

import numpy as np
import pytest
import torch
from torch import nn

from skanomaly.base import BaseAnomalyDetector, BaseDeepDetector, BaseTorchEstimator
from skanomaly.utils._determinism import deterministic_algorithms


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
        return torch.cat(m._map_batches(m.module_, X)).cpu().numpy()

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


# ---------------------------------------------------------------------- determinism (issue 17)
def _flags():
    cudnn = torch.backends.cudnn
    return (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        cudnn.deterministic,
        cudnn.benchmark,
        torch.utils.deterministic.fill_uninitialized_memory,
    )


class _Recorder(_TwoStage):
    """Records torch's determinism flags inside each training step."""

    def _fit_module(self, data, rng):
        self.flags_ = []

        def step(batch):
            self.flags_.append(_flags())
            if getattr(self, "fail", False):
                raise RuntimeError("step failed")
            return (self.module_(batch[0]) ** 2).mean()

        optimizer = torch.optim.SGD(self.module_.parameters(), lr=0.01)
        self._fit_stage(step, data, rng, optimizer=optimizer, epochs=1)


@pytest.fixture
def caller_flags():
    """A caller with non-deterministic settings (cuDNN benchmarking on); restored after."""
    saved = _flags()
    torch.use_deterministic_algorithms(False)
    torch.backends.cudnn.deterministic = False
    torch.backends.cudnn.benchmark = True
    torch.utils.deterministic.fill_uninitialized_memory = True
    yield _flags()
    torch.use_deterministic_algorithms(saved[0], warn_only=saved[1])
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = saved[2:4]
    torch.utils.deterministic.fill_uninitialized_memory = saved[4]


def test_fit_is_deterministic_inside_and_restores_the_caller(caller_flags):
    # device="auto": CUDA where there is one, so this runs on both kinds of machine.
    model = _Recorder(batch_size=8, random_state=0).fit(_X())
    assert model.flags_ and set(model.flags_) == {(True, True, True, False, False)}
    assert _flags() == caller_flags
    failing = _Recorder(batch_size=8, random_state=0)
    failing.fail = True
    with pytest.raises(RuntimeError, match="step failed"):
        failing.fit(_X())
    assert _flags() == caller_flags  # restored on errors too


def test_a_callers_strict_mode_is_kept():
    saved = _flags()
    try:
        torch.use_deterministic_algorithms(True)  # strict: no warn_only
        model = _Recorder(batch_size=8, random_state=0).fit(_X())
        assert {f[:4] for f in model.flags_} == {(True, False, True, False)}
        assert _flags()[:2] == (True, False)
    finally:
        torch.use_deterministic_algorithms(saved[0], warn_only=saved[1])


def test_the_block_does_not_import_torchs_compiler():
    # torch.use_deterministic_algorithms imports torch._inductor (2-2.4 s per process on a
    # 2-core machine), which a first fit paid for nothing; a fresh process shows it.
    code = (
        "import sys, torch\n"
        "from skanomaly.utils._determinism import deterministic_algorithms\n"
        "with deterministic_algorithms(torch.device('cpu')):\n"
        "    assert torch.are_deterministic_algorithms_enabled()\n"
        "    assert torch.is_deterministic_algorithms_warn_only_enabled()\n"
        "assert not torch.are_deterministic_algorithms_enabled()\n"
        "print('torch._inductor.config' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert result.stdout.strip() == "False"


def test_a_loaded_compiler_follows_the_block():
    # A caller who compiles has the inductor loaded: its flag is set and restored as well.
    import torch._inductor.config as inductor_config

    saved = inductor_config.deterministic
    with deterministic_algorithms(torch.device("cpu")):
        assert inductor_config.deterministic is True
    assert inductor_config.deterministic == saved == torch.are_deterministic_algorithms_enabled()


def test_cublas_variable_is_set_for_cuda_blocks_only(monkeypatch):
    # No GPU needed: the context only sets flags and the environment.
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    with deterministic_algorithms(torch.device("cpu")):
        assert "CUBLAS_WORKSPACE_CONFIG" not in os.environ
    with deterministic_algorithms(torch.device("cuda")):
        assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
    assert "CUBLAS_WORKSPACE_CONFIG" not in os.environ
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", ":16:8")  # the caller's own value stays
    with deterministic_algorithms(torch.device("cuda:0")):
        assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":16:8"
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":16:8"


def test_refit_gives_identical_scores_on_this_machines_device():
    """Same random_state, same scores, on CUDA too (deterministic algorithms in fit).

    A temporal (Conv1d) detector: cuDNN convolutions are where CUDA refits differed."""
    from skanomaly.detectors import DHAGDetector

    windows = np.random.default_rng(0).normal(size=(64, 16, 2))

    def scores():
        detector = DHAGDetector(epochs=2, batch_size=16, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's note on ops without a deterministic kernel
            return detector.fit(windows).decision_function(windows)

    np.testing.assert_array_equal(scores(), scores())


# ---------------------------------------------------------------- chunk planning (issue 20)
def _reference(n_features=21, **params):
    from skanomaly.utils._testing import ReferenceAutoEncoder

    X = np.random.default_rng(0).normal(size=(300, n_features))
    return ReferenceAutoEncoder(epochs=1, random_state=0, **params).fit(X), X


def test_cpu_scoring_chunks_are_two_quanta_of_work_per_thread_and_fixed():
    from skanomaly._torch_base import _CPU_QUANTA_PER_PASS
    from skanomaly.utils._threads import resolve_torch_threads, rows_per_thread

    model, _ = _reference(device="cpu")  # torch_threads="auto"
    rows = model._inference_rows()
    quantum = rows_per_thread(model.module_, (21,))
    # A small MLP gets bigger chunks than the 1,024-row floor: "auto" gives one quantum one
    # thread, and a pass two quanta, so the pass runs on at most two threads.
    assert model._score_batch_size < quantum
    assert rows == _CPU_QUANTA_PER_PASS * quantum <= 8192
    assert resolve_torch_threads("auto", model.module_, quantum, (21,)) == 1
    # Threads set by the caller each get two quanta, up to the 8,192-row cap.
    model.set_params(torch_threads=2)
    assert model._inference_rows() == min(8192, 2 * _CPU_QUANTA_PER_PASS * quantum)
    # Windows multiply the work by their length: a temporal shape keeps the floor.
    model.set_params(torch_threads="auto")
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


# ---------------------------------------------------------------- CUDA graphs (issue 20)
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def test_training_step_is_graphed_only_where_it_is_safe():
    """Planned for CUDA on any machine: which steps the loop would replay as a graph."""
    from skanomaly._torch_base import _GraphedStep
    from skanomaly.utils._testing import ReferenceAutoEncoder

    model, X = _reference(device="cpu")
    model.device_ = torch.device("cuda")
    bounds = model._batch_bounds(len(X))  # 128, 128, 44
    total = torch.zeros(())

    def plan(step=None, optimizer=None, scheduler=None, model=model):
        optimizer = optimizer or torch.optim.Adam(model.module_.parameters())
        step = step or model._train_step
        return model._graphed_step(step, optimizer, scheduler, None, total, bounds)

    adam = torch.optim.Adam(model.module_.parameters())
    graphed = plan(optimizer=adam)
    assert isinstance(graphed, _GraphedStep)
    # Adam keeps its step count on the device, as a replayed step needs.
    assert all(group["capturable"] for group in adam.param_groups)
    # Full batches go through the graph, the shorter last one does not.
    assert graphed.accepts((torch.zeros(128, 21),))
    assert not graphed.accepts((torch.zeros(44, 21),))

    # Not graphed: another step function (multi-stage models), a scheduler (a graph freezes
    # lr), an optimiser without a capturable mode or with state already, a class that did
    # not declare its step capturable, and any device but CUDA.
    assert plan(step=lambda batch: model._train_step(batch)) is None
    optimizer = torch.optim.Adam(model.module_.parameters())
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1)
    assert plan(optimizer=optimizer, scheduler=scheduler) is None
    assert plan(optimizer=torch.optim.SGD(model.module_.parameters(), lr=0.1)) is None
    used = torch.optim.Adam(model.module_.parameters())
    model.module_(torch.zeros(2, 21))[1].sum().backward()
    used.step()
    assert plan(optimizer=used) is None

    class Eager(ReferenceAutoEncoder):
        _cuda_graph_step = False

    eager = Eager(epochs=1, random_state=0, device="cpu").fit(X)
    eager.device_ = torch.device("cuda")
    assert plan(model=eager, step=eager._train_step) is None
    model.device_ = torch.device("cpu")
    assert plan() is None


def _anorand_fit(monkeypatch, graph, **params):
    from skanomaly.detectors import AnoRandDetector

    monkeypatch.setattr(AnoRandDetector, "_cuda_graph_step", graph)
    X = np.random.default_rng(0).normal(size=(1000, 8))
    detector = AnoRandDetector(epochs=3, batch_size=64, random_state=0, device="cuda", **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # ops without a deterministic kernel
        return detector.fit(X)


@needs_cuda
def test_graphed_training_is_the_eager_training_on_cuda(monkeypatch):
    replays = []
    replay = torch.cuda.CUDAGraph.replay
    monkeypatch.setattr(
        torch.cuda.CUDAGraph, "replay", lambda graph: (replays.append(1), replay(graph))[1]
    )
    graphed = _anorand_fit(monkeypatch, True)
    # 1,050 rows (50 injected) at 64: 16 full batches and one of 26 per epoch; three full
    # batches warm up eagerly, every later one is a replay (the fourth right after capture).
    assert 1000 + graphed.n_injected_ == 1050
    assert len(replays) == 3 * 16 - 3
    eager = _anorand_fit(monkeypatch, False)
    # Same batches, same order, one optimiser step each: only Adam's capturable arithmetic
    # differs, in the last float32 digits.
    np.testing.assert_allclose(graphed.loss_curve_, eager.loss_curve_, rtol=1e-4)
    np.testing.assert_allclose(graphed.decision_scores_, eager.decision_scores_, rtol=1e-3)
    # And a graphed refit is identical.
    again = _anorand_fit(monkeypatch, True)
    np.testing.assert_array_equal(again.decision_scores_, graphed.decision_scores_)


@needs_cuda
def test_a_failed_capture_warns_and_trains_without_the_graph(monkeypatch):
    from skanomaly.utils._testing import ReferenceAutoEncoder

    def refuse(*args, **kwargs):
        raise RuntimeError("operation not permitted when stream is capturing")

    X = np.random.default_rng(0).normal(size=(600, 5))
    params = dict(epochs=2, batch_size=64, random_state=0, device="cuda")
    plain = type("Plain", (ReferenceAutoEncoder,), {"_cuda_graph_step": False})
    expected = plain(**params).fit(X)
    monkeypatch.setattr(torch.cuda, "graph", refuse)
    with pytest.warns(RuntimeWarning, match="could not be captured as a CUDA graph"):
        model = ReferenceAutoEncoder(**params).fit(X)
    # Every batch was still trained on once: the curve of a plain fit (up to Adam's
    # capturable arithmetic).
    assert len(model.loss_curve_) == 2 and np.isfinite(model.decision_scores_).all()
    np.testing.assert_allclose(model.loss_curve_, expected.loss_curve_, rtol=1e-4)


def test_map_batches_can_test_finiteness_after_the_transfer():
    """The device-side NaN/infinity test of accelerators (issue 20), run here on the CPU:
    scikit-learn's message, after the passes; nothing raised for finite data."""
    model, X = _reference(device="cpu")
    unchecked = model._check_input(np.where(np.arange(21) == 3, np.nan, X), ensure_all_finite=False)
    assert np.isnan(unchecked).any()
    with pytest.raises(ValueError, match="Input X contains NaN"):
        model._map_batches(lambda batch: batch, unchecked, check_finite=True)
    X_inf = X.copy()
    X_inf[5, 0] = np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        model._map_batches(lambda batch: batch, X_inf.astype(np.float32), check_finite=True)
    outputs = model._map_batches(lambda batch: batch, X.astype(np.float32), check_finite=True)
    np.testing.assert_array_equal(torch.cat(outputs).numpy(), X.astype(np.float32))
    # Scoring on a CPU keeps scikit-learn's host test, before any pass.
    with mock.patch.object(type(model), "_map_batches") as passes:
        with pytest.raises(ValueError, match="Input X contains NaN"):
            model.decision_function(unchecked)
    passes.assert_not_called()
