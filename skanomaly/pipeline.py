"""Pipelines that may contain anomaly injectors.

scikit-learn's :class:`~sklearn.pipeline.Pipeline` cannot add rows (SLEP005 is a draft), so
skanomaly re-exports imbalanced-learn's :class:`~imblearn.pipeline.Pipeline` and
:func:`~imblearn.pipeline.make_pipeline`. A step with ``fit_resample`` (an injector) runs at
**fit time only**: ``predict``, ``decision_function`` and scoring see the raw rows.

A detector that owns its injector (``AnoRandDetector(injector=...)``) needs no special
pipeline: scikit-learn's own ``make_pipeline(StandardScaler(), detector)`` works.
"""

from imblearn.pipeline import Pipeline, make_pipeline

__all__ = ["Pipeline", "make_pipeline"]
