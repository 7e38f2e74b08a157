"""The paper detectors: AnoRand, DHAG, GenIAS and ASTER."""

__all__ = []
