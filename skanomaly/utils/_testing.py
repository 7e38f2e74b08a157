"""A minimal detector that exercises BaseDeepDetector in tests and the loop benchmark.

Not exported: it exists so that the base contract is tested independently of the paper
detectors (and so the loop benchmark measures the base, not a paper's model).
"""

from numbers import Integral

import torch
from sklearn.utils._param_validation import Interval
from torch import nn

from skanomaly.base import BaseDeepDetector
from skanomaly.nn import MLP
from skanomaly.utils._validation import flat_size


class _AutoEncoderModule(nn.Module):
    def __init__(self, n_inputs, hidden_dims, latent_dim):
        super().__init__()
        self.encoder = MLP(n_inputs, hidden_dims, latent_dim)
        self.decoder = MLP(latent_dim, tuple(reversed(hidden_dims)), n_inputs)

    def forward(self, x):
        flat = x.reshape(len(x), -1)
        return flat, self.decoder(torch.relu(self.encoder(flat)))


class ReferenceAutoEncoder(BaseDeepDetector):
    """Plain auto-encoder scored by reconstruction error (test and benchmark reference).

    Parameters
    ----------
    hidden_dims : tuple of int, default=(64, 32)
        Encoder widths (the decoder mirrors them).
    latent_dim : int, default=8
        Bottleneck width.
    contamination, epochs, batch_size, lr, device, random_state, verbose, early_stopping, \
validation_fraction, patience, torch_threads
        See :class:`~skanomaly.base.BaseDeepDetector`.
    """

    _cuda_graph_step = True  # a pure step: replayed as a CUDA graph on GPUs

    _parameter_constraints = {
        **BaseDeepDetector._parameter_constraints,
        "hidden_dims": [tuple],
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        *,
        hidden_dims=(64, 32),
        latent_dim=8,
        contamination=0.1,
        epochs=10,
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
        super().__init__(
            contamination=contamination,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            device=device,
            random_state=random_state,
            verbose=verbose,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            patience=patience,
            torch_threads=torch_threads,
        )
        self.hidden_dims = hidden_dims
        self.latent_dim = latent_dim

    def _build(self, input_shape):
        n_inputs = flat_size(input_shape)
        return _AutoEncoderModule(n_inputs, self.hidden_dims, self.latent_dim)

    def _train_step(self, batch):
        flat, reconstruction = self.module_(batch[0])
        return ((flat - reconstruction) ** 2).mean()

    def _score_batch(self, X):
        flat, reconstruction = self.module_(X)
        return ((flat - reconstruction) ** 2).mean(dim=1)
