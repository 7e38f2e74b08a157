"""Anomaly injectors: labelled synthetic anomalies for training detectors.

Injectors follow imbalanced-learn's sampler API (``fit_resample``) and have no ``transform``:
inside :class:`skanomaly.pipeline.Pipeline` they add rows at fit time only.
"""

from skanomaly import _lazy
from skanomaly.injectors._base import BaseInjector, GeneratedAnomalies
from skanomaly.injectors._noise import GaussianNoiseInjector, SMOTENoiseInjector
from skanomaly.injectors._timeseries import (
    ContextualInjector,
    CutAddPasteInjector,
    PointSpikeInjector,
    RandomChoiceInjector,
    SeasonalInjector,
    ShapeletInjector,
    TrendInjector,
)

# GenIASInjector trains a torch VAE: loaded on first use, so the other injectors (and the
# packages that import them) do not import torch.
__getattr__, __dir__ = _lazy.attach(__name__, {"GenIASInjector": "skanomaly.injectors._genias"})

__all__ = [
    "BaseInjector",
    "ContextualInjector",
    "CutAddPasteInjector",
    "GenIASInjector",
    "GaussianNoiseInjector",
    "GeneratedAnomalies",
    "PointSpikeInjector",
    "RandomChoiceInjector",
    "SMOTENoiseInjector",
    "SeasonalInjector",
    "ShapeletInjector",
    "TrendInjector",
]
