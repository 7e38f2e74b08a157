"""Label-free model selection: score, tune and choose detectors without anomaly labels.

Real users rarely hold anomaly labels. :func:`make_injection_scorer` scores a fitted detector
by how well it ranks anomalies injected into a validation fold above the fold's own rows, so
``GridSearchCV(..., scoring=make_injection_scorer()).fit(X)`` tunes a detector with no ``y``;
:class:`DetectorSelector` uses the same idea to choose among different detectors, by default
with :class:`AverageEnsemble` (the average of the candidates' normalised scores) as one more
candidate.
"""

from skanomaly.model_selection._ensemble import AverageEnsemble
from skanomaly.model_selection._scorer import make_injection_scorer
from skanomaly.model_selection._selector import DetectorSelector, centrality_scores

__all__ = ["AverageEnsemble", "DetectorSelector", "centrality_scores", "make_injection_scorer"]
