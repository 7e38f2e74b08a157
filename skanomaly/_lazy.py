"""PEP 562 lazy attributes for package ``__init__`` modules.

``import skanomaly.metrics`` runs ``skanomaly/__init__.py`` first; if that imported the
detectors, every light subpackage (metrics, datasets, timeseries) would pay for torch. The
root package and :mod:`skanomaly.injectors` therefore resolve their heavy names on first
access instead.
"""

import importlib

__all__ = []


def attach(package, names):
    """Return ``(__getattr__, __dir__)`` for ``package`` resolving ``names`` lazily.

    ``names`` maps an attribute to the module that defines it (``"skanomaly.detectors"``), or
    to ``None`` for a subpackage of the same name. The resolved value is cached in the
    package's namespace, so ``__getattr__`` runs once per name.
    """
    namespace = importlib.import_module(package).__dict__

    def __getattr__(name):
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        source = names[name]
        if source is None:
            value = importlib.import_module(f"{package}.{name}")
        else:
            value = getattr(importlib.import_module(source), name)
        namespace[name] = value
        return value

    def __dir__():
        return sorted(set(namespace) | set(names))

    return __getattr__, __dir__
