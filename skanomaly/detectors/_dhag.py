"""DHAG: diversified, hard-to-distinguish synthetic anomalies in latent space.

Kim & Lee, "Enhancing Anomaly Detection via Generating Diversified and Hard-to-distinguish
Synthetic Anomalies", CIKM 2024 (Alg. 1, Sec. 4). An encoder maps a sample to a latent code;
``L`` stochastic perturbators, conditioned on the raw sample and one uniform noise channel, add
perturbations to that code; per batch and per perturbator the ``K`` smallest perturbations are
labelled normal and the rest anomalous (Eq. 1); a discriminator learns to separate the clean and
normal-labelled codes from the anomalous ones. The discriminator's probability of "anomaly" on
the clean code is the anomaly score.
"""

from numbers import Integral, Real

import torch
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn
from torch.nn import functional as F

from skanomaly.base import BaseDeepDetector
from skanomaly.nn import MLP, TemporalConvNet
from skanomaly.utils._preprocessing import StandardizeMixin
from skanomaly.utils._validation import check_layer_widths, evenly_spread, flat_size

__all__ = ["DHAGDetector"]

# The discriminator's learning rate is multiplied by these factors once these fractions of the
# epochs are *completed* (the authors' schedule, 0-based epochs: full rate for epochs 0-20, x0.01
# for 21-50, x0.001 from 51 of 100, i.e. after 21 and 51 completed epochs).
_DISCRIMINATOR_DECAY = ((0.2, 1e-2), (0.5, 1e-3))

# hidden_dims="auto": (rows, windows).
_AUTO_HIDDEN_DIMS = ((64, 64, 64, 64), (32, 32, 32))


# ---------------------------------------------------------------------- modules
class _MLPEncoder(nn.Module):
    """f_theta for tabular rows: ``Linear + ReLU`` per width of ``hidden_dims``."""

    def __init__(self, n_features, hidden_dims):
        super().__init__()
        self.layers = MLP(n_features, hidden_dims)
        self.out_features = hidden_dims[-1]

    def forward(self, x):
        return self.layers(x)


class _TemporalEncoder(nn.Module):
    """f_theta for windows ``(n, w, D)``: a temporal conv net, averaged over time."""

    def __init__(self, n_channels, hidden_dims):
        super().__init__()
        self.tcn = TemporalConvNet(n_channels, hidden_channels=hidden_dims)
        self.out_features = hidden_dims[-1]

    def forward(self, x):
        return self.tcn(x).mean(dim=1)


class _Perturbator(nn.Module):
    """g_psi: raw sample (flattened) plus one U(0, 1) noise channel -> latent perturbation.

    With ``first_bias=False`` the first layer has no bias, as in the authors' code (a 1x1
    convolution without bias over the ``d + 1`` inputs).
    """

    def __init__(self, n_inputs, hidden_dims, latent_dim, first_bias=True):
        super().__init__()
        self.layers = MLP(n_inputs + 1, hidden_dims, latent_dim)
        if hidden_dims and not first_bias:
            self.layers[0] = nn.Linear(n_inputs + 1, hidden_dims[0], bias=False)

    def forward(self, x_flat):
        noise = torch.rand(len(x_flat), 1, device=x_flat.device, dtype=x_flat.dtype)
        return self.layers(torch.cat([x_flat, noise], dim=1))


class _Discriminator(nn.Module):
    """f_phi: latent code -> anomaly logit; linear layers without bias or activation."""

    def __init__(self, latent_dim, hidden_dims):
        super().__init__()
        self.layers = MLP(latent_dim, hidden_dims, 1, activation=nn.Identity, bias=False)

    def forward(self, z):
        return self.layers(z).squeeze(-1)


