"""skanomaly: synthetic-anomaly-generation detectors for scikit-learn and PyOD users.

Every detector follows PyOD's contract (``decision_function`` higher = more anomalous,
``predict`` 0/1, ``threshold_``, ``labels_``, ``decision_scores_``) and scikit-learn's rules
(``get_params``/``set_params``, ``clone``, Pipelines, ``GridSearchCV``).

Subpackages and the names below load on first use: ``import skanomaly.metrics`` does not
import torch.
"""

from skanomaly import _lazy
from skanomaly._version import __version__

_LAZY = {
    "ASTERDetector": "skanomaly.detectors",
    "AnoRandDetector": "skanomaly.detectors",
    "BaseDeepDetector": "skanomaly.base",
    "BaseInjector": "skanomaly.injectors",
    "DHAGDetector": "skanomaly.detectors",
    "GenIASDetector": "skanomaly.detectors",
    "GenIASInjector": "skanomaly.injectors",
    "InjectionClassifier": "skanomaly.detectors",
    "datasets": None,
    "detectors": None,
    "injectors": None,
    "metrics": None,
    "model_selection": None,
    "pipeline": None,
    "timeseries": None,
}
__getattr__, __dir__ = _lazy.attach(__name__, _LAZY)

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
