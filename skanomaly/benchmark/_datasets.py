"""The benchmark's data sets: embedded defaults (no download) and files in a data folder.

Embedded tabular sets (always available):

* ``synthetic_global``, ``synthetic_local``, ``synthetic_cluster``, ``synthetic_dependency``:
  :func:`~skanomaly.datasets.make_anomalies` with 2,000 rows, 10 features, 5% anomalies of
  that type (ADBench's four synthetic anomaly types), ``random_state=0``;
* ``sklearn_breast_cancer``: scikit-learn's bundled Wisconsin breast-cancer data; the 357
  benign tumours are normal, 18 malignant ones drawn at random (5% of the rows, a fixed draw)
  are the anomalies, as ADBench builds WDBC from the same data;
* ``sklearn_wine``: classes 1 and 2 (119 wines) are normal, 6 wines of class 0 are the
  anomalies;
* ``sklearn_digits``: the 8x8 digits other than 0 are normal, 80 zeros are the anomalies.

Embedded series (time-series suite): ``synthetic_sine_spikes`` and ``synthetic_sine_shift``, a
noisy two-channel sine with injected spikes or level shifts in its test part.

Any other name is a file: ``<data_home>/<name>.npz`` (ADBench's ``X``/``y`` for tabular sets,
``train``/``test``/``test_labels`` for series), or an ADBench name known to
:func:`~skanomaly.datasets.load_adbench` (in ``data_home``, else in
:func:`~skanomaly.datasets.get_data_home`; downloaded only with ``download=True``). In-memory
items ``(name, X, y)`` (tabular) and ``(name, train, test, test_labels)`` (series) are accepted
too.
"""

from pathlib import Path

import numpy as np

from skanomaly.datasets import list_adbench, make_anomalies

__all__ = ["EMBEDDED_SERIES", "EMBEDDED_TABULAR", "InMemory", "load_embedded", "resolve_datasets"]

EMBEDDED_TABULAR = (
    "synthetic_global",
    "synthetic_local",
    "synthetic_cluster",
    "synthetic_dependency",
    "sklearn_breast_cancer",
    "sklearn_wine",
    "sklearn_digits",
)
EMBEDDED_SERIES = ("synthetic_sine_spikes", "synthetic_sine_shift")
_ADBENCH_NAMES = {name.lower() for name in list_adbench()}


def load_embedded(name):
    """Arrays of an embedded data set: ``(X, y)`` or ``(train, test, test_labels)``."""
    if name.startswith("synthetic_sine_"):
        return _sine(name.removeprefix("synthetic_sine_"))
    if name.startswith("synthetic_"):
        return make_anomalies(
            2000,
            10,
            contamination=0.05,
            anomaly_type=name.removeprefix("synthetic_"),
            random_state=0,
        )
    if name.startswith("sklearn_"):
        return _from_sklearn(name.removeprefix("sklearn_"))
    raise ValueError(f"Unknown embedded data set {name!r}.")


def _minority_as_anomalies(X, y, anomaly_class, n_anomalies, seed=0):
    normal = X[y != anomaly_class]
    pool = X[y == anomaly_class]
    rng = np.random.RandomState(seed)
    anomalies = pool[rng.choice(len(pool), n_anomalies, replace=False)]
    X_out = np.vstack([normal, anomalies]).astype(np.float64)
    y_out = np.r_[np.zeros(len(normal), dtype=np.int64), np.ones(n_anomalies, dtype=np.int64)]
    return X_out, y_out


def _from_sklearn(name):
    from sklearn import datasets

    if name == "breast_cancer":
        X, y = datasets.load_breast_cancer(return_X_y=True)  # 0 = malignant, 1 = benign
        return _minority_as_anomalies(X, y, anomaly_class=0, n_anomalies=18)
    if name == "wine":
        X, y = datasets.load_wine(return_X_y=True)
        return _minority_as_anomalies(X, y, anomaly_class=0, n_anomalies=6)
    if name == "digits":
        X, y = datasets.load_digits(return_X_y=True)
        return _minority_as_anomalies(X, y, anomaly_class=0, n_anomalies=80)
    raise ValueError(f"Unknown embedded data set 'sklearn_{name}'.")


