"""Input standardisation with training statistics, shared by the detectors' ``preprocessing``."""

import numpy as np
import torch


class StandardizeMixin:
    """``mean_`` / ``scale_`` fitted on the training data and ``_standardize`` applying them.

    A detector whose losses or step sizes are in the units of its input depends on the
    scale of ``X`` unless it standardises; PyOD's deep detectors call this
    ``preprocessing``. Statistics are per feature, or per channel over all windows and time
    steps for windows ``(n_windows, window, n_channels)``.
    """

    def _fit_standardization(self, X, enabled=True):
        """Set ``mean_`` and ``scale_`` from ``X`` (both None when not ``enabled``)."""
        if not enabled:
            self.mean_ = self.scale_ = None
            return
        axes = tuple(range(X.ndim - 1))
        self.mean_ = X.mean(axis=axes, dtype=np.float64)
        scale = X.std(axis=axes, dtype=np.float64)
        scale[~(scale > 0)] = 1.0  # a constant feature is only centred
        self.scale_ = scale

    def _standardize(self, X):
        """``X`` (a tensor or an array) in the units of the training data's standard
        deviation; unchanged without fitted statistics.

        The statistics are cast to ``X``'s dtype first, so an array and a tensor of the same
        float32 values give the same float32 results.
        """
        if getattr(self, "mean_", None) is None:
            return X
        if isinstance(X, torch.Tensor):
            mean = torch.as_tensor(self.mean_, dtype=X.dtype, device=X.device)
            scale = torch.as_tensor(self.scale_, dtype=X.dtype, device=X.device)
        else:
            mean, scale = self.mean_.astype(X.dtype), self.scale_.astype(X.dtype)
        return (X - mean) / scale
