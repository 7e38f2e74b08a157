"""Persistence of torch estimators: pickling with CPU copies, and ``save``/``load`` folders.

Two ways to store a fitted :class:`~skanomaly.base.BaseTorchEstimator`:

* pickling (``pickle``, ``joblib``): :func:`getstate` stores CPU copies of every module and
  tensor, so a model trained on a GPU unpickles on a CPU-only machine; :func:`setstate`
  re-resolves ``device_`` and moves them back;
* :func:`save` / :func:`load`: a folder with ``params.json`` (class, constructor parameters,
  fitted scalars) and ``weights.pt`` (``state_dict`` and fitted arrays), read with
  ``torch.load(weights_only=True)``, so loading executes no code; only estimator classes of
  known packages may be named in the file.

The estimator classes call these functions from their ``__getstate__``, ``__setstate__``,
``save`` and ``load``; nothing else of the package imports this module.
"""

import copy
import importlib
import json
import numbers
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted
from torch import nn

from skanomaly._version import __version__
from skanomaly.nn import fork_rng, resolve_device

__all__ = []

_PARAMS_FILE = "params.json"
_WEIGHTS_FILE = "weights.pt"
# Classes that `load` may rebuild from a params file: only importable estimator classes of these
# packages, so a crafted file cannot name an arbitrary callable.
_LOADABLE_PACKAGES = ("skanomaly.", "sklearn.", "imblearn.", "pyod.")


def getstate(state):
    """The pickled state: ``state`` with CPU copies of accelerator modules and tensors."""
    state = dict(state)
    # Store CPU copies so a model trained on a GPU unpickles on a CPU-only machine.
    for key, value in state.items():
        if isinstance(value, (nn.Module, torch.Tensor)) and _on_accelerator(value):
            state[key] = _cpu_copy(value)
    return state


def setstate(estimator, state):
    """After unpickling: re-resolve ``device_`` and move modules and tensors onto it."""
    if "device_" in state:
        estimator.device_ = _device_after_load(estimator.device, state["device_"])
        for key, value in list(vars(estimator).items()):
            if isinstance(value, (nn.Module, torch.Tensor)):
                setattr(estimator, key, value.to(estimator.device_))


def save(estimator, path):
    """Write the fitted ``estimator`` to the folder ``path`` (see ``BaseTorchEstimator.save``)."""
    check_is_fitted(estimator)
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    params = {k: _encode_param(k, v) for k, v in estimator.get_params(deep=False).items()}
    fitted, tensors = {}, {}
    for key, value in vars(estimator).items():
        if key in params:
            continue
        if key == "module_":
            for name, tensor in value.state_dict().items():
                tensors[f"module_.{name}"] = tensor.detach().to("cpu")
        elif isinstance(value, torch.Tensor):
            tensors[f"tensor:{key}"] = value.detach().to("cpu")
        elif isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
            tensors[f"array:{key}"] = torch.from_numpy(np.ascontiguousarray(value))
        else:
            fitted[key] = _encode_fitted(key, value)
    meta = {
        "class": f"{type(estimator).__module__}.{type(estimator).__qualname__}",
        "skanomaly_version": __version__,
        "params": params,
        "fitted": fitted,
    }
    (path / _PARAMS_FILE).write_text(json.dumps(meta, indent=2))
    torch.save(tensors, path / _WEIGHTS_FILE)
    return path


