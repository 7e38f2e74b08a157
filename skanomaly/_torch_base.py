"""BaseTorchEstimator: the one training loop, devices, seeding and persistence.

Public as :class:`skanomaly.base.BaseTorchEstimator`. Everything a torch model of skanomaly needs that is not its paper: validate the input,
resolve ``device_``, seed local generators, build the network, run the loop (batching,
shuffling, early stopping, progress), apply the network in chunks without gradients, and
pickle or save/load it. It makes no claim about anomalies: the detector contract
(``contamination``, ``threshold_``, ``decision_function``) lives one layer up in
:class:`skanomaly.base.BaseDeepDetector`. Torch models that are not detectors, such as the
GenIAS generator of :class:`~skanomaly.injectors.GenIASInjector` and the Deep SVDD embedding
behind :func:`~skanomaly.metrics.arp_score`, subclass this class alone.

The hooks a subclass implements (nothing else of the loop):

``_build(input_shape)`` (required)
    The ``nn.Module`` for samples of shape ``input_shape``.
``_train_step(batch)``
    The loss of one batch; used by the default ``_fit_module`` (single-stage models).
``_prepare_training_data(X, y, rng)`` (optional)
    What ``_fit_module`` trains on; by default ``(X,)`` or ``(X, y)``.
``_make_optimizer(module)``, ``_make_scheduler(optimizer)`` (optional)
    Adam at ``lr`` and no scheduler by default.
``_fit_module(data, rng)`` (optional)
    Multi-stage models override it and call :meth:`BaseTorchEstimator._fit_stage` once per
    stage with that stage's step function; the default runs one stage of ``_train_step``.
``_check_savable()`` (optional)
    Raise ``TypeError`` when ``save`` cannot store the estimator's parameters.
"""

import contextlib
import copy
import math
import warnings
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
import torch
from sklearn import get_config
from sklearn.base import BaseEstimator
from sklearn.utils import check_consistent_length
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from sklearn_compat.base import _fit_context
from tqdm.auto import tqdm

from skanomaly import _persistence
from skanomaly.nn import fork_rng, resolve_device
from skanomaly.utils._determinism import deterministic_algorithms
from skanomaly.utils._threads import (
    resolve_torch_threads,
    rows_per_thread,
    torch_thread_limit,
)
from skanomaly.utils._validation import (
    check_binary_labels,
    check_detector_input,
    check_random_seed,
)

__all__ = ["BaseTorchEstimator"]

# Scoring chunks on accelerators (see BaseTorchEstimator._inference_rows): activations are
# estimated at this many bytes per byte of input, generous for the MLPs and temporal
# networks here.
_ACTIVATION_FACTOR = 64
# On accelerators, chunks of fewer rows are zero-padded to this many (see _map_batches).
_PAD_ROWS = 64
# Most rows per scoring chunk on a CPU: every chunk, a one-row call's too, is padded to the
# chunk size there, so this bounds the work a tiny call wastes (~1 ms for small MLPs).
_CPU_MAX_CHUNK_ROWS = 8192
# Work quanta (rows_per_thread) each thread gets per CPU scoring pass: two halve the passes
# whose fixed cost (operator dispatch, allocation, the threads' fork/join) one quantum still
# paid visibly; measured on the 21-feature auto-encoder of benchmarks/loop.py, 100k rows,
# interleaved: 3.38M vs 2.60M rows/s median at 2 threads, 2.15M vs 2.06M at 1 thread.
_CPU_QUANTA_PER_PASS = 2


