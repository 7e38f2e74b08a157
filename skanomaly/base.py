"""BaseDeepDetector: the deep-detector contract on top of the torch-estimator base.

The layers (see the architecture page of the documentation):

* :class:`BaseAnomalyDetector` (torch-free, defined in ``skanomaly._detector_base``): the PyOD +
  scikit-learn detector contract shared by every detector;
* :class:`~skanomaly.base.BaseTorchEstimator`: the one training loop, devices,
  seeding, chunked inference and persistence, for any torch model of the package;
* :class:`BaseDeepDetector` (this module): both together. It adds ``contamination``, the
  training-score pass and ``decision_function``.

A subclass implements its paper only: ``_build`` (the ``nn.Module``), ``_train_step`` (the
loss of one batch; multi-stage models override ``_fit_module`` and give one step function per
stage to ``_fit_stage``) and ``_score_batch`` (anomaly scores of one batch).
"""

import warnings
from abc import abstractmethod
from numbers import Real

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval
from sklearn_compat.base import _fit_context

from skanomaly._detector_base import BaseAnomalyDetector
from skanomaly._torch_base import BaseTorchEstimator
from skanomaly.nn import fork_rng

__all__ = ["BaseAnomalyDetector", "BaseDeepDetector", "BaseTorchEstimator"]