class _RadialDiscriminator(nn.Module):
    """f_phi for windows: anomaly logit = mean squared distance of the projected code from a
    learned centre, minus a learned offset.

    A linear head scores codes outside the training distribution by an arbitrary sign: the
    temporal encoder's ReLU codes of level shifts and spikes have *larger* norms than normal
    codes, and the bias-free linear head, trained to give clean codes a negative logit, called
    them even more normal (issue 17: AUROC 0.00 on level shifts and spikes). A radial head
    encloses the normal codes, so a code far from them in the projected space is anomalous
    whichever way it moved. The projection uses ``hidden_dims`` (linear, no activation).
    """

    def __init__(self, latent_dim, hidden_dims):
        super().__init__()
        self.project = MLP(latent_dim, hidden_dims, activation=nn.Identity, bias=False)
        width = hidden_dims[-1] if hidden_dims else latent_dim
        self.centre = nn.Parameter(torch.zeros(width))
        self.offset = nn.Parameter(torch.zeros(()))

    def forward(self, z):
        return (self.project(z) - self.centre).square().mean(dim=-1) - self.offset


class _DHAGNetwork(nn.Module):
    """Encoder, ``L`` perturbators and discriminator; ``forward`` is the anomaly logit."""

    def __init__(
        self,
        input_shape,
        hidden_dims,
        perturbator_dims,
        discriminator_dims,
        n_perturbators,
        perturbator_bias=True,
    ):
        super().__init__()
        if len(input_shape) == 1:
            self.encoder = _MLPEncoder(input_shape[0], hidden_dims)
        else:
            self.encoder = _TemporalEncoder(input_shape[1], hidden_dims)
        latent = self.encoder.out_features
        self.perturbators = nn.ModuleList(
            _Perturbator(flat_size(input_shape), perturbator_dims, latent, perturbator_bias)
            for _ in range(n_perturbators)
        )
        if len(input_shape) == 1:
            self.discriminator = _Discriminator(latent, discriminator_dims)
        else:
            self.discriminator = _RadialDiscriminator(latent, discriminator_dims)

    def perturb(self, x):
        """Perturbations of every perturbator, shape ``(L, n, latent)``."""
        flat = x.reshape(len(x), -1)
        return torch.stack([g(flat) for g in self.perturbators])

    def forward(self, x):
        return self.discriminator(self.encoder(x))


# ---------------------------------------------------------------------- loss pieces
def _k_augment_labels(norms, k):
    """Eq. 1: per perturbator (row of ``norms``, shape ``(L, m)``), the ``k`` smallest
    perturbations get label 0 (normal), the other ``m - k`` label 1 (anomalous)."""
    labels = torch.ones_like(norms)
    if k > 0:
        smallest = torch.topk(norms, k, dim=1, largest=False).indices
        labels.scatter_(1, smallest, 0.0)
    return labels


def _drag_k(k, m):
    """K in the authors' code: ``k`` when the batch has more than ``k`` rows, else 0 (every
    perturbation of a batch of at most ``k`` rows is a synthetic anomaly)."""
    return k if m > k else 0


def _cross_entropy(clean_logits, fake_logits, labels, *, balanced):
    """L_ce on anomaly logits: clean codes -> 0, perturbed codes -> ``labels`` (L, m).

    ``balanced=False`` is Alg. 1 as printed: the mean over the clean codes plus the mean over
    perturbators of the mean over their perturbed codes. ``balanced=True`` is the authors'
    code: one mean over every normal-labelled code (the clean ones and the ``K`` per
    perturbator) plus one mean over the anomaly-labelled ones, so that each class weighs the
    same whatever ``K``.
    """
    if not balanced:
        return F.binary_cross_entropy_with_logits(
            clean_logits, torch.zeros_like(clean_logits)
        ) + F.binary_cross_entropy_with_logits(fake_logits, labels)
    fake_logits, labels = fake_logits.flatten(), labels.flatten()
    normal = torch.cat([clean_logits, fake_logits[labels == 0]])
    loss = F.binary_cross_entropy_with_logits(normal, torch.zeros_like(normal))
    anomalous = fake_logits[labels == 1]
    if len(anomalous):
        loss = loss + F.binary_cross_entropy_with_logits(anomalous, torch.ones_like(anomalous))
    return loss


