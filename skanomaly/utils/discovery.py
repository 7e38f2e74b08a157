"""Find every public estimator of the package, so conformance tests enrol new ones."""

import importlib
import inspect
import pkgutil

from sklearn.base import BaseEstimator

__all__ = ["all_estimators"]


def all_estimators(type_filter=None):
    """Return the public estimator classes of skanomaly.

    Parameters
    ----------
    type_filter : {"detector", "injector"} or None, default=None
        Keep only detectors (``decision_function``) or injectors (``fit_resample``).

    Returns
    -------
    estimators : list of (name, class) tuples
        Sorted by name; abstract classes and private names are left out.

    Examples
    --------
    >>> from skanomaly.utils import all_estimators
    >>> names = [name for name, _ in all_estimators()]
    >>> isinstance(names, list)
    True
    """
    import skanomaly

    found = {}
    for module_info in pkgutil.walk_packages(skanomaly.__path__, prefix="skanomaly."):
        parts = module_info.name.split(".")
        if any(part.startswith("_") for part in parts[1:]) or "tests" in parts:
            continue
        module = importlib.import_module(module_info.name)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name, None)
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseEstimator)
                and obj.__module__.startswith("skanomaly.")
                and not inspect.isabstract(obj)
                and not name.startswith(("_", "Base"))
            ):
                found[name] = obj
    estimators = sorted(found.items())
    if type_filter == "detector":
        estimators = [(n, c) for n, c in estimators if hasattr(c, "decision_function")]
    elif type_filter == "injector":
        estimators = [(n, c) for n, c in estimators if hasattr(c, "fit_resample")]
    elif type_filter is not None:
        raise ValueError(f"type_filter must be None, 'detector' or 'injector'; got {type_filter!r}.")
    return estimators
