"""Deep SVDD embedding (Ruff et al., 2018): the default representation of ARP and EDI.

Private: imported lazily by :mod:`skanomaly.metrics._generation` so that importing the metrics
does not import torch. Trained by the loop of :class:`~skanomaly.base.BaseTorchEstimator`; it
is an embedding, not a detector (no ``contamination``, no ``threshold_``, no training scores).
"""

from numbers import Integral

import numpy as np
import torch
from sklearn.utils._param_validation import Interval

from skanomaly._torch_base import BaseTorchEstimator
from skanomaly.nn import MLP
from skanomaly.utils._validation import flat_size

__all__ = []


class _DeepSVDDEmbedding(BaseTorchEstimator):
    """One-class Deep SVDD on flattened samples; ``transform`` returns the embedding.

    A bias-free MLP ``phi`` (no bias, so the hypersphere cannot collapse onto a constant) is
    trained to pull ``phi(x)`` towards a fixed centre ``c`` = mean initial embedding.
    """

    _parameter_constraints = {
        **BaseTorchEstimator._parameter_constraints,
        "hidden_dims": [tuple],
        "rep_dim": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, *, hidden_dims=(256,), rep_dim=128, epochs=20, batch_size=128, lr=1e-3,
                 device="auto", random_state=None, verbose=0):
        super().__init__(epochs=epochs, batch_size=batch_size, lr=lr, device=device,
                         random_state=random_state, verbose=verbose)
        self.hidden_dims = hidden_dims
        self.rep_dim = rep_dim

    def _build(self, input_shape):
        module = MLP(flat_size(input_shape), tuple(self.hidden_dims), self.rep_dim, bias=False,
                     activation=torch.nn.LeakyReLU)
        module.register_buffer("center", torch.zeros(self.rep_dim))
        return module

    def _fit_module(self, data, rng):
        center = torch.cat(self._map_batches(self._embed, data[0])).mean(0)
        # Ruff et al.: keep coordinates away from 0, where a trivial solution is close.
        small = center.abs() < 0.1
        center[small] = torch.where(center[small] < 0, -0.1, 0.1)
        self.module_.center.copy_(center)
        super()._fit_module(data, rng)

    def _embed(self, X):
        return self.module_(X.reshape(len(X), -1))

    def _train_step(self, batch):
        return ((self._embed(batch[0]) - self.module_.center) ** 2).sum(1).mean()

    def transform(self, X):
        """Embedding ``(n_samples, rep_dim)`` of ``X``."""
        X = self._check_input(X)
        out = [chunk.cpu() for chunk in self._map_batches(self._embed, X)]
        return torch.cat(out).numpy().astype(np.float64)