def _norm_loss(eps, loss):
    """L_norm of perturbations ``eps`` of shape (L, m, latent) for ``loss`` (the parameter).

    ``"paper"`` (Alg. 1): the mean over samples and perturbators of ``||eps_l^i||_2``.
    ``"drag"`` (authors' code): ONE Frobenius norm of the whole stack, ``sqrt(sum_{l,i}
    ||eps_l^i||^2)``, which grows with ``sqrt(L * m)`` (about 36 times the paper's value for
    L = 5, m = 256 and equal norms). ``"hybrid"``: the Frobenius norm of each perturbator's
    ``m`` perturbations, averaged over perturbators (this module's formula before the
    other two existed; it matches neither, about ``sqrt(m)`` times the paper's value).
    """
    if loss == "drag":
        return eps.norm()
    if loss == "paper":
        return eps.norm(dim=2).mean()
    return eps.flatten(1).norm(dim=1).mean()


def _diversity_loss(eps, *, drag):
    """L_div of perturbations ``eps`` of shape (L, m, latent).

    Paper (Alg. 1): the mean over samples and over the ``L (L - 1)`` ordered pairs ``l != k``
    of cos(eps_l, eps_k). Authors' code: the SUM over the ``L (L - 1) / 2`` unordered pairs of
    the mean cosine over samples, i.e. ``L (L - 1) / 2`` times the paper's value (10x at L=5).
    """
    mean = _mean_pairwise_cosine(eps)
    if drag:
        n_perturbators = eps.shape[0]
        return mean * (n_perturbators * (n_perturbators - 1) / 2)
    return mean


def _mean_pairwise_cosine(eps):
    """L_div: mean over samples and ordered pairs ``l != k`` of cos(eps_l, eps_k) (signed)."""
    n_perturbators = eps.shape[0]
    if n_perturbators < 2:
        return eps.new_zeros(())
    unit = F.normalize(eps, dim=2, eps=1e-12)
    gram = torch.einsum("lmh,kmh->mlk", unit, unit)
    off_diagonal = gram.sum(dim=(1, 2)) - gram.diagonal(dim1=1, dim2=2).sum(dim=1)
    return (off_diagonal / (n_perturbators * (n_perturbators - 1))).mean()