def _sine(kind, n_train=1500, n_test=1500):
    rng = np.random.RandomState(0)
    t = np.arange(n_train + n_test)
    series = np.column_stack([np.sin(2 * np.pi * t / 50), np.cos(2 * np.pi * t / 80)])
    series = series + 0.1 * rng.normal(size=series.shape)
    train, test = series[:n_train], series[n_train:].copy()
    labels = np.zeros(n_test, dtype=np.int64)
    for start in rng.choice(np.arange(50, n_test - 60, 100), 6, replace=False):
        length = 3 if kind == "spikes" else 40
        channel = rng.randint(2)
        if kind == "spikes":
            test[start : start + length, channel] += rng.choice([-1, 1]) * 2.5
        else:
            test[start : start + length, channel] += 1.0
        labels[start : start + length] = 1
    return train, test, labels


class InMemory:
    """An in-memory data set of a run: its arrays, hashed by identity so cells can cache it.

    Pickles with its arrays, so that joblib, Dask or a cell's subprocess receive the data.
    """

    def __init__(self, name, arrays):
        self.name = name
        self.arrays = tuple(arrays)

    def __repr__(self):
        shapes = ", ".join(str(getattr(a, "shape", "?")) for a in self.arrays)
        return f"InMemory({self.name!r}, shapes=({shapes}))"


def resolve_datasets(suite, datasets=None, data_home=None, *, download=False):
    """Data sets of a run as ``(name, source)`` pairs, checked against the suite.

    ``source`` is ``"embedded"``, a file path (a string, so that cells pickle to workers), an
    :class:`InMemory` holding the arrays of a ``(name, X, y)`` / ``(name, train, test,
    labels)`` item, or the bare name for ADBench names resolved in ``data_home`` by the
    protocol's loader. ``datasets=None`` means every ``.npz`` in ``data_home`` when it is
    given, else the embedded sets of the suite. ADBench names are looked up in ``data_home``,
    else in :func:`~skanomaly.datasets.get_data_home` (``SKANOMALY_DATA`` or
    ``~/skanomaly_data``), and downloaded there first when ``download=True``.

    Every data set is checked before any cell runs (fail fast): a file must hold the arrays of
    the suite (``X``, ``y`` for tabular; ``train``, ``test``, ``test_labels`` for series) and
    an in-memory item the matching number of arrays with consistent lengths, else a
    ``ValueError`` names the data set and what the suite expects.
    """
    embedded = EMBEDDED_TABULAR if suite == "tabular" else EMBEDDED_SERIES
    folder = Path(data_home).expanduser() if data_home is not None else None
    if folder is not None and not folder.is_dir():
        raise ValueError(f"data_home {str(folder)!r} is not a folder.")
    if datasets is None:
        if folder is None:
            return [(name, "embedded") for name in embedded]
        files = sorted(folder.glob("*.npz"), key=lambda p: p.stem.lower())
        if not files:
            raise ValueError(f"No .npz data sets in {str(folder)!r}.")
        resolved = [(path.stem, str(path)) for path in files]
    else:
        if isinstance(datasets, (str, tuple)):
            datasets = [datasets]  # one name, or one in-memory item
        resolved = [_resolve_one(suite, item, folder, embedded, download) for item in datasets]
    names = [name for name, _ in resolved]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ValueError(f"Data set names must be unique; {duplicated} appear more than once.")
    for name, source in resolved:
        _check_matches_suite(suite, name, source)
    return resolved


