"""skanomaly: synthetic-anomaly-generation detectors for scikit-learn and PyOD users.

Every detector follows PyOD's contract (``decision_function`` higher = more anomalous,
``predict`` 0/1, ``threshold_``, ``labels_``, ``decision_scores_``) and scikit-learn's rules
(``get_params``/``set_params``, ``clone``, Pipelines, ``GridSearchCV``).
"""

from skanomaly import datasets, detectors, injectors, metrics, model_selection, pipeline, timeseries
from skanomaly._version import __version__
from skanomaly.base import BaseDeepDetector
from skanomaly.detectors import (
    AnoRandDetector,
    ASTERDetector,
    DHAGDetector,
    GenIASDetector,
    InjectionClassifier,
)
from skanomaly.injectors import BaseInjector, GenIASInjector

__all__ = [
    "ASTERDetector",
    "AnoRandDetector",
    "BaseDeepDetector",
    "BaseInjector",
    "DHAGDetector",
    "GenIASDetector",
    "GenIASInjector",
    "InjectionClassifier",
    "__version__",
    "datasets",
    "detectors",
    "injectors",
    "metrics",
    "model_selection",
    "pipeline",
    "timeseries",
]
