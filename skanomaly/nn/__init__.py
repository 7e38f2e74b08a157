"""Torch building blocks shared by the detectors: pure ``nn.Module``s and device helpers."""

from skanomaly.nn._device import fork_rng, resolve_device
from skanomaly.nn._layers import MLP, GradientReversal, grad_reverse

__all__ = ["MLP", "GradientReversal", "fork_rng", "grad_reverse", "resolve_device"]