def _resolve_one(suite, item, folder, embedded, download):
    if isinstance(item, (tuple, list)):
        return _in_memory(suite, item)
    if not isinstance(item, (str, Path)):
        raise TypeError(
            f"A data set must be a name, a path, or a tuple {_ITEM_SHAPE[suite]}; got "
            f"{type(item).__name__}."
        )
    name = str(item)
    if name in embedded:
        return (name, "embedded")
    path = Path(name).expanduser()
    if path.is_file() and (suite == "timeseries" or path.suffix == ".npz"):
        return (path.stem, str(path))
    if folder is not None and (folder / f"{name}.npz").is_file():
        return (name, str(folder / f"{name}.npz"))
    if suite == "tabular" and name.lower() in _ADBENCH_NAMES:
        return (name, _adbench_file(name, folder, download))
    where = f"in {str(folder)!r}" if folder is not None else "(no data_home given)"
    raise ValueError(
        f"Unknown data set {name!r} {where}; embedded {suite} sets: {', '.join(embedded)}"
        + ("; ADBench names need download=True (--download) or their file in data_home."
           if suite == "tabular" else ".")
    )


_ITEM_SHAPE = {"tabular": "(name, X, y)", "timeseries": "(name, train, test, test_labels)"}


def _in_memory(suite, item):
    n_arrays = 2 if suite == "tabular" else 3
    if len(item) != n_arrays + 1 or not isinstance(item[0], str):
        raise ValueError(
            f"An in-memory {suite} data set is a tuple {_ITEM_SHAPE[suite]}; got a "
            f"{type(item).__name__} of {len(item)} items"
            + (f" starting with {type(item[0]).__name__}" if len(item) else "")
            + "."
        )
    return (item[0], InMemory(item[0], [np.asarray(array) for array in item[1:]]))


def _adbench_file(name, folder, download):
    """Path of an ADBench file (downloaded first when asked); a clear error when absent."""
    from skanomaly.datasets import get_data_home, load_adbench

    home = folder if folder is not None else get_data_home()
    try:
        bunch = load_adbench(name, data_home=home, download=download)
    except FileNotFoundError:
        raise ValueError(
            f"ADBench data set {name!r} is not in {str(home)!r}; pass download=True "
            "(skanomaly bench --download) to fetch it, or --data-home to the folder holding it."
        ) from None
    return str(bunch.path)


_EXPECTED_KEYS = {"tabular": ("X", "y"), "timeseries": ("train", "test", "test_labels")}


def _check_matches_suite(suite, name, source):
    """Fail fast when a data set is not of the suite's kind (before any cell runs)."""
    if source == "embedded":
        return
    if isinstance(source, InMemory):
        arrays = source.arrays
        if suite == "tabular":
            X, y = arrays
            ok = X.ndim == 2 and y.ndim == 1 and len(X) == len(y)
            expected = "X of shape (n_samples, n_features) and y of shape (n_samples,)"
            got = f"X {X.shape}, y {y.shape}"
        else:
            train, test, labels = arrays
            ok = train.ndim in (1, 2) and test.ndim in (1, 2) and labels.ndim == 1
            ok = ok and len(test) == len(labels)
            expected = "train (T_train, D), test (T_test, D) and test_labels (T_test,)"
            got = f"train {train.shape}, test {test.shape}, test_labels {labels.shape}"
        if not ok:
            raise ValueError(
                f"Data set {name!r} does not match the {suite} suite: expected {expected}; "
                f"got {got}."
            )
        return
    path = Path(source)
    if path.suffix != ".npz" or not path.is_file():
        return  # another file format: its loader checks it in the cell
    with np.load(path, allow_pickle=False) as archive:
        keys = set(archive.files)
    expected = _EXPECTED_KEYS[suite]
    if not set(expected) <= keys:
        other = next((s for s, k in _EXPECTED_KEYS.items() if s != suite and set(k) <= keys), None)
        hint = f" (it looks like a {other} data set: use suite={other!r})" if other else ""
        raise ValueError(
            f"Data set {name!r} ({str(path)!r}) does not match the {suite} suite: it holds "
            f"{sorted(keys)}, the suite needs {list(expected)}{hint}."
        )
