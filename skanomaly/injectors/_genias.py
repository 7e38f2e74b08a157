"""GenIAS: the learned TCN-VAE anomaly generator (Darban et al., 2025) as an injector.

The generator is a variational auto-encoder over windows ``(n, T, D)``: a dilated TCN encoder
(channels are features, convolution runs over time) maps a window to ``N(mu, sigma^2)``; a
transpose-convolution decoder maps a latent vector back to a window. Anomalies are decoded from
``z~ = mu + psi * (sigma * eps)`` (Eq. 1) with a learned per-dimension scale ``psi > 1`` and
then patched into the original window channel by channel (Alg. 2).

Training reuses the torch base's loop (:class:`~skanomaly.base.BaseTorchEstimator`; the
generator is not a detector): the private ``_GenIASGenerator`` owns the VAE, its
``_train_step`` is the total loss of Eq. 6, and :class:`GenIASInjector` fits one inside
``fit``, passing its own parameters as the generator's settings.
"""

import math
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import nn
from torch.nn import functional as F

from skanomaly._torch_base import BaseTorchEstimator
from skanomaly.injectors._base import BaseInjector, GeneratedAnomalies
from skanomaly.nn import TemporalConvNet
from skanomaly.utils._validation import as_windows, check_layer_widths, window_shape

__all__ = ["GenIASInjector"]

# Rows per forward pass when generating (bounded memory on long windows).
_GENERATE_CHUNK = 256
# Below this share of sigma_prior, the spread of mu across windows counts as collapsed.
_COLLAPSE_SPREAD = 0.1


