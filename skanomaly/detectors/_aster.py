"""ASTER: latent pseudo-anomalies, language-model features, reverse-gradient training.

Shabayek et al., "ASTER: Latent Pseudo-Anomaly Generation for Unsupervised Time-Series
Anomaly Detection", arXiv:2604.13924 (2026).
"""

from numbers import Integral, Real

import torch
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn
from torch.nn import functional as F

from skanomaly.base import BaseDeepDetector
from skanomaly.nn import SinusoidalPositionalEncoding, grad_reverse
from skanomaly.utils._validation import as_windows, window_shape

__all__ = ["ASTERDetector"]


# ---------------------------------------------------------------------- private modules
def _encoder_stack(d_model, n_heads, n_layers, dim_feedforward, dropout):
    layer = nn.TransformerEncoderLayer(
        d_model, n_heads, dim_feedforward, dropout, batch_first=True
    )
    return nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)


class _PerturbatorEncoder(nn.Module):
    """E: a Transformer encoder giving a per-time-step mean and std of the latent window."""

    def __init__(self, in_features, window, d_model, latent_dim, n_heads, n_layers, ff, dropout):
        super().__init__()
        self.embed = nn.Linear(in_features, d_model)
        self.positions = SinusoidalPositionalEncoding(d_model, max_len=window)
        self.body = _encoder_stack(d_model, n_heads, n_layers, ff, dropout)
        self.mean = nn.Linear(d_model, latent_dim)
        self.std = nn.Linear(d_model, latent_dim)

    def forward(self, x):
        hidden = self.body(self.positions(self.embed(x)))
        return self.mean(hidden), F.softplus(self.std(hidden)) + 1e-4


class _PositionQueryDecoder(nn.Module):
    """A Transformer decoder whose queries are only the sinusoidal positions (App. 0.E.1);
    the sampled latent window is the cross-attention memory (keys and values)."""

    def __init__(self, out_features, window, d_model, latent_dim, n_heads, n_layers, ff, dropout):
        super().__init__()
        self.memory = nn.Linear(latent_dim, d_model)
        self.positions = SinusoidalPositionalEncoding(d_model, max_len=window)
        layer = nn.TransformerDecoderLayer(d_model, n_heads, ff, dropout, batch_first=True)
        self.body = nn.TransformerDecoder(layer, n_layers)
        self.out = nn.Linear(d_model, out_features)

    def forward(self, z):
        queries = self.positions.codes(z.shape[1]).expand(z.shape[0], -1, -1)
        return self.out(self.body(queries, self.memory(z)))


class _LinearFeatures(nn.Module):
    """F without a language model: one linear projection per time step (the paper's ✗ row)."""

    def __init__(self, n_channels, out_features):
        super().__init__()
        self.projection = nn.Linear(n_channels, out_features)

    def forward(self, x):
        return self.projection(x)


class _TransformerClassifier(nn.Module):
    """C: a Transformer over the time steps, mean-pooled into one logit per window."""

    def __init__(self, window, d_model, n_heads, n_layers, ff, dropout):
        super().__init__()
        self.positions = SinusoidalPositionalEncoding(d_model, max_len=window)
        self.body = _encoder_stack(d_model, n_heads, n_layers, ff, dropout)
        self.head = nn.Linear(d_model, 1)

    def forward(self, features):
        return self.head(self.body(self.positions(features)).mean(dim=1)).squeeze(-1)


class _ASTERModule(nn.Module):
    """Perturbator (encoder, reconstructor, generator), feature extractor and classifier."""

    def __init__(self, encoder, reconstructor, generator, features, classifier):
        super().__init__()
        self.encoder = encoder
        self.reconstructor = reconstructor
        self.generator = generator
        self.features = features
        self.classifier = classifier

    def forward(self, x):
        """Anomaly logit of each window (inference, Alg. 1): C(F(x))."""
        return self.classifier(self.features(x))