# ---------------------------------------------------------------------- estimator
class DHAGDetector(StandardizeMixin, BaseDeepDetector):
    """Diversified and hard-to-distinguish anomaly generation (DHAG, Kim & Lee, CIKM 2024).

    An encoder ``f_theta`` maps each sample to a latent code ``z``. ``n_perturbators`` (L)
    stochastic perturbators ``g_psi_l`` see the raw sample plus one ``U(0, 1)`` noise channel
    and output an additive latent perturbation ``eps_l``; ``z + eps_l`` is a perturbed code.
    In every batch and for every perturbator, the ``k_augment`` (K) perturbations of smallest
    Euclidean norm are labelled normal (augmentations) and the others anomalous (Eq. 1). A
    discriminator ``f_phi`` is trained with cross-entropy to call the clean and the
    normal-labelled codes normal and the rest anomalous, while ``lambda_norm * L_norm`` keeps
    perturbations small (hard to distinguish) and ``lambda_div * L_div`` (pairwise cosine
    between the perturbators' outputs) pushes them apart (diversified). All three parts
    minimise ``CE + lambda_norm * L_norm + lambda_div * L_div`` (Alg. 1). The score is the
    discriminator's probability that the clean code is anomalous (higher = more anomalous).

    **Train on normal data when you can.** The paper assumes a training set of normal samples
    only; ``fit(X_normal)`` is that setting, and it is much better than fitting on data that
    contains the anomalies (on six ADBench sets, mean AUROC 0.673 -> 0.791 in the audit of
    issue 18). Fitting on unlabelled, contaminated data works, but the synthetic anomalies
    are then drawn around the real ones too.

    Tabular rows use an MLP encoder and the authors' linear discriminator; windows
    ``(n_windows, window, n_channels)`` use a temporal conv net averaged over time and a
    radial discriminator (see Notes). Perturbators always see the flattened raw input.

    Parameters
    ----------
    n_perturbators : int, default=5
        Number of perturbators L.
    k_augment : int, default=100
        K: per perturbator, the number of perturbed codes of a batch that are labelled normal
        (the smallest perturbations). With ``loss="drag"`` a batch of ``m`` rows labels K of
        them normal when ``m > K`` and none otherwise (the authors' code: a short last batch,
        or data of at most K rows, gets synthetic anomalies only). With ``loss="paper"`` K is
        given per ``batch_size`` rows: a batch of ``m`` rows labels ``round(K * m /
        batch_size)`` normal, clipped to ``m - 1``. ``0`` labels every perturbation anomalous.
    lambda_norm : float, default=1.0
        Weight of ``L_norm``, the size of the perturbations (see ``loss``).
    lambda_div : float, default=0.1
        Weight of ``L_div``, the signed cosine similarity between the perturbations of
        different perturbators for the same sample (see ``loss``).
    hidden_dims : tuple of int or "auto", default="auto"
        Encoder widths (MLP layers for tabular data, temporal conv channels per block for
        windows); the last one is the latent size. ``"auto"``: ``(64, 64, 64, 64)`` for rows
        (the authors' encoder) and ``(32, 32, 32)`` for windows (a temporal conv block costs
        ``window`` times a linear layer; this keeps a default fit on a 10,000-step series
        within about a minute on two CPU cores).
    perturbator_dims : tuple of int, default=(64,)
        Hidden widths of each perturbator.
    discriminator_dims : tuple of int, default=(32,)
        Hidden widths of the discriminator (linear layers, no bias, no activation); for
        windows, the widths of the radial discriminator's linear projection.
    lr_discriminator : float, default=1e-5
        Adam learning rate of the discriminator (``lr`` drives the encoder and perturbators).
        It is multiplied by 0.01 after 20% and by 0.001 after 50% of ``epochs``.
    semi_supervised : bool, default=False
        If True, ``fit`` needs ``y``: rows with ``y == 1`` are known anomalies whose clean
        codes are trained towards "anomalous" (Sec. 4.4); the other rows are treated as
        normal (at least one is needed). If False, ``y`` is ignored.
    loss : {"auto", "drag", "paper", "hybrid"}, default="auto"
        Which formulas train the model. ``"auto"``: ``"drag"`` for rows, ``"hybrid"`` for
        windows (on the synthetic regression series of issue 17, ``"drag"`` left level shifts
        at AUROC 0.00 where ``"hybrid"`` reached 0.98). ``"drag"``: the authors' public code
        (hyuntai97/DRAG),
        with which the paper's numbers were made: ``L_norm`` is ONE Frobenius norm over all
        ``L x m`` perturbations of the batch, ``L_div`` the SUM over the ``L (L - 1) / 2``
        perturbator pairs of the mean cosine, the cross-entropy is class-balanced (one mean
        over the normal-labelled codes, clean and augmented, plus one over the
        anomaly-labelled ones), and K is not scaled (see ``k_augment``). ``"paper"``: Alg. 1
        as printed: ``L_norm`` is the mean of ``||eps_l^i||_2`` over samples and perturbators,
        ``L_div`` the mean cosine over ordered pairs ``l != k`` (``L (L - 1) / 2`` times
        smaller: 10x at L = 5), the cross-entropy the clean term plus the mean over
        perturbators, and K is scaled to short batches. Both use AMSGrad, the authors'
        discriminator schedule and perturbators whose first layer has no bias.
        ``"hybrid"``: this module's formulas before the other two existed (the earlier
        default, issue 18): Alg. 1's cross-entropy, ``L_div`` and K scaling, but ``L_norm``
        is the Frobenius norm of each perturbator's batch of perturbations averaged over
        perturbators, with plain Adam, a bias in the perturbators' first layer and the
        discriminator's decay one epoch sooner. ``"drag"`` is the default for rows because on
        development data (a split of the training parts of 12 ADBench sets, 2 seeds) it had
        the best mean AUROC fitted on normal rows (0.802; ``"hybrid"`` 0.732, ``"paper"``
        0.718), the setting the paper assumes and the docs recommend, at a smaller cost
        fitted on contaminated data (0.712; 0.737, 0.728).
    max_train_windows : int or None, default=512
        Windows ``(n_windows, window, n_channels)`` only: train on at most this many windows,
        evenly spread over ``X`` (consecutive sliding windows overlap almost entirely);
        ``decision_scores_`` still scores every window. Keeps a default fit of a 10,000-step
        series within about a minute on two CPU cores. ``None`` trains on every window.
        Tabular rows are never subsampled.
    preprocessing : bool, default=True
        Standardise every feature (every channel of windows) with the mean and standard
        deviation of the training data before the network sees it, as PyOD's deep detectors
        do. The losses and the perturbation sizes are in the units of the input, so without
        it the detector depends on the scale of ``X`` (a feature in thousands drowns the
        others). False feeds the values as they are (data standardised beforehand, e.g. by a
        ``StandardScaler``, or results to reproduce from before this option existed).
    contamination : float in (0, 0.5], default=0.1
        Expected share of anomalies; sets ``threshold_`` and ``predict``.
    epochs : int, default=30
        Passes over the data (the paper trains 100; 30 keeps CPU fits short).
    batch_size : int, default=256
        Rows per optimisation step.
    lr : float, default=5e-3
        Adam learning rate of the encoder and the perturbators (eta_1 of Alg. 1).
    device, random_state, verbose, early_stopping, validation_fraction, patience, torch_threads
        See :class:`~skanomaly.base.BaseDeepDetector`. Early stopping monitors the training
        objective on held-out rows (label-free).

    Attributes
    ----------
    decision_scores_ : ndarray of shape (n_samples,)
        Anomaly probabilities of the training data.
    threshold_ : float
        Score above which ``predict`` returns 1.
    labels_ : ndarray of shape (n_samples,)
        0/1 labels of the training data.
    module_ : torch.nn.Module
        The network, with submodules ``encoder``, ``perturbators`` and ``discriminator``.
    device_ : torch.device
        Device the network lives on.
    n_features_in_ : int
        Number of features (tabular) or channels (windows).
    input_shape_ : tuple of int
        Shape of one sample.
    n_train_samples_ : int
        Number of samples (rows or windows) trained on (see ``max_train_windows``).
    loss_ : str
        The loss formulas used (``loss`` with ``"auto"`` resolved).
    mean_ : ndarray of shape (n_features,) or None
        Training mean of each feature (channel, for windows) subtracted from the input;
        None when ``preprocessing=False``.
    scale_ : ndarray of shape (n_features,) or None
        Training standard deviation of each feature (channel) the input is divided by
        (1 for a constant feature); None when ``preprocessing=False``.
    loss_curve_ : list of float
        Mean training loss per epoch.
    validation_scores_ : list of float
        Validation loss per epoch (``early_stopping=True``).
    n_epochs_ : int
        Epochs run.
    best_epoch_ : int
        Epoch whose weights were kept.

    See Also
    --------
    skanomaly.base.BaseDeepDetector : the shared training loop and PyOD contract.

    Notes
    -----
    Choices the paper leaves open follow the authors' public code (hyuntai97/DRAG): the
    encoder is 4 x (Linear 64 + ReLU); each perturbator is Linear(d + 1 -> 64, no bias) +
    ReLU + Linear(64 -> latent); the discriminator is 64 -> 32 -> 1 without bias or
    activation; AMSGrad; the discriminator's rate is multiplied by 0.01 after 21 and by 0.001
    after 51 of 100 epochs (fractions of ``epochs``); batch 256, K 100, L 5. ``loss="drag"``
    (the default) uses all of these and the code's loss formulas, ``loss="paper"`` the
    printed formulas; ``loss="hybrid"`` keeps this module's earlier formulas. Alg. 1
    updates the encoder and perturbators with eta_1 and the discriminator with eta_2, which is
    what ``lr`` / ``lr_discriminator`` do (Sec. 5's text pairs the rates the other way round).
    Scores are ``sigmoid(logit)`` of the anomaly logit computed in float64; the authors' logit
    is oriented "higher = normal". Scoring draws no noise (it uses the clean code only).

    Windows (no paper numbers exist) use a radial discriminator: the logit is the mean squared
    distance of the linearly projected code from a learned centre, minus a learned offset. The
    linear head scores codes unlike any training code by an arbitrary sign; on windows the
    temporal encoder's codes of level shifts and spikes have larger norms than normal codes,
    and the linear head called them more normal than normal (issue 17: AUROC 0.00 on level
    shifts and spikes, 0.10 on noise bursts). The radial head calls any code far from the
    normal ones anomalous.

    The authors' code evaluates the test set after every epoch and reports the best epoch;
    the paper's Table 2 numbers are therefore oracle numbers (see the benchmark page).

    References
    ----------
    .. [1] H. Kim and C. Lee. "Enhancing Anomaly Detection via Generating Diversified and
       Hard-to-distinguish Synthetic Anomalies". CIKM 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from skanomaly.detectors import DHAGDetector
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(size=(100, 3)), rng.normal(5, 1, size=(5, 3))])
    >>> det = DHAGDetector(epochs=5, k_augment=30, random_state=0, device="cpu").fit(X)
    >>> det.decision_function(X).shape
    (105,)
    >>> bool(det.decision_function(X)[100:].mean() > det.decision_function(X)[:100].mean())
    True
    """

    _parameter_constraints = {
        **BaseDeepDetector._parameter_constraints,
        "n_perturbators": [Interval(Integral, 1, None, closed="left")],
        "k_augment": [Interval(Integral, 0, None, closed="left")],
        "lambda_norm": [Interval(Real, 0, None, closed="left")],
        "lambda_div": [Interval(Real, 0, None, closed="left")],
        "hidden_dims": [tuple, StrOptions({"auto"})],
        "perturbator_dims": [tuple],
        "discriminator_dims": [tuple],
        "lr_discriminator": [Interval(Real, 0, None, closed="neither")],
        "semi_supervised": ["boolean"],
        "preprocessing": ["boolean"],
        "loss": [StrOptions({"auto", "drag", "paper", "hybrid"})],
        "max_train_windows": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        *,
        n_perturbators=5,
        k_augment=100,
        lambda_norm=1.0,
        lambda_div=0.1,
        hidden_dims="auto",
        perturbator_dims=(64,),
        discriminator_dims=(32,),
        lr_discriminator=1e-5,
        semi_supervised=False,
        preprocessing=True,
        loss="auto",
        max_train_windows=512,
        contamination=0.1,
        epochs=30,
        batch_size=256,
        lr=5e-3,
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
        self.n_perturbators = n_perturbators
        self.k_augment = k_augment
        self.lambda_norm = lambda_norm
        self.lambda_div = lambda_div
        self.hidden_dims = hidden_dims
        self.perturbator_dims = perturbator_dims
        self.discriminator_dims = discriminator_dims
        self.lr_discriminator = lr_discriminator
        self.semi_supervised = semi_supervised
        self.preprocessing = preprocessing
        self.loss = loss
        self.max_train_windows = max_train_windows

    # ------------------------------------------------------------------ hooks
    def _prepare_training_data(self, X, y, rng):
        if y is not None and not (y == 0).any():
            raise ValueError(
                f"{type(self).__name__}(semi_supervised=True) needs normal or unlabelled rows "
                "(y == 0) to generate anomalies from; y holds only known anomalies (1)."
            )
        # Statistics per feature, or per channel over all windows and time steps.
        self._fit_standardization(X, self.preprocessing)
        if X.ndim == 3 and self.max_train_windows is not None and len(X) > self.max_train_windows:
            # decision_scores_ still covers every window.
            keep = evenly_spread(len(X), self.max_train_windows)
            X = X[keep]
            y = None if y is None else y[keep]
        self.n_train_samples_ = len(X)
        self.loss_ = self._loss_for(windows=X.ndim == 3)
        return super()._prepare_training_data(X, y, rng)

    def _loss_for(self, *, windows):
        """The loss formulas ``loss`` stands for on rows or windows."""
        if self.loss != "auto":
            return self.loss
        return "hybrid" if windows else "drag"

    def _active_loss(self):
        """The loss formulas of the current fit (rows' when called outside ``fit``)."""
        return getattr(self, "loss_", None) or self._loss_for(windows=False)

    def _fit_module(self, data, rng):
        discriminator = self.module_.discriminator
        if isinstance(discriminator, _RadialDiscriminator):
            # Start the centre at the mean projected code of the training windows (as Deep
            # SVDD starts its centre): from 0, the radial logit would only measure the size
            # of a ReLU code, which calls windows with *weaker* features (a faster sine)
            # more normal than normal.
            def projected(X):
                return discriminator.project(self.module_.encoder(self._standardize(X)))

            codes = torch.cat(self._map_batches(projected, data[0]))
            with torch.no_grad():
                discriminator.centre.copy_(codes.mean(dim=0))
        super()._fit_module(data, rng)

    def _build(self, input_shape):
        hidden_dims = self.hidden_dims
        if hidden_dims == "auto":
            hidden_dims = _AUTO_HIDDEN_DIMS[len(input_shape) > 1]
        return _DHAGNetwork(
            tuple(input_shape),
            check_layer_widths(hidden_dims, "hidden_dims"),
            check_layer_widths(self.perturbator_dims, "perturbator_dims", allow_empty=True),
            check_layer_widths(self.discriminator_dims, "discriminator_dims", allow_empty=True),
            self.n_perturbators,
            perturbator_bias=self._loss_for(windows=len(input_shape) > 1) == "hybrid",
        )

    def _make_optimizer(self, module):
        # AMSGrad, as in the authors' code (two Adam(amsgrad=True) optimisers; one optimiser
        # with two parameter groups takes the same steps); plain Adam for loss="hybrid".
        return torch.optim.Adam(
            [
                {
                    "params": [*module.encoder.parameters(), *module.perturbators.parameters()],
                    "lr": self.lr,
                },
                {"params": module.discriminator.parameters(), "lr": self.lr_discriminator},
            ],
            amsgrad=self._active_loss() != "hybrid",
        )

    def _make_scheduler(self, optimizer):
        milestones = [(round(frac * self.epochs), factor) for frac, factor in _DISCRIMINATOR_DECAY]

        # ``epoch`` is the number of completed epochs (0 during the first one); the authors
        # decay once ``epoch > 20`` (0-based), i.e. from the 22nd epoch on; loss="hybrid"
        # keeps this module's earlier schedule, one epoch sooner.
        late = self._active_loss() != "hybrid"

        def discriminator_factor(epoch):
            factor = 1.0
            for start, value in milestones:
                if epoch > start or (not late and epoch == start):
                    factor = value
            return factor

        return torch.optim.lr_scheduler.LambdaLR(
            optimizer, [lambda epoch: 1.0, discriminator_factor]
        )

    def _n_augment(self, m):
        """K for a batch of ``m`` perturbed codes per perturbator (see ``k_augment``)."""
        if self._active_loss() == "drag":
            return _drag_k(self.k_augment, m)
        return max(0, min(int(round(self.k_augment * m / self.batch_size)), m - 1))

    def _losses(self, X, y=None):
        """Return (total loss, pseudo labels of shape (L, m)) for a batch."""
        net = self.module_
        z = net.encoder(X)
        if y is None:
            known = None
            X_u, z_u = X, z
        else:
            known = y > 0.5
            X_u, z_u = X[~known], z[~known]
        loss = z.new_zeros(())
        labels = None
        m = len(X_u)
        if m > 0:
            eps = net.perturb(X_u)  # (L, m, latent)
            clean_logits = net.discriminator(z_u)
            fake_logits = net.discriminator(z_u.unsqueeze(0) + eps)  # (L, m)
            labels = _k_augment_labels(eps.detach().norm(dim=2), self._n_augment(m))
            loss_name = self._active_loss()
            ce = _cross_entropy(clean_logits, fake_logits, labels, balanced=loss_name == "drag")
            l_norm = _norm_loss(eps, loss_name)
            l_div = _diversity_loss(eps, drag=loss_name == "drag")
            loss = ce + self.lambda_norm * l_norm + self.lambda_div * l_div
        if known is not None and bool(known.any()):
            known_logits = net.discriminator(z[known])
            loss = loss + F.binary_cross_entropy_with_logits(
                known_logits, torch.ones_like(known_logits)
            )
        return loss, labels

    def _train_step(self, batch):
        X, *rest = batch
        return self._losses(self._standardize(X), *rest)[0]

    def _score_batch(self, X):
        return self.module_(self._standardize(X)).double().sigmoid()