class BaseTorchEstimator(BaseEstimator, metaclass=ABCMeta):
    """Base class of skanomaly's torch models: one loop, devices, seeding, persistence.

    Parameters
    ----------
    epochs : int, default=50
        Number of passes over the training data.
    batch_size : int, default=128
        Rows per optimisation step. Any number of rows trains, even fewer than
        ``batch_size`` (one smaller batch); a last batch of a single row is merged into the
        previous one so that batch statistics stay defined. On a GPU a plain loop over
        small batches is launch-bound (about 56k rows/s on an H100 or H200, slower than two
        CPU cores); detectors whose training step can be recorded (AnoRand) replay it as a
        CUDA graph there, 540k rows/s at 128 rows for a small auto-encoder on an H200. For
        large data on a GPU, raising it (4096: 2-3M rows/s) is faster still, with ``lr``
        scaled with care; the default stays 128 on every device so that a fit's result
        does not depend on where it runs. Scoring sizes its own chunks (see
        ``decision_function``).
    lr : float, default=1e-3
        Learning rate of the Adam optimiser.
    device : {"auto", "cpu", "cuda", "cuda:N", "mps"}, default="auto"
        Where to train and infer. ``"auto"`` picks CUDA when available, else the CPU.
        Resolved in ``fit`` into ``device_``.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and sampling through local generators; an
        int makes ``fit`` reproducible, also on CUDA: ``fit`` runs with torch's deterministic
        algorithms (cuDNN without benchmarking; see *Notes*). The global numpy and torch RNG
        states and the caller's determinism settings are left untouched.
    verbose : int, default=0
        ``1`` shows a progress bar over epochs with the current loss.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training rows, stop when their loss has not
        improved for ``patience`` epochs and restore the best weights. The validation loss is
        the training objective on held-out rows: no labels are used.
    validation_fraction : float in (0, 1), default=0.1
        Share of rows held out when ``early_stopping=True``.
    patience : int, default=10
        Epochs without validation improvement before stopping.
    torch_threads : "auto", int >= 1 or None, default="auto"
        Intra-op torch threads during ``fit`` and inference (``torch.set_num_threads`` is
        process-wide: the caller's setting is restored afterwards, also on errors).
        ``"auto"`` sizes them to the work of one step (weights x rows x time steps): one
        thread for small networks, which gain nothing from more and lose several times
        their speed when another process keeps a core busy; more, up to the caller's
        ``torch.get_num_threads()``, for large ones. An int is used as is; ``None`` keeps the
        caller's setting. Not scikit-learn's ``n_jobs``: no processes are started, and the
        other libraries' thread pools (``threadpoolctl``) are left alone.

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained network.
    device_ : torch.device
        Device the network lives on.
    n_features_in_ : int
        Number of features (tabular) or channels (windows).
    input_shape_ : tuple of int
        Shape of one sample: ``(n_features,)`` or ``(window, n_channels)``.
    feature_names_in_ : ndarray of str
        Column names, when ``X`` was a DataFrame with string column names.
    loss_curve_ : list of float
        Mean training loss per epoch (of the last stage).
    validation_scores_ : list of float
        Mean validation loss per epoch (only with ``early_stopping=True``).
    n_epochs_ : int
        Epochs actually run (in the last stage).
    best_epoch_ : int
        Epoch whose weights were kept (1-based; the last one without early stopping).

    Notes
    -----
    **Reproducibility.** ``fit`` runs with ``torch.use_deterministic_algorithms(True,
    warn_only=True)``, ``torch.backends.cudnn.deterministic = True`` and
    ``torch.backends.cudnn.benchmark = False``, and restores the caller's settings afterwards
    (also on errors): with an int ``random_state``, refitting on the same device, software and
    data gives identical weights and scores, on CUDA too. Operations that have no
    deterministic CUDA implementation warn (a ``UserWarning`` names them) instead of failing;
    they may differ between refits in the last float32 digits. cuBLAS needs the environment
    variable ``CUBLAS_WORKSPACE_CONFIG=:4096:8``, which torch reads at the process's first
    CUDA matrix product: ``fit`` sets it for its duration when unset, which covers a process
    whose first CUDA product is a fit; otherwise set it before starting Python. Results on
    different devices (CPU vs CUDA, or two GPU models) agree only to float32 tolerance.

    Examples
    --------
    A torch estimator that is not a detector: an auto-encoder whose ``transform`` returns the
    code of each row.

    >>> import numpy as np
    >>> from torch import nn
    >>> from skanomaly.base import BaseTorchEstimator
    >>> class TinyEncoder(BaseTorchEstimator):
    ...     def _build(self, input_shape):
    ...         n = input_shape[0]
    ...         return nn.Sequential(nn.Linear(n, 2), nn.Linear(2, n))
    ...     def _train_step(self, batch):
    ...         (X,) = batch
    ...         return ((self.module_(X) - X) ** 2).mean()
    ...     def transform(self, X):
    ...         X = self._check_input(X)
    ...         codes = self._map_batches(self.module_[0], X)
    ...         return np.concatenate([c.cpu().numpy() for c in codes])
    >>> X = np.random.default_rng(0).normal(size=(50, 4))
    >>> TinyEncoder(epochs=2, random_state=0).fit(X).transform(X).shape
    (50, 2)
    """

    _parameter_constraints = {
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "torch_threads": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left"), None],
    }

    # Rows per forward pass of _map_batches by default. Scoring sizes its chunks from a
    # memory budget instead (_inference_rows), capped by this value when a subclass lowers
    # it for a heavy module.
    _score_batch_size = 1024

    # Whether ``_train_step`` may be replayed as a CUDA graph (see _GraphedStep): a subclass
    # sets it when its step has no host synchronisation (``.item()``, ``bool(tensor)``),
    # no data-dependent shapes (boolean indexing) and reads no Python state that changes
    # between steps; such a step on CUDA is otherwise launch-bound at small batches.
    _cuda_graph_step = False

    def __init__(
        self,
        *,
        epochs=50,
        batch_size=128,
        lr=1e-3,
        device="auto",
        random_state=None,
        verbose=0,
        early_stopping=False,
        validation_fraction=0.1,
        patience=10,
        torch_threads="auto",
    ):
        # Only store: scikit-learn's clone/set_params must behave like the constructor.
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.torch_threads = torch_threads

    # ------------------------------------------------------------------ subclass hooks
    @abstractmethod
    def _build(self, input_shape):
        """Return the ``nn.Module`` for samples of shape ``input_shape``.

        ``input_shape`` is ``(n_features,)`` for tabular data and ``(window, n_channels)``
        for windows. Called inside a seeded RNG fork (and again by ``load``, where the
        weights are then overwritten); the base moves it to ``device_``.
        """

    def _train_step(self, batch):
        """Return the scalar loss of one batch (a tuple of tensors already on ``device_``).

        The step of the default, single-stage ``_fit_module``.
        """
        raise NotImplementedError(
            f"{type(self).__name__} implements neither _train_step nor its own _fit_module."
        )

    def _prepare_training_data(self, X, y, rng):
        """Return what ``_fit_module`` trains on: by default the tuple of arrays, aligned on
        axis 0, that batches are cut from.

        ``y`` is ``None`` unless the estimator uses labels (``semi_supervised=True``).
        Detectors that inject anomalies at the data level override this; ``rng`` is the
        fit's seeded ``numpy.random.Generator``.
        """
        return (X,) if y is None else (X, y)

    def _make_optimizer(self, module):
        """Return the optimiser of ``module`` (Adam at ``lr``); override for param groups."""
        return torch.optim.Adam(module.parameters(), lr=self.lr)

    def _make_scheduler(self, optimizer):
        """Return an epoch-level learning-rate scheduler, or ``None`` (the default)."""
        return None

    def _fit_module(self, data, rng):
        """Train ``module_`` on ``data`` (what ``_prepare_training_data`` returned).

        Single stage by default. Multi-stage models override this and call
        :meth:`_fit_stage` once per stage, each with its own step function.
        """
        self._fit_stage(
            self._train_step,
            data,
            rng,
            optimizer=self._make_optimizer(self.module_),
            epochs=self.epochs,
            scheduler_factory=self._make_scheduler,
        )

    def _check_savable(self):
        """Raise ``TypeError`` when :meth:`save` cannot store this estimator (a hook)."""

    def _uses_labels(self):
        """Whether ``fit`` passes ``y`` on to the estimator (``semi_supervised=True``)."""
        return bool(getattr(self, "semi_supervised", False))

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Train ``module_`` on ``X`` (rows or windows).

        Parameters
        ----------
        X : array-like, 2-D rows or 3-D windows ``(n_windows, window, n_channels)``
            What the network learns from.
        y : None or array-like of shape (n_samples,), default=None
            Read only by estimators that use labels (``semi_supervised=True``).

        Returns
        -------
        self : object
            Fitted estimator.
        """
        self._fit_torch(X, y)
        return self

    def _fit_torch(self, X, y):
        """Validate, resolve the device, seed, build ``module_`` and train it; return the
        validated ``X``. Parameters are validated by the caller's ``_fit_context``."""
        X = check_detector_input(self, X, reset=True)
        y = self._check_fit_labels(X, y)
        self.device_ = resolve_device(self.device)
        seed = check_random_seed(self.random_state)
        # A separate fixed seed for inference keeps it deterministic (dropout-free modules
        # ignore it; stochastic scorers such as sampling perturbators rely on it).
        self._score_seed = (seed + 1) % (2**32)
        rng = np.random.default_rng(seed)
        # Same random_state, same weights on every device: seeding covers the random draws,
        # deterministic algorithms the arithmetic (cuDNN/cuBLAS on CUDA); both settings are
        # process-wide and restored afterwards.
        with fork_rng(self.device_, seed), deterministic_algorithms(self.device_):
            data = self._prepare_training_data(X, y, rng)
            self.module_ = self._build(self.input_shape_).to(self.device_)
            with self._thread_limit(self.batch_size, self.input_shape_):
                self._fit_module(data, rng)
        return X

    def _thread_limit(self, rows, sample_shape):
        """Context setting the torch threads of ``torch_threads`` for steps of ``rows``."""
        n_threads = resolve_torch_threads(
            getattr(self, "torch_threads", "auto"), self.module_, rows, tuple(sample_shape)
        )
        return torch_thread_limit(n_threads)

    def _check_input(self, X, *, ensure_all_finite=True):
        """Validate ``X`` after fit (shape as in training, at least one row); with
        ``ensure_all_finite=False`` the NaN/infinity test is the caller's (see
        ``_map_batches(check_finite=True)``)."""
        check_is_fitted(self)
        return check_detector_input(
            self, X, reset=False, ensure_min_samples=1, ensure_all_finite=ensure_all_finite
        )

    def __sklearn_is_fitted__(self):
        return hasattr(self, "module_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags

    def _check_fit_labels(self, X, y):
        if not self._uses_labels() or y is None:
            if self._uses_labels():
                raise ValueError(
                    f"{type(self).__name__}(semi_supervised=True) needs y with 1 for known "
                    "anomalies and 0 otherwise; got y=None."
                )
            return None
        y = check_binary_labels(y, name="y")
        check_consistent_length(X, y)
        return y.astype(np.float32)

    # ------------------------------------------------------------------ the loop
    def _fit_stage(
        self, step, arrays, rng, *, optimizer, epochs, scheduler_factory=None, stage=None
    ):
        """One training stage: split off the validation rows (``early_stopping``), then run
        :meth:`_train_loop` of ``step`` over ``arrays`` (a tuple aligned on axis 0).

        ``stage`` is the public name the progress bar shows (``verbose``) beside the class
        name, e.g. ``"pretext"``; multi-stage models name every stage so that users can tell
        which one is running."""
        train, valid = self._split_validation(arrays, rng)
        self._train_loop(
            step,
            optimizer,
            train,
            valid,
            epochs=epochs,
            scheduler_factory=scheduler_factory,
            stage=stage,
        )

    def _split_validation(self, arrays, rng):
        """Split ``arrays`` into (train, validation) tensors on ``device_``; validation is
        ``None`` unless ``early_stopping``."""
        n = len(arrays[0])
        n_valid = int(round(self.validation_fraction * n)) if self.early_stopping else 0
        if self.early_stopping and (n_valid < 1 or n - n_valid < 1):
            raise ValueError(
                f"early_stopping=True with validation_fraction={self.validation_fraction} "
                f"leaves no training or no validation rows for {n} samples."
            )
        if n_valid == 0:
            return self._to_tensors(arrays), None
        order = rng.permutation(n)
        valid_idx, train_idx = order[:n_valid], order[n_valid:]
        train = self._to_tensors([a[train_idx] for a in arrays])
        valid = self._to_tensors([a[valid_idx] for a in arrays])
        return train, valid

    def _to_tensors(self, arrays):
        """Tensors on ``device_`` (float64 arrays become float32; tensors are moved)."""
        tensors = []
        for array in arrays:
            if isinstance(array, torch.Tensor):
                tensors.append(array.to(self.device_))
                continue
            array = np.asarray(array)
            if not array.flags.writeable or not array.flags.c_contiguous:
                array = np.ascontiguousarray(array).copy()
            if array.dtype == np.float64:
                array = array.astype(np.float32)
            tensors.append(torch.from_numpy(array).to(self.device_))
        return tuple(tensors)

    def _batch_bounds(self, n):
        """Batch boundaries for ``n`` rows: never an empty epoch, and no 1-row last batch
        (it would break batch statistics) unless ``batch_size`` itself is 1."""
        size = min(self.batch_size, n)
        bounds = list(range(0, n, size)) + [n]
        if size > 1 and len(bounds) > 2 and bounds[-1] - bounds[-2] == 1:
            del bounds[-2]
        return list(zip(bounds[:-1], bounds[1:], strict=True))

    def _train_loop(
        self, step, optimizer, train, valid=None, *, epochs, scheduler_factory=None, stage=None
    ):
        """Run ``epochs`` passes of ``step`` over ``train`` (a tuple of tensors).

        ``step(batch)`` returns the loss of one batch; the validation loss (early stopping)
        is the same ``step`` on held-out batches, without gradients. Records
        ``loss_curve_``, ``validation_scores_``, ``n_epochs_`` and ``best_epoch_``, restores
        the best weights when early stopping, and leaves ``module_`` in eval mode.
        """
        module = self.module_
        scheduler = scheduler_factory(optimizer) if scheduler_factory else None
        n = len(train[0])
        bounds = self._batch_bounds(n)
        self.loss_curve_ = []
        self.validation_scores_ = []
        best_loss, best_state, stale = math.inf, None, 0
        self.best_epoch_ = epochs
        progress = tqdm(
            range(1, epochs + 1),
            desc=type(self).__name__ if stage is None else f"{type(self).__name__} [{stage}]",
            disable=not self.verbose,
            leave=False,
        )
        # Sum of the epoch's batch losses weighted by their rows, kept on the device (one
        # tensor for the whole loop: a CUDA graph adds into it in place).
        total = torch.zeros((), device=self.device_)

        def eager_step(batch, rows):
            loss = step(batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total.add_(loss.detach() * rows)

        graphed = self._graphed_step(step, optimizer, scheduler, eager_step, total, bounds)
        epoch = 0
        for epoch in progress:
            module.train()
            # One gather per epoch; batches are then free slices of the shuffled copy.
            perm = torch.randperm(n, device=self.device_)
            shuffled = [t[perm] for t in train]
            total.zero_()
            for start, stop in bounds:
                batch = tuple(t[start:stop] for t in shuffled)
                if graphed is not None and graphed.accepts(batch):
                    graphed(batch)
                else:
                    eager_step(batch, stop - start)
            epoch_loss = (total / n).item()  # the only host sync of the epoch
            if not math.isfinite(epoch_loss):
                raise FloatingPointError(
                    f"{type(self).__name__}: the training loss became {epoch_loss} at epoch "
                    f"{epoch} of {epochs}. Lower lr, or check the scale of X "
                    "(StandardScaler usually helps)."
                )
            self.loss_curve_.append(epoch_loss)
            if scheduler is not None:
                scheduler.step()
            postfix = {"loss": f"{epoch_loss:.4g}"}
            if valid is not None:
                valid_loss = self._evaluate(step, valid)
                self.validation_scores_.append(valid_loss)
                postfix["val"] = f"{valid_loss:.4g}"
                if valid_loss < best_loss - 1e-7:
                    best_loss, stale, self.best_epoch_ = valid_loss, 0, epoch
                    best_state = copy.deepcopy(module.state_dict())
                else:
                    stale += 1
            progress.set_postfix(postfix, refresh=False)
            if valid is not None and stale >= self.patience:
                break
        progress.close()
        del graphed  # frees the graph's private memory pool
        self.n_epochs_ = epoch
        if best_state is not None:
            module.load_state_dict(best_state)
        module.eval()

    def _graphed_step(self, step, optimizer, scheduler, eager_step, total, bounds):
        """A :class:`_GraphedStep` replaying ``step`` at the batch size of ``bounds`` as a
        CUDA graph, or ``None``.

        Only on CUDA, only for ``_train_step`` of a class that declares it capturable
        (``_cuda_graph_step``), only without a learning-rate scheduler (the graph freezes
        ``lr``) and with Adam or AdamW (their ``capturable`` mode keeps the step count on the
        device).
        """
        if (
            self.device_.type != "cuda"
            or not self._cuda_graph_step
            or step != self._train_step
            or scheduler is not None
            or type(optimizer) not in (torch.optim.Adam, torch.optim.AdamW)
            or optimizer.state
        ):
            return None
        for group in optimizer.param_groups:
            # Capturable keeps the step count on the device; the fused kernel updates all
            # parameters in one launch instead of ~15 multi-tensor ones (measured on an
            # H200: AnoRand's graphed fit 11% faster; the optimiser was built without
            # them, so that CPU fits keep the default implementation).
            group["capturable"] = True
            group["fused"], group["foreach"] = True, False
        start, stop = bounds[0]
        return _GraphedStep(
            step, optimizer, eager_step, total, rows=stop - start, owner=type(self).__name__
        )

    def _evaluate(self, step, tensors):
        """Mean loss of ``step`` over ``tensors`` without gradients, in eval mode."""
        module = self.module_
        module.eval()
        n = len(tensors[0])
        total = torch.zeros((), device=self.device_)
        with torch.no_grad():
            for start, stop in self._batch_bounds(n):
                batch = tuple(t[start:stop] for t in tensors)
                total += step(batch).detach() * (stop - start)
        module.train()
        return (total / n).item()

    # ------------------------------------------------------------------ inference
    def _inference_rows(self):
        """Rows per forward pass for scoring.

        On an accelerator, from a memory budget: a chunk's activations (estimated at
        ``_ACTIVATION_FACTOR`` bytes per input byte) take at most scikit-learn's
        ``working_memory`` (:func:`sklearn.set_config`, 1 GiB by default), so small networks
        score in a few large passes instead of being launch-bound; never fewer than
        ``_score_batch_size``.

        On a CPU, two quanta of work per thread (a quantum is ``2**24`` multiply-adds,
        estimated as weights x rows x time steps, the unit of the ``torch_threads="auto"``
        rule) between ``_score_batch_size`` and 8192 rows: a small MLP scores ~4,500 rows per
        pass and thread, where per-operator overhead is amortised and its activations still
        fit the caches (measured on a 21-feature auto-encoder: 1.3x faster than 1,024 rows at
        one thread, 2,000 rows per thread 1.3x slower at two), while temporal
        networks, whose weights are used at every time step, keep ``_score_batch_size``
        (their convolution kernels change the last float32 digits with the chunk shape; see
        :meth:`_map_batches`). A fitted model's chunk size is fixed, so its scores do not
        depend on the size of the call.
        """
        floor = self._score_batch_size
        if self.device_.type == "cpu":
            rows = rows_per_thread(self.module_, tuple(self.input_shape_))
            # Threads set by the caller (an int, or None for torch's) each get that much
            # work, so a pass is not dominated by their fork/join; "auto" gives such a
            # chunk one thread.
            threads = resolve_torch_threads(
                getattr(self, "torch_threads", "auto"),
                self.module_,
                max(1, rows),
                tuple(self.input_shape_),
            )
            rows *= _CPU_QUANTA_PER_PASS * (torch.get_num_threads() if threads is None else threads)
            return int(min(max(floor, rows), max(floor, _CPU_MAX_CHUNK_ROWS)))
        budget = get_config()["working_memory"] * 2**20
        row_bytes = 4 * math.prod(self.input_shape_) * _ACTIVATION_FACTOR
        return max(floor, int(budget // row_bytes))

    def _chunk_plan(self, n_rows, sample_shape, batch_size=None, is_tensor=False):
        """How :meth:`_map_batches` cuts ``n_rows`` samples: ``(part_rows, size, floor)``.

        ``part_rows``: rows converted (and, on an accelerator, transferred) at once; all of
        them on a CPU or for a tensor, else as many as scikit-learn's ``working_memory``
        holds. ``size``: rows per forward pass. ``floor``: with ``pad=True`` shorter passes
        are zero-padded to this many rows (``size`` on a CPU, at most 64 on accelerators).
        Depends on the device type only, so it is tested on any machine.
        """
        size = batch_size or self._score_batch_size
        on_cpu = self.device_.type == "cpu"
        if is_tensor or on_cpu:
            part_rows = max(1, n_rows)
        else:
            row_bytes = 4 * math.prod(sample_shape)
            part_rows = max(size, int(get_config()["working_memory"] * 2**20 // row_bytes))
        floor = size if on_cpu else min(size, _PAD_ROWS)
        return part_rows, size, floor

    def _map_batches(self, fn, X, *, batch_size=None, pad=False, check_finite=False):
        """Apply ``fn`` to ``X`` in chunks, without gradients, with ``module_`` in eval mode.

        The one chunked inference loop of the package. ``X`` is an array (converted to a
        tensor on ``device_``) or a tensor; ``fn`` receives a tensor of at most
        ``batch_size`` rows (``_score_batch_size`` by default) and returns anything; the
        list of its results, one per chunk, is returned. The module's train/eval mode and
        the caller's torch threads are restored afterwards (``torch_threads``).

        A host array is converted once on a CPU (chunks are then free views) and travels to
        an accelerator in large parts of at most ``working_memory`` (one transfer each);
        forward passes take slices of them. Results stay where ``fn`` leaves them: callers
        move their concatenation to the host once.

        With ``pad=True`` short chunks are zero-padded and the results (tensors whose first
        axis is the row) are cut back: BLAS and convolution libraries pick their kernels by
        the number of rows, so a row's float32 output would otherwise change in the last
        digits with the size of the call. ``fn`` must treat rows independently. On a CPU
        every chunk is padded to ``batch_size`` rows: one fixed shape, so a row's output never
        depends on what else is computed with it (measured: moving the padding of the
        temporal detectors from 256/1024 rows to 64 changes their scores at 1e-7). On an
        accelerator the chunks are large (``_inference_rows``) and padding one to full size
        could double a call's work; chunks of fewer than 64 rows are padded to 64, which is
        what scikit-learn's subset-invariance check needs (single rows against 20 rows, all
        scored at one shape).

        With ``check_finite=True`` a host array validated without its NaN/infinity test
        (``_check_input(X, ensure_all_finite=False)``) gets that test here, on each part
        after its conversion: on a GPU it costs ~0.2 ms per million 21-feature rows,
        against ~11 ms for the host reduction that scikit-learn's check runs (issue 20).
        A non-finite value raises scikit-learn's ``ValueError`` after the passes.
        """
        is_tensor = isinstance(X, torch.Tensor)
        part_rows, size, floor = self._chunk_plan(len(X), X.shape[1:], batch_size, is_tensor)
        outputs = []
        finite = None
        with (
            torch.no_grad(),
            _eval_mode(self.module_),
            self._thread_limit(size, X.shape[1:]),
        ):
            for first in range(0, len(X), part_rows):
                part = X[first : first + part_rows]
                if not is_tensor:
                    part = self._to_tensors([part])[0]
                if check_finite:
                    # Stays on the device: one host sync, after the passes.
                    part_finite = torch.isfinite(part).all()
                    finite = part_finite if finite is None else finite & part_finite
                for start in range(0, len(part), size):
                    batch = part[start : start + size]
                    n_rows = len(batch)
                    if pad and n_rows < floor:
                        padding = batch.new_zeros((floor - n_rows, *batch.shape[1:]))
                        batch = torch.cat([batch, padding])
                    result = fn(batch)
                    outputs.append(result[:n_rows] if pad else result)
        if finite is not None and not bool(finite):
            # scikit-learn's own message (NaN or infinity, named X, the estimator's name).
            check_detector_input(self, X, reset=False, ensure_min_samples=1)
        return outputs

    # ------------------------------------------------------------------ persistence
    def __getstate__(self):
        return _persistence.getstate(super().__getstate__())

    def __setstate__(self, state):
        super().__setstate__(state)
        _persistence.setstate(self, state)

    def save(self, path):
        """Save the fitted estimator to the folder ``path``.

        Writes ``params.json`` (class, constructor parameters, fitted scalars) and
        ``weights.pt`` (the network's ``state_dict`` and fitted arrays). Unlike a pickle, the
        folder is loaded with ``torch.load(weights_only=True)``: loading it executes no code.

        Parameters
        ----------
        path : str or path-like
            Folder to create or overwrite.

        Returns
        -------
        path : pathlib.Path
            The folder written.
        """
        self._check_savable()
        return _persistence.save(self, path)

    @classmethod
    def load(cls, path, *, device=None):
        """Load an estimator written by :meth:`save`.

        Parameters
        ----------
        path : str or path-like
            Folder written by ``save``.
        device : str or None, default=None
            Device to load onto; ``None`` re-resolves the saved ``device`` parameter and
            falls back to the CPU when that device is not available here.

        Returns
        -------
        estimator : BaseTorchEstimator
            The fitted estimator, computing exactly as before saving.
        """
        return _persistence.load(cls, path, device=device)


@contextlib.contextmanager
def _eval_mode(module):
    """``module`` in eval mode inside the block; its previous mode is restored after."""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)


class _GraphedStep:
    """One training step (forward, backward, optimiser step) replayed as a CUDA graph.

    A small network on a GPU is launch-bound: at batch 128 each of the ~190 kernels of a
    step costs more to launch from Python than to run (issue 20: 56k rows/s on an H100,
    slower than two CPU cores). Recorded once, the step is replayed with one launch, and
    the result is the same training: every batch is still one optimiser step, in the same
    order (Adam runs fused and ``capturable``, whose float32 arithmetic may differ from the
    default implementation in the last digits). Measured on an H200 (``benchmarks/loop.py
    --device cuda``, ``benchmarks/anorand_fit.py``): the reference auto-encoder trains
    539k rows/s against 56k for a plain loop; AnoRand's default fit on 100k x 21 takes
    19-20 s instead of 270-330 s (5 epochs timed without the graph), 4.0-4.3x faster than
    on two CPU cores.

    The first ``warmup`` steps run as usual on a side stream (as torch's CUDA-graph recipe
    asks: it initialises the optimiser state and the libraries' workspaces), the next one is
    captured into static input tensors and replayed; later batches of that shape are copied
    into them and replayed. Batches of another shape (the last, shorter batch of an epoch)
    run as usual (``accepts``). When the capture fails (a step that synchronises with the
    host after all), a warning says so and training continues without the graph.

    Capturing does not run the step, so every batch is trained on exactly once.
    """

    def __init__(self, step, optimizer, eager_step, total, *, rows, owner, warmup=3):
        self.step = step
        self.rows = rows
        self.optimizer = optimizer
        self.eager_step = eager_step
        self.total = total
        self.owner = owner
        self.warmup = warmup
        self.calls = 0
        self.graph = None
        self.static = None
        self.failed = False

    def accepts(self, batch):
        """Whether ``batch`` goes through the graph: a full batch of ``rows`` rows (a
        shorter last batch does not), and none after a failed capture."""
        return not self.failed and len(batch[0]) == self.rows

    def __call__(self, batch):
        """Train on ``batch``, an accepted one (``rows`` rows)."""
        if self.graph is not None:
            for static, tensor in zip(self.static, batch, strict=True):
                static.copy_(tensor)
            self.graph.replay()
            return
        self.calls += 1
        if self.calls <= self.warmup:
            current = torch.cuda.current_stream()
            side = torch.cuda.Stream(device=current.device)
            side.wait_stream(current)
            with torch.cuda.stream(side):
                self.eager_step(batch, self.rows)
            current.wait_stream(side)
            return
        self._capture(batch)

    def _capture(self, batch):
        self.static = tuple(t.clone() for t in batch)
        # Gradients set to None are allocated inside the graph's memory pool during the
        # capture, so each replay writes (not accumulates) them.
        self.optimizer.zero_grad(set_to_none=True)
        graph = torch.cuda.CUDAGraph()
        try:
            # "thread_local": other threads' CUDA work is not affected by this capture.
            with torch.cuda.graph(graph, capture_error_mode="thread_local"):
                loss = self.step(self.static)
                loss.backward()
                self.optimizer.step()
                self.total.add_(loss.detach() * self.rows)
        except RuntimeError as error:
            self.failed, self.static = True, None
            _end_generator_capture(batch[0].device)
            warnings.warn(
                f"{self.owner}: the training step could not be captured as a CUDA graph "
                f"({str(error).splitlines()[0]}); training goes on without it, slower.",
                RuntimeWarning,
                stacklevel=2,
            )
            self.optimizer.zero_grad(set_to_none=True)
            self.eager_step(batch, self.rows)
            return
        self.graph = graph
        graph.replay()  # the capture recorded the step without running it


def _end_generator_capture(device):
    """Take the device's default CUDA generator out of capture mode after a failed capture.

    ``CUDAGraph.capture_end`` ends the generators' capture only when the capture succeeded;
    after a failure the generator is left capturing and every later random op on the
    device raises "Offset increment outside graph capture" (seen on an H200, torch 2.11).
    A clone of its state (same seed and offset) is not capturing.
    """
    index = torch.cuda.current_device() if device.index is None else device.index
    generator = torch.cuda.default_generators[index]
    if hasattr(generator, "graphsafe_set_state"):  # torch >= 2.4
        generator.graphsafe_set_state(generator.clone_state())