# ---------------------------------------------------------------------- estimator
class ASTERDetector(BaseDeepDetector):
    """ASTER: a classifier trained on latent pseudo-anomalies from an adversarial perturbator.

    A feature extractor (a linear projection, or a GPT-2-style language model fine-tuned
    with LoRA) maps each window to one feature vector per time step. In that feature space a
    variational perturbator encodes the window into a per-time-step Gaussian latent window;
    one decoder reconstructs the features from a sample (ELBO) and a second decoder generates
    pseudo-anomalous features from it. A Transformer classifier is trained to separate the
    features of normal windows from the pseudo-anomalies; its gradients are reversed into the
    generator, so pseudo-anomalies become ever harder to tell from normal windows. The anomaly
    score of a window is the classifier's logit ``C(F(x))``.

    Input is windows ``(n_windows, window, n_channels)``; use
    :class:`~skanomaly.timeseries.TimeSeriesDetector` for a raw series. A 2-D array
    ``(n_samples, n_features)`` is read as ``n_samples`` windows of length ``n_features`` with
    one channel (each row is a univariate sub-sequence).

    Parameters
    ----------
    backbone : None, str or transformers.PreTrainedModel, default=None
        Feature extractor. ``None``: a linear projection per time step (the paper's ablation
        without a language model; no extra dependency). A ``str``: a *local* folder written by
        ``save_pretrained`` of a GPT-2-style causal language model. An object: a constructed
        ``transformers`` model (e.g. ``GPT2Model``); a copy is fine-tuned, the object itself is
        left untouched. With a backbone, each time step becomes one token through a linear
        adapter, the model's weights stay frozen and only LoRA adapters (plus the input/output
        adapters) train. Needs the ``[llm]`` extra (``pip install skanomaly[llm]``); nothing is
        ever downloaded.
    lora_rank : int, default=8
        Rank of the LoRA updates (ignored without a backbone).
    lora_alpha : float, default=16
        LoRA scaling numerator: updates are scaled by ``lora_alpha / lora_rank``.
    lora_target_modules : tuple of str, default=("c_attn", "c_proj")
        Backbone sub-modules given LoRA adapters: GPT-2's attention and projection layers.
    d_model : int, default=64
        Width of the Transformer layers of the perturbator and the classifier.
    latent_dim : int, default=16
        Width of the latent vector of each time step.
    n_heads : int, default=4
        Attention heads; must divide ``d_model``.
    n_layers : int, default=2
        Depth of the encoder, each decoder and the classifier.
    dim_feedforward : int, default=128
        Hidden width of the Transformer feed-forward blocks.
    dropout : float in [0, 1), default=0.1
        Dropout inside ASTER's Transformer layers (the backbone keeps its own config).
    kl_weight : float, default=1.0
        Weight of the KL term of the ELBO.
    reverse_scale : float, default=1.0
        Factor of the reversed classifier gradient that trains the generator. The generator
        learns from this gradient only, so Adam's per-parameter normalisation cancels the
        factor (up to Adam's epsilon); it sets the generator's step size with
        ``optimizer="sgd"``.
    optimizer : {"adam", "sgd"}, default="adam"
        ``"sgd"`` is the paper's choice (plain SGD at a fixed ``lr``); ``"adam"`` converges in
        far fewer epochs on a CPU budget.
    contamination, epochs, batch_size, lr, device, random_state, verbose, early_stopping, \
validation_fraction, patience, torch_threads
        See :class:`~skanomaly.base.BaseDeepDetector`. ``lr`` is the Adam learning rate.

    Attributes
    ----------
    module_ : torch.nn.Module
        The network, with sub-modules ``encoder``, ``reconstructor``, ``generator``,
        ``features`` and ``classifier``.
    n_parameters_ : int
        Number of parameters of ``module_`` (including a frozen backbone).
    n_trainable_parameters_ : int
        Number of parameters that training updates.
    decision_scores_, threshold_, labels_, device_, n_features_in_, input_shape_, \
loss_curve_, n_epochs_, best_epoch_
        See :class:`~skanomaly.base.BaseDeepDetector`.

    See Also
    --------
    skanomaly.timeseries.TimeSeriesDetector : windows a raw series and maps scores back.

    Notes
    -----
    Training follows App. 0.D of the paper. Per batch of normal windows ``x``, with
    ``h = F(x)``:

    * ELBO on ``sg(h)`` (stop-gradient, Alg. 2 L-4): ``mu, std = E(sg(h))``,
      ``z = mu + std * eps``; ``MSE(D(z), sg(h)) + kl_weight * KL``. Only the encoder ``E``
      and the reconstructor ``D`` learn from it.
    * Pseudo-anomaly ``h~ = G(sg(z))`` (L-13): the generation does not update the encoder.
    * Classification: ``BCE(C(h), 0) + BCE(C(grad_reverse(h~)), 1)`` (L-15). The feature
      extractor (adapters, LoRA) learns only from the normal windows' classification; the
      generator only from the reversed gradient.

    The perturbator works on ``F``'s features (the paper's "pseudo-anomalies in the latent
    space that the LLM enriches"): under that reading every stop-gradient of App. 0.D is a
    plain zero scaling.

    Deviations: the paper trains with SGD at a fixed learning rate (``optimizer="sgd"``); the
    default here is Adam, which needs far fewer epochs. The paper does not state its learning
    rate, epochs, window size or depth. The score is the classifier logit (monotone in the
    paper's probability).

    Persistence: ``save`` stores the fine-tuned backbone's weights with ``module_``, but a
    backbone *object* cannot go into the JSON parameters: ``save`` then raises ``TypeError``;
    pickle the detector instead, or pass the backbone as a local path.

    References
    ----------
    .. [1] A. E. R. Shabayek, D. Pineau, D. Aouada, R. Hermary, S. Hicsonmez. "ASTER: Latent
       Pseudo-Anomaly Generation for Unsupervised Time-Series Anomaly Detection."
       arXiv:2604.13924, 2026.

    Examples
    --------
    >>> import numpy as np
    >>> from skanomaly.detectors import ASTERDetector
    >>> rng = np.random.default_rng(0)
    >>> windows = np.sin(np.arange(16) / 3 + rng.uniform(0, 6, size=(64, 1, 1)))
    >>> detector = ASTERDetector(d_model=16, n_layers=1, epochs=2, random_state=0)
    >>> detector.fit(windows).decision_function(windows).shape
    (64,)
    """

    _parameter_constraints = {
        **BaseDeepDetector._parameter_constraints,
        "backbone": [None, str, nn.Module],
        "lora_rank": [Interval(Integral, 1, None, closed="left")],
        "lora_alpha": [Interval(Real, 0, None, closed="neither")],
        "lora_target_modules": [tuple],
        "d_model": [Interval(Integral, 1, None, closed="left")],
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "n_heads": [Interval(Integral, 1, None, closed="left")],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "dim_feedforward": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "kl_weight": [Interval(Real, 0, None, closed="left")],
        "reverse_scale": [Interval(Real, 0, None, closed="left")],
        "optimizer": [StrOptions({"adam", "sgd"})],
    }

    # Transformers over (window x window) attention: smaller scoring chunks than the base's.
    _score_batch_size = 256

    def __init__(
        self,
        *,
        backbone=None,
        lora_rank=8,
        lora_alpha=16,
        lora_target_modules=("c_attn", "c_proj"),
        d_model=64,
        latent_dim=16,
        n_heads=4,
        n_layers=2,
        dim_feedforward=128,
        dropout=0.1,
        kl_weight=1.0,
        reverse_scale=1.0,
        optimizer="adam",
        contamination=0.1,
        epochs=20,
        batch_size=64,
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
        self.backbone = backbone
        self.lora_rank = lora_rank
        self.lora_alpha = lora_alpha
        self.lora_target_modules = lora_target_modules
        self.d_model = d_model
        self.latent_dim = latent_dim
        self.n_heads = n_heads
        self.n_layers = n_layers
        self.dim_feedforward = dim_feedforward
        self.dropout = dropout
        self.kl_weight = kl_weight
        self.reverse_scale = reverse_scale
        self.optimizer = optimizer

    # ------------------------------------------------------------------ hooks
    def _build(self, input_shape):
        if self.d_model % self.n_heads:
            raise ValueError(
                f"d_model={self.d_model} must be divisible by n_heads={self.n_heads}."
            )
        window, n_channels = window_shape(input_shape)
        sizes = (self.d_model, self.latent_dim, self.n_heads, self.n_layers,
                 self.dim_feedforward, self.dropout)
        if self.backbone is None:
            features = _LinearFeatures(n_channels, self.d_model)
        else:
            from skanomaly.detectors._llm import LMFeatureExtractor

            features = LMFeatureExtractor(
                self.backbone,
                n_channels,
                self.d_model,
                window,
                rank=self.lora_rank,
                alpha=self.lora_alpha,
                target_modules=tuple(self.lora_target_modules),
            )
        # The perturbator works in the feature space of F (d_model wide), "the latent space"
        # that the language model enriches.
        return _ASTERModule(
            encoder=_PerturbatorEncoder(self.d_model, window, *sizes),
            reconstructor=_PositionQueryDecoder(self.d_model, window, *sizes),
            generator=_PositionQueryDecoder(self.d_model, window, *sizes),
            features=features,
            classifier=_TransformerClassifier(
                window, self.d_model, self.n_heads, self.n_layers, self.dim_feedforward,
                self.dropout,
            ),
        )

    def _make_optimizer(self, module):
        # Frozen backbone weights (requires_grad=False) stay out of the optimiser.
        trainable = [p for p in module.parameters() if p.requires_grad]
        if self.optimizer == "sgd":
            return torch.optim.SGD(trainable, lr=self.lr)
        return torch.optim.Adam(trainable, lr=self.lr)

    def _fit_module(self, arrays, rng):
        module = self.module_
        self.n_parameters_ = sum(p.numel() for p in module.parameters())
        self.n_trainable_parameters_ = sum(
            p.numel() for p in module.parameters() if p.requires_grad
        )
        super()._fit_module(arrays, rng)

    def _train_step(self, batch):
        losses = self._losses(batch[0])
        return losses["elbo"] + losses["classification"]

    def _score_batch(self, X):
        return self.module_(as_windows(X))

    # ------------------------------------------------------------------ ASTER's objective
    def _losses(self, X):
        """The training objective of one batch, term by term (App. 0.D).

        Returns a dict with ``"elbo"`` (reconstruction + weighted KL), ``"normal"`` and
        ``"pseudo"`` (the two halves of the classification loss) and ``"classification"``
        (their mean over all windows).
        """
        module = self.module_
        features = module.features(as_windows(X))
        # Stop-gradient (Alg. 2 L-4): the perturbator sees the features but does not train
        # the feature extractor, which learns only from classifying normal windows.
        target = features.detach()
        mean, std = module.encoder(target)
        z = mean + std * torch.randn_like(std)
        reconstruction = F.mse_loss(module.reconstructor(z), target)
        kl = (0.5 * (mean.square() + std.square() - 1.0) - torch.log(std)).mean()
        elbo = reconstruction + self.kl_weight * kl
        # Stop-gradient (L-13): generating pseudo-anomalies must not move the encoder.
        pseudo = module.generator(z.detach())
        # Gradient reversal (L-15): the generator learns to fool the classifier.
        pseudo = grad_reverse(pseudo, self.reverse_scale)
        logit_normal = module.classifier(features)
        logit_pseudo = module.classifier(pseudo)
        normal = F.binary_cross_entropy_with_logits(logit_normal, torch.zeros_like(logit_normal))
        pseudo_loss = F.binary_cross_entropy_with_logits(
            logit_pseudo, torch.ones_like(logit_pseudo)
        )
        return {
            "elbo": elbo,
            "normal": normal,
            "pseudo": pseudo_loss,
            "classification": 0.5 * (normal + pseudo_loss),
        }

    # ------------------------------------------------------------------ persistence
    def _check_savable(self):
        """``save`` stores the fine-tuned backbone's weights (part of ``module_``), but the
        ``backbone`` parameter itself must be ``None`` or a local path (``str``): a backbone
        *object* cannot go into the JSON parameters, so ``save`` raises ``TypeError``; pickle
        the detector (``joblib.dump``) instead, or pass the backbone as a path.
        """
        if self.backbone is not None and not isinstance(self.backbone, str):
            raise TypeError(
                f"{type(self).__name__}.save() cannot store backbone="
                f"{type(self.backbone).__name__} object in its JSON parameters; pickle the "
                "detector (joblib.dump / pickle.dump) instead, or give the backbone as a "
                "local path (str) from save_pretrained."
            )