def load(cls, path, *, device=None):
    """Rebuild an estimator of class ``cls`` (or a subclass) written by :func:`save`."""
    path = Path(path)
    params_file, weights_file = path / _PARAMS_FILE, path / _WEIGHTS_FILE
    try:
        meta = json.loads(params_file.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{params_file} is not valid JSON ({exc}); the folder is corrupted. Save the "
            "model again."
        ) from exc
    _check_version(meta.get("skanomaly_version"), params_file)
    klass = _import_estimator_class(meta["class"])
    if not issubclass(klass, cls):
        raise TypeError(f"{path} holds a {meta['class']}, not a {cls.__name__}.")
    estimator = klass(**{k: _decode(v) for k, v in meta["params"].items()})
    for key, value in meta["fitted"].items():
        _set_fitted(estimator, key, _decode(value), params_file)
    # A device asked for explicitly must exist, as in fit; the saved one may fall back.
    estimator.device_ = (
        resolve_device(device)
        if device is not None
        else _device_after_load(estimator.device, getattr(estimator, "device_", "?"))
    )
    try:
        tensors = torch.load(weights_file, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as exc:  # torch raises OSError, RuntimeError, UnpicklingError...
        raise ValueError(
            f"Cannot read {weights_file} ({type(exc).__name__}: {exc}); the file is truncated "
            "or corrupted. Save the model again."
        ) from exc
    module_state = {}
    for key, tensor in tensors.items():
        if key.startswith("module_."):
            module_state[key[len("module_.") :]] = tensor
        elif key.startswith("tensor:"):
            _set_fitted(estimator, key[len("tensor:") :], tensor, weights_file)
        elif key.startswith("array:"):
            _set_fitted(estimator, key[len("array:") :], tensor.numpy(), weights_file)
    with fork_rng(torch.device("cpu"), 0):
        module = estimator._build(tuple(estimator.input_shape_))
    try:
        module.load_state_dict(module_state)
    except RuntimeError as exc:
        raise ValueError(
            f"The weights in {weights_file} do not fit the {klass.__name__} network described "
            f"by {params_file} (were the files edited or mixed from two models?): {exc}"
        ) from exc
    estimator.module_ = module.to(estimator.device_).eval()
    return estimator


def _set_fitted(estimator, key, value, source):
    """Restore one fitted attribute, refusing anything but a fitted attribute's name.

    A fitted attribute ends with ``_`` (scikit-learn's rule) or is private state (``_name``);
    it never shadows what the class defines (methods, class settings) nor a constructor
    parameter, so a crafted or damaged file cannot replace behaviour.
    """
    is_name = isinstance(key, str) and key.isidentifier() and not key.startswith("__")
    if not (
        is_name
        and (key.endswith("_") or key.startswith("_"))
        and not hasattr(type(estimator), key)
        and key not in estimator.get_params(deep=False)
    ):
        raise ValueError(
            f"{source} lists {key!r} as a fitted attribute of {type(estimator).__name__}; "
            "it is not one (fitted attributes end with '_' and never replace a method or a "
            "parameter). The file is corrupted or was not written by save()."
        )
    setattr(estimator, key, value)


def _check_version(saved, source):
    """Refuse a folder from a newer major version of skanomaly; warn for a newer minor one."""
    try:
        saved_parts = tuple(int(p) for p in str(saved).split(".")[:2])
        here_parts = tuple(int(p) for p in __version__.split(".")[:2])
    except ValueError:
        raise ValueError(
            f"{source} has no valid skanomaly_version ({saved!r}); it was not written by "
            "save()."
        ) from None
    if saved_parts[0] > here_parts[0]:
        raise ValueError(
            f"{source} was written by skanomaly {saved}, a newer major version than this "
            f"one ({__version__}); its format may differ. Upgrade skanomaly to load it."
        )
    if saved_parts > here_parts:
        warnings.warn(
            f"{source} was written by skanomaly {saved}, newer than this one ({__version__}); "
            "it is loaded, but check its results.",
            UserWarning,
            stacklevel=4,
        )


# ---------------------------------------------------------------------- helpers
def _on_accelerator(value):
    if isinstance(value, torch.Tensor):
        return value.device.type != "cpu"
    return any(t.device.type != "cpu" for t in value.state_dict().values())


def _cpu_copy(value):
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu")
    module = copy.deepcopy(value)
    return module.to("cpu")


def _device_after_load(requested, saved):
    """Device for an unpickled/loaded model: the requested one when available, else CPU."""
    try:
        return resolve_device(requested)
    except ValueError:
        warnings.warn(
            f"The model was trained on {saved} (device={requested!r}), which is not available "
            "here; it is loaded on the CPU.",
            UserWarning,
            stacklevel=4,  # the user call: load or pickle.load, via this module
        )
        return torch.device("cpu")


def _import_estimator_class(dotted):
    module_name, _, name = dotted.rpartition(".")
    if not dotted.startswith(_LOADABLE_PACKAGES):
        raise ValueError(f"Refusing to load class {dotted!r}: not a skanomaly/sklearn/PyOD class.")
    klass = getattr(importlib.import_module(module_name), name, None)
    if not (isinstance(klass, type) and issubclass(klass, BaseEstimator)):
        raise ValueError(f"{dotted!r} is not an estimator class.")
    return klass


def _encode_param(name, value):
    if isinstance(value, BaseEstimator):
        return {
            "__estimator__": f"{type(value).__module__}.{type(value).__qualname__}",
            "params": {k: _encode_param(k, v) for k, v in value.get_params(deep=False).items()},
        }
    if isinstance(value, (np.random.RandomState, np.random.Generator)):
        # The generator has been consumed by fit; the fitted weights carry its effect.
        return None
    # Containers may hold estimators too, e.g. RandomChoiceInjector(injectors=(...)).
    if isinstance(value, tuple):
        return {"__tuple__": [_encode_param(name, v) for v in value]}
    if isinstance(value, list):
        return [_encode_param(name, v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"__dict__": {k: _encode_param(name, v) for k, v in value.items()}}
    return _encode_fitted(name, value)


def _encode_fitted(name, value):
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, torch.device):
        return {"__device__": str(value)}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode_fitted(name, v) for v in value]}
    if isinstance(value, list):
        return [_encode_fitted(name, v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"__dict__": {k: _encode_fitted(name, v) for k, v in value.items()}}
    if isinstance(value, np.ndarray):
        return {"__ndarray__": value.tolist(), "dtype": str(value.dtype)}
    raise TypeError(
        f"Cannot save attribute {name!r} of type {type(value).__name__} with save(); "
        "pickle the detector (joblib.dump) instead."
    )


def _decode(value):
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__estimator__" in value:
        klass = _import_estimator_class(value["__estimator__"])
        return klass(**{k: _decode(v) for k, v in value["params"].items()})
    if "__device__" in value:
        return torch.device(value["__device__"])
    if "__tuple__" in value:
        return tuple(_decode(v) for v in value["__tuple__"])
    if "__dict__" in value:
        return {k: _decode(v) for k, v in value["__dict__"].items()}
    if "__ndarray__" in value:
        return np.asarray(value["__ndarray__"], dtype=value["dtype"])
    raise ValueError(f"Unknown encoded value {value!r}.")