class BaseDeepDetector(BaseAnomalyDetector, BaseTorchEstimator):
    """Base class of the torch detectors: the detector contract on the torch-estimator base.

    :class:`~skanomaly.base.BaseTorchEstimator` supplies the loop, devices, seeding
    and persistence; this class adds ``contamination``, the training-score pass at the end
    of ``fit`` (``decision_scores_``, ``threshold_``, ``labels_``) and ``decision_function``.
    A subclass implements ``_build``, ``_train_step`` (or ``_fit_module`` for several stages)
    and ``_score_batch``; the other hooks are listed on the :ref:`architecture page <architecture>`.

    Parameters
    ----------
    contamination : float in (0, 0.5], default=0.1
        Expected share of anomalies in the training data; sets ``threshold_`` (the
        ``1 - contamination`` percentile of the training scores) and so ``predict``.
    epochs, batch_size, lr, device, random_state, verbose, early_stopping, \
validation_fraction, patience, torch_threads
        The torch-estimator parameters: see :class:`BaseTorchEstimator`.

    Attributes
    ----------
    decision_scores_ : ndarray of shape (n_samples,)
        Anomaly scores of the training data (higher = more anomalous).
    threshold_ : float
        Score above which ``predict`` returns 1.
    labels_ : ndarray of shape (n_samples,)
        0/1 labels of the training data.
    module_, device_, n_features_in_, input_shape_, feature_names_in_, loss_curve_, \
validation_scores_, n_epochs_, best_epoch_
        See :class:`BaseTorchEstimator`.

    Examples
    --------
    A detector implements its paper only: the network, the loss of one batch and the
    scores of one batch. Here, a small auto-encoder scored by reconstruction error:

    >>> import numpy as np
    >>> from torch import nn
    >>> from skanomaly.base import BaseDeepDetector
    >>> class TinyAutoEncoder(BaseDeepDetector):
    ...     def _build(self, input_shape):
    ...         n = input_shape[0]
    ...         return nn.Sequential(nn.Linear(n, 2), nn.ReLU(), nn.Linear(2, n))
    ...     def _train_step(self, batch):
    ...         (X,) = batch
    ...         return ((self.module_(X) - X) ** 2).mean()
    ...     def _score_batch(self, X):
    ...         return ((self.module_(X) - X) ** 2).sum(dim=1)
    >>> X = np.random.default_rng(0).normal(size=(100, 4))
    >>> detector = TinyAutoEncoder(epochs=2, random_state=0).fit(X)
    >>> detector.decision_function(X).shape, detector.device_.type in {"cpu", "cuda"}
    ((100,), True)
    >>> sorted(set(detector.predict(X).tolist()))
    [0, 1]
    """

    _parameter_constraints = {
        "contamination": [Interval(Real, 0, 0.5, closed="right")],
        **BaseTorchEstimator._parameter_constraints,
    }

    def __init__(
        self,
        *,
        contamination=0.1,
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
        # Only store (PyOD's own __init__ validates contamination here, so it is not called);
        # the other parameters are the torch base's, stored by it.
        self.contamination = contamination
        torch_params = dict(locals())
        del torch_params["self"], torch_params["contamination"]
        BaseTorchEstimator.__init__(self, **torch_params)

    @abstractmethod
    def _score_batch(self, X):
        """Return anomaly scores (higher = more anomalous) of one batch tensor ``X``.

        Rows must be scored independently of each other: small chunks are zero-padded.
        """

    # ------------------------------------------------------------------ public API
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit the detector on ``X`` (unlabelled unless ``semi_supervised=True``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_windows, window, n_channels)
            Training data. DataFrames are accepted; column names are remembered.
        y : array-like of shape (n_samples,), default=None
            Ignored unless the detector was built with ``semi_supervised=True``; then rows
            with ``y == 1`` are known anomalies. This keeps ``GridSearchCV`` (which always
            passes ``y``) unsupervised by default.

        Returns
        -------
        self : object
            Fitted detector.
        """
        X = self._fit_torch(X, y)
        scores = self._decision_function(X)
        self._warn_if_collapsed(X, scores)
        self._set_training_scores(scores)
        return self

    def decision_function(self, X):
        """Anomaly score of each sample; higher means more anomalous.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_windows, window, n_channels)
            Samples to score, shaped like the training data.

        Returns
        -------
        scores : ndarray of shape (n_samples,), dtype float64
        """
        # On an accelerator, the base scoring path tests NaN/infinity on the device after the
        # transfer (see _map_batches): scikit-learn's host test is most of the time of a
        # large call there. Subclasses with their own _decision_function keep the host test.
        on_device = (
            self.__sklearn_is_fitted__()
            and self.device_.type != "cpu"
            and type(self)._decision_function is BaseDeepDetector._decision_function
        )
        return self._decision_function(self._check_input(X, ensure_all_finite=not on_device))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags

    def _warn_if_collapsed(self, X, scores):
        """Warn when distinct training samples all get one score: a diverged model (its loss
        may stay finite, e.g. 5.6e21, so the loop's non-finite guard does not fire) whose
        ``predict`` would flag none or all of them."""
        if np.ptp(scores) > 0 or not np.ptp(X.reshape(len(X), -1), axis=0).any():
            return
        curve = getattr(self, "loss_curve_", None) or []
        history = ""
        if len(curve) == 1:
            history = f" The training loss was {curve[0]:.4g} at epoch 1 of 1."
        elif curve:
            history = (
                f" The training loss went from {curve[0]:.4g} at epoch 1 to {curve[-1]:.4g} "
                f"at epoch {len(curve)}."
            )
        warnings.warn(
            f"{type(self).__name__}: all {len(scores)} training samples got the same score "
            f"({scores[0]:.6g}), so the detector ranks nothing and predict cannot separate "
            f"them; training has most likely diverged.{history} Lower lr, or standardise X "
            "(StandardScaler).",
            ConvergenceWarning,
            stacklevel=4,  # the user's fit call, through scikit-learn's _fit_context
        )

    def _decision_function(self, X):
        """Score validated ``X`` in chunks sized from a memory budget on accelerators (see
        ``_inference_rows`` and ``_map_batches``; short chunks zero-padded), under the fit's
        scoring seed, as float64 numpy (one copy to the host)."""
        with fork_rng(self.device_, self._score_seed):
            outputs = self._map_batches(
                lambda batch: self._score_batch(batch).reshape(-1),
                X,
                batch_size=self._inference_rows(),
                pad=True,
                # decision_function left the NaN/infinity test to the device (see there).
                check_finite=self.device_.type != "cpu",
            )
            scores = torch.cat(outputs).to("cpu", torch.float64).numpy()
        if not np.isfinite(scores).all():
            raise FloatingPointError(
                f"{type(self).__name__} produced non-finite scores; the model may have "
                "diverged (lower lr or scale X)."
            )
        return scores