class _TCNVAE(nn.Module):
    """TCN encoder -> (mu, log sigma^2); transpose-conv decoder; learnable psi (Fig. 2).

    ``psi = 1 + softplus(rho)`` per latent dimension keeps the perturbation scale strictly
    above 1 (Eq. 1 inflates the posterior spread) while ``rho`` is unconstrained.
    """

    def __init__(self, window, n_channels, hidden_channels, latent_dim, kernel_size, dropout,
                 psi_init):
        super().__init__()
        self.window = window
        width = hidden_channels[-1]
        self.encoder = TemporalConvNet(n_channels, hidden_channels, kernel_size, dropout)
        self.to_latent = nn.Linear(window * width, 2 * latent_dim)
        # Decoder: linear to a coarse sequence of length ceil(T / 4), two stride-2 transpose
        # convolutions (x4 in time), a final convolution to the channels, crop to T.
        self.coarse = max(1, math.ceil(window / 4))
        self.width = width
        self.from_latent = nn.Linear(latent_dim, width * self.coarse)
        self.decoder = nn.Sequential(
            nn.ReLU(),
            nn.ConvTranspose1d(width, width, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.ConvTranspose1d(width, width, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Conv1d(width, n_channels, kernel_size, padding=kernel_size // 2),
        )
        # psi_init > 1 is checked by the estimator; rho = softplus^-1(psi_init - 1).
        self.rho = nn.Parameter(
            torch.full((latent_dim,), math.log(math.expm1(psi_init - 1.0)))
        )

    @property
    def psi(self):
        return 1.0 + F.softplus(self.rho)

    def encode(self, x):
        h = self.encoder(x).reshape(len(x), -1)
        mu, logvar = self.to_latent(h).chunk(2, dim=1)
        return mu, logvar.clamp(-20.0, 10.0)

    def decode(self, z):
        h = self.from_latent(z).reshape(len(z), self.width, self.coarse)
        out = self.decoder(h)[:, :, : self.window]
        return out.transpose(1, 2)


def _injector_setting(name):
    return property(lambda self: self.settings[name], doc=f"The injector's ``{name}``.")


class _GenIASGenerator(BaseTorchEstimator):
    """The GenIAS VAE trained with Eq. 6 by the torch base's loop (private to GenIASInjector).

    Not a detector: its use is ``module_``. Its hyper-parameters are the injector's
    (``settings``, the injector's ``get_params``), read where they are used rather than
    mirrored one by one; ``latent_dim`` and ``gamma`` are the injector's resolved
    ``latent_dim_`` and ``gamma_``.
    """

    _score_batch_size = _GENERATE_CHUNK
    # The loop's settings come from the injector; it has no early stopping.
    epochs = _injector_setting("epochs")
    batch_size = _injector_setting("batch_size")
    lr = _injector_setting("lr")
    device = _injector_setting("device")
    verbose = _injector_setting("verbose")
    early_stopping = False
    validation_fraction = 0.1
    patience = 1

    def __init__(self, settings=None, *, latent_dim=50, gamma=0.0, random_state=None):
        self.settings = settings
        self.latent_dim = latent_dim
        self.gamma = gamma
        self.random_state = random_state

    def _build(self, input_shape):
        window, n_channels = window_shape(input_shape)
        s = self.settings
        return _TCNVAE(window, n_channels, tuple(s["hidden_channels"]), self.latent_dim,
                       s["kernel_size"], s["dropout"], s["psi_init"])

    def _losses(self, X):
        """The four terms of Eq. 6 for a batch ``X`` of shape ``(B, T, D)``."""
        module = self.module_
        mu, logvar = module.encode(X)
        sigma = torch.exp(0.5 * logvar)
        z = mu + sigma * torch.randn_like(sigma)
        z_anom = mu + module.psi * (sigma * torch.randn_like(sigma))  # Eq. 1
        X_hat = module.decode(z)
        X_anom = module.decode(z_anom)
        s = self.settings
        recon = ((X - X_hat) ** 2).mean()  # Eq. 5
        # d(., .) of Eq. 3: mean squared distance per window (the metric of Eq. 5).
        d_hat = ((X - X_hat) ** 2).mean(dim=(1, 2))
        d_anom = ((X - X_anom) ** 2).mean(dim=(1, 2))
        perturb = (F.relu(d_hat - d_anom + s["delta_min"]).mean()
                   + F.relu(d_anom - s["delta_max"]).mean())  # Eq. 3
        # Eq. 4 over the channels that are all zero in a window (0 for windows without any).
        zero = (X == 0).all(dim=1)  # (B, D)
        n_zero = zero.sum(dim=1)
        if self.gamma > 0 and bool(n_zero.any()):
            inv = 1.0 / ((X - X_anom) ** 2 + 1.0)  # (B, T, D)
            per_window = (inv * zero[:, None, :]).sum(dim=(1, 2)) / (
                X.shape[1] * n_zero.clamp(min=1)
            )
            zero_perturb = per_window.mean()
        else:
            zero_perturb = X.new_zeros(())
        # Eq. 2 with the sign of its constant fixed (zero at the optimum of Lemma 3.1), summed
        # over latent dimensions and, like Eq. 5, divided by the T * D elements of a window:
        # the ratio of the two terms is the paper's sum-to-sum one (see the Notes of
        # GenIASInjector; a per-dimension mean made KL 55x stronger on a 55-channel series and
        # collapsed the posterior: spread of mu 0.03).
        kl = (-0.5 * (1 + logvar - 2 * math.log(s["sigma_prior"]) - mu**2
                      - logvar.exp() / s["sigma_prior"] ** 2)).sum(dim=1).mean() / (
            X.shape[1] * X.shape[2])
        return recon, perturb, zero_perturb, kl

    def _fit_module(self, data, rng):
        self._fit_stage(self._train_step, data, rng,
                        optimizer=self._make_optimizer(self.module_),
                        epochs=self.epochs, stage="generator")

    def _train_step(self, batch):
        recon, perturb, zero_perturb, kl = self._losses(batch[0])
        s = self.settings
        return (s["alpha"] * recon + s["beta"] * perturb + self.gamma * zero_perturb
                + s["zeta"] * kl)  # Eq. 6


# The progress bar names the estimator by its class: users know the injector, not this class.
_GenIASGenerator.__name__ = "GenIASInjector"


class GenIASInjector(BaseInjector):
    """GenIAS: anomalies generated by a learned latent-variance perturbation of a TCN-VAE.

    ``fit`` trains a variational auto-encoder on normal windows with the joint objective of
    GenIAS (Eq. 6): reconstruction (Eq. 5), a perturbation margin between ``delta_min`` and
    ``delta_max`` (Eq. 3), a zero-perturbation term for all-zero channels (Eq. 4) and a compact
    KL term with prior standard deviation ``sigma_prior`` (Eq. 2). ``generate`` encodes a
    normal window, decodes ``z~ = mu + psi * (sigma * eps)`` (Eq. 1) and patches each channel
    whose deviation exceeds ``tau`` times its amplitude into the original window (Alg. 2).

    Input is windows ``(n_windows, window, n_channels)``. A 2-D array ``(n, d)`` is read as
    ``n`` windows of length ``d`` with one channel (so the injector also runs on tabular rows,
    e.g. in scikit-learn's checks); anomalies come back in the input's shape.

    Parameters
    ----------
    latent_dim : int or "auto", default="auto"
        Latent size ``L``; ``"auto"`` is the paper's 50 for one channel, 100 otherwise.
    hidden_channels : tuple of int, default=(32, 32, 32)
        Channels of the TCN encoder blocks (dilations 1, 2, 4, ...); the last one is also the
        decoder width. The paper does not give the widths.
    kernel_size : int, default=3
        Convolution width (paper: 3).
    dropout : float, default=0.1
        Dropout in encoder and decoder (paper: 0.1).
    sigma_prior : float, default=0.5
        Standard deviation of the compact prior (paper: 0.5).
    alpha, beta, zeta : float, default=1.0, 0.1, 0.1
        Weights of the reconstruction, perturbation and compact-KL losses (paper values).
    gamma : float or "auto", default="auto"
        Weight of the zero-perturbation loss; ``"auto"`` is the paper's 0 for one channel and
        0.01 for several.
    delta_min, delta_max : float, default=0.1, 0.2
        Minimum margin and maximum deviation of Eq. 3 (the paper's best values, Fig. 7), in
        units of the mean squared distance between windows.
    tau : float, default=0.05
        Patching threshold of Alg. 2: channel ``d`` is replaced when
        ``mean_t (X~_d - X^_d)^2 > tau * (max X_d - min X_d)``, with ``X^`` the
        reconstruction (decoded ``mu``): the deviation the perturbation caused, not the
        VAE's reconstruction error. The paper sums over time; we
        average so that ``tau`` does not depend on the window length (paper ``tau`` =
        ours ``* T``).
    psi_init : float > 1, default=2.0
        Initial perturbation scale. ``psi = 1 + softplus(rho)`` per latent dimension, with
        ``rho`` learned: ``psi`` stays strictly above 1 (Eq. 1 inflates the spread).
    epochs : int, default=50
        Training epochs (paper: up to 1000 on a GPU). Too few epochs leave a VAE that
        reconstructs poorly and yields anomalies a detector learns nothing useful from.
    batch_size : int, default=100
        Windows per step (paper: 100).
    lr : float, default=1e-3
        Adam learning rate (paper: 1e-4 with an unspecified schedule over 1000 epochs; a
        larger constant rate suits the few epochs practical on a CPU).
    device : {"auto", "cpu", "cuda", "cuda:N", "mps"}, default="auto"
        Where the VAE trains and generates.
    anomaly_ratio : float, default=0.05
        Anomalies generated by ``fit_resample`` per normal window.
    random_state : int, RandomState instance or None, default=None
        Seeds training and generation.
    verbose : int, default=0
        ``1`` shows a progress bar while training.

    Attributes
    ----------
    generator_ : object
        The trained VAE estimator (a private ``BaseTorchEstimator``); ``generator_.module_`` is
        the network, ``generator_.loss_curve_`` its loss per epoch.
    psi_ : ndarray of shape (latent_dim,)
        Learned perturbation scales (all > 1).
    latent_dim_ : int
        Latent size used.
    gamma_ : float
        Zero-perturbation weight used.
    latent_spread_ : float
        Mean over latent dimensions of the standard deviation of ``mu`` across the training
        windows; below ``0.1 * sigma_prior`` the generator counts as collapsed and ``fit``
        warns (``ConvergenceWarning``).
    n_features_in_ : int
        Channels (1 for 2-D input).
    input_shape_ : tuple of int
        Shape of one sample seen in ``fit``.
    sample_indices_, is_injected_, n_injected_, point_labels_
        See :class:`~skanomaly.injectors.BaseInjector`. ``point_labels_`` marks every step of
        a generated window: patching replaces whole channel trajectories.

    See Also
    --------
    skanomaly.detectors.GenIASDetector : detector trained with GenIAS anomalies.

    Notes
    -----
    When no channel of a window passes the ``tau`` test, Alg. 2 would return the normal
    window unchanged; since every returned row is labelled anomalous, we instead patch the
    channel with the largest deviation-to-amplitude ratio (the paper does not cover this
    case). A replaced channel is ``X + (X~ - X^)``, the window plus the perturbation, rather
    than ``X~``: decoded channels are smoother than real ones, and a detector trained
    against them learns "smooth = anomalous" (measured: AUROC 0.041 on a sine with level
    shifts). Eq. 2 keeps ``mu^2`` undivided by ``sigma_prior^2`` as printed, but (i) its
    constant gets the sign that makes the term zero at the optimum of Lemma 3.1
    (``- log sigma_prior^2``; a constant, no effect on gradients) and (ii) it is summed over
    latent dimensions and divided, like Eq. 5, by the ``T * D`` elements of a window, so the
    two terms keep the paper's sum-to-sum ratio. Averaging it per latent dimension made it
    ``T * D / L`` times too strong and collapsed the posterior on many channels (msl_M-7,
    55 channels, 25 epochs: spread of ``mu`` 0.03; scaled: 1.5); ``fit`` warns when the
    spread falls below ``0.1 * sigma_prior`` (``latent_spread_``).
    Eq. 4 is implemented as printed (mean over steps and zero channels of
    ``1 / ((X - X~)^2 + 1)``), although the text says it penalises large deviations; with
    ``gamma = 0.01`` its effect is small.

    References
    ----------
    Z. Zamanzadeh Darban et al., "GenIAS: Generator for Instantiating Anomalies in Time
    Series", ICML 2025.

    Examples
    --------
    >>> import numpy as np
    >>> from skanomaly.injectors import GenIASInjector
    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(16)
    >>> X = np.sin(t[None, :, None] / 3 + rng.uniform(0, 6, (30, 1, 1))).astype("float32")
    >>> inj = GenIASInjector(hidden_channels=(8,), latent_dim=4, epochs=2, random_state=0)
    >>> X_anom = inj.fit(X).generate(X, 5)
    >>> X_anom.shape
    (5, 16, 1)
    >>> bool((inj.psi_ > 1).all())
    True
    """

    _parameter_constraints = {
        **BaseInjector._parameter_constraints,
        "latent_dim": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "hidden_channels": [tuple],
        "kernel_size": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "sigma_prior": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "beta": [Interval(Real, 0, None, closed="left")],
        "gamma": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "zeta": [Interval(Real, 0, None, closed="left")],
        "delta_min": [Interval(Real, 0, None, closed="left")],
        "delta_max": [Interval(Real, 0, None, closed="left")],
        "tau": [Interval(Real, 0, None, closed="left")],
        "psi_init": [Interval(Real, 1, None, closed="neither")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "device": [str, torch.device],
        "verbose": ["verbose"],
    }

    def __init__(self, *, latent_dim="auto", hidden_channels=(32, 32, 32), kernel_size=3,
                 dropout=0.1, sigma_prior=0.5, alpha=1.0, beta=0.1, gamma="auto", zeta=0.1,
                 delta_min=0.1, delta_max=0.2, tau=0.05, psi_init=2.0, epochs=50,
                 batch_size=100, lr=1e-3, device="auto", anomaly_ratio=0.05,
                 random_state=None, verbose=0):
        super().__init__(anomaly_ratio=anomaly_ratio, random_state=random_state)
        self.latent_dim = latent_dim
        self.hidden_channels = hidden_channels
        self.kernel_size = kernel_size
        self.dropout = dropout
        self.sigma_prior = sigma_prior
        self.alpha = alpha
        self.beta = beta
        self.gamma = gamma
        self.zeta = zeta
        self.delta_min = delta_min
        self.delta_max = delta_max
        self.tau = tau
        self.psi_init = psi_init
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.device = device
        self.verbose = verbose

    # ------------------------------------------------------------------ hooks
    def _fit(self, X, rng):
        check_layer_widths(self.hidden_channels, "hidden_channels")
        if self.delta_max < self.delta_min:
            raise ValueError(
                f"delta_max ({self.delta_max}) must be >= delta_min ({self.delta_min})."
            )
        windows = as_windows(X)
        univariate = windows.shape[2] == 1
        self.latent_dim_ = (50 if univariate else 100) if self.latent_dim == "auto" else int(
            self.latent_dim
        )
        self.gamma_ = (0.0 if univariate else 0.01) if self.gamma == "auto" else float(self.gamma)
        generator = _GenIASGenerator(
            {k: v for k, v in self.get_params(deep=False).items() if k != "random_state"},
            latent_dim=self.latent_dim_,
            gamma=self.gamma_,
            random_state=int(rng.integers(0, 2**31 - 1)),
        )
        try:
            self.generator_ = generator.fit(windows)
        except (ValueError, FloatingPointError) as exc:
            # The user knows GenIASInjector, not the private generator class.
            message = str(exc).replace(type(generator).__name__, f"{type(self).__name__}")
            raise type(exc)(message) from exc
        with torch.no_grad():
            self.psi_ = self.generator_.module_.psi.detach().cpu().numpy().astype(np.float64)
        # Collapse check: a posterior whose mean barely moves across windows decodes every
        # window to about the same output, and the "anomalies" carry no window-specific signal.
        self.latent_spread_ = self._latent_spread(windows)
        # Identical windows should map to one latent mean: that is no collapse.
        windows_vary = bool(np.ptp(windows.reshape(len(windows), -1), axis=0).max() > 0)
        if windows_vary and self.latent_spread_ < _COLLAPSE_SPREAD * self.sigma_prior:
            warnings.warn(
                f"GenIASInjector: the generator collapsed (spread of the latent mean across "
                f"windows {self.latent_spread_:.3g} < {_COLLAPSE_SPREAD} * sigma_prior); its "
                "anomalies barely depend on the window. Train longer (epochs) or lower zeta.",
                ConvergenceWarning,
                stacklevel=2,
            )

    def _generate(self, X, n_anomalies, rng):
        windows = as_windows(X)
        n = len(windows)
        # Every row is a source as evenly as possible (each used floor/ceil(n_anomalies/n)).
        source = rng.permutation(np.resize(np.arange(n), n_anomalies)) if n_anomalies > n else (
            rng.choice(n, size=n_anomalies, replace=False)
        )
        patched, _ = self._anomalies_of(windows[source], rng)
        point_labels = np.ones((n_anomalies, windows.shape[1]), dtype=np.int8)
        return GeneratedAnomalies(patched.reshape(n_anomalies, *X.shape[1:]), source,
                                  point_labels)

    # ------------------------------------------------------------------ generation
    def _decode_perturbed(self, windows, rng):
        """Phase 1 of Alg. 2: the preliminary anomalous windows ``X~`` (no patching)."""
        check_is_fitted(self, "generator_")
        gen = self.generator_
        module = gen.module_

        def decode_perturbed(x):
            mu, logvar = module.encode(x)
            eps = torch.from_numpy(
                rng.standard_normal(mu.shape).astype(np.float32)).to(gen.device_)
            z_anom = mu + module.psi * (torch.exp(0.5 * logvar) * eps)  # Eq. 1
            return module.decode(z_anom).cpu().numpy()

        out = gen._map_batches(decode_perturbed, windows)
        return np.concatenate(out).astype(windows.dtype, copy=False)

    def _anomalies_of(self, windows, rng):
        """One patched anomaly per window of ``windows`` ``(n, T, D)`` (Alg. 2).

        Returns the patched windows and the boolean mask ``(n, D)`` of replaced channels.
        """
        decoded = self._decode_perturbed(windows, rng)
        reconstructed = self._reconstruct(windows)
        # The perturbation is what the inflated latent draw changed, X~ - X^: compared with
        # the window itself, the VAE's reconstruction error would count as perturbation and
        # (tau being below that error) every channel would be replaced.
        perturbation = decoded - reconstructed
        deviation = (perturbation**2).mean(axis=1)  # (n, D), mean over time
        amplitude = windows.max(axis=1) - windows.min(axis=1)
        mask = deviation > self.tau * amplitude
        # No channel passes: patch the most deviating one (relative to its amplitude).
        empty = ~mask.any(axis=1)
        if empty.any():
            ratio = deviation[empty] / np.maximum(amplitude[empty], 1e-12)
            mask[np.flatnonzero(empty), ratio.argmax(axis=1)] = True
        # The replaced channel keeps the window's own fine structure (X + X~ - X^, not X~):
        # a decoded channel is smoother than any real one, and a detector trained against
        # it learns "smooth = anomalous" and ranks real anomalies below normal windows.
        patched = np.where(mask[:, None, :], windows + perturbation, windows)
        return patched.astype(windows.dtype, copy=False), mask

    def _reconstruct(self, windows):
        """``X^``: the decoding of the posterior mean (no perturbation)."""
        gen = self.generator_
        module = gen.module_
        out = gen._map_batches(lambda x: module.decode(module.encode(x)[0]).cpu().numpy(),
                               windows)
        return np.concatenate(out).astype(windows.dtype, copy=False)

    def _latent_spread(self, windows):
        """Mean over latent dimensions of the spread (std) of ``mu`` across ``windows``."""
        gen = self.generator_
        mu = np.concatenate(gen._map_batches(
            lambda x: gen.module_.encode(x)[0].cpu().numpy(), windows))
        return float(mu.std(axis=0).mean())

    def _is_learned(self):
        return True
