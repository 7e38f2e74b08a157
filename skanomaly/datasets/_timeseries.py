"""Labelled time-series files: skanomaly's ``.npz`` (``train``, ``test``, ``test_labels``),
CSV files (a timestamp column, value columns, an optional label column) and TSB-AD's CSVs."""

import csv
import re
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from skanomaly.datasets._home import get_data_home

__all__ = ["load_timeseries"]


def load_timeseries(
    path_or_name, *, data_home=None, timestamp_column="auto", label_column="auto",
    train_size=None,
):
    """Load one labelled series: skanomaly's ``.npz``, a CSV file or a TSB-AD file.

    * ``.npz``: an archive holding ``train`` ``(T_train, D)``, ``test`` ``(T_test, D)``,
      ``test_labels`` ``(T_test,)`` with 1 = anomalous time step, and optionally
      ``train_labels``. This is the format of the TSB-style panels skanomaly benchmarks on
      (UCR, SMAP, MSL, SMD, ASD, NAB, GECCO, KPI series).
    * ``.csv``: one row per time step with a header; an optional timestamp column, one
      column per channel and an optional 0/1 label column. The first ``train_size`` steps are
      the training part and the whole series is the test part (TSB-AD's protocol: detectors
      that learn from normal data fit on the prefix, every step is scored).
    * TSB-AD's files are CSVs whose last column ``Label`` holds the point labels and whose
      name, ``<index>_<dataset>_id_<id>_<domain>_tr_<train end>_1st_<first anomaly>.csv``,
      gives the end of the anomaly-free training prefix; they load as above with
      ``train_size`` read from the name.

    Parameters
    ----------
    path_or_name : str or path-like
        A path to an ``.npz`` or ``.csv`` file, or the name of a file in ``data_home``
        (``.npz`` is assumed when the name has no suffix).
    data_home : str or path-like, default=None
        Folder searched when a name is given; ``None`` uses ``SKANOMALY_DATA`` or
        ``~/skanomaly_data``.
    timestamp_column : str, None or "auto", default="auto"
        CSV only: the column of time stamps, kept in ``timestamps`` and not used as a
        channel. ``"auto"`` takes a column named ``timestamp``, ``time``, ``date`` or
        ``datetime`` (any case) if there is one; ``None`` means there is none.
    label_column : str, None or "auto", default="auto"
        CSV only: the column of 0/1 point labels. ``"auto"`` takes a column named ``label``,
        ``is_anomaly`` or ``anomaly`` (any case; TSB-AD's ``Label``) if there is one;
        ``None`` means the file is unlabelled (``test_labels`` is then None).
    train_size : int or None, default=None
        CSV only: number of leading steps that form ``train``. ``None`` reads it from a
        TSB-AD file name (``_tr_<n>_``), and otherwise trains on the whole series (the
        unsupervised protocol: fit and score the same series).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``train`` and ``test`` as float64 arrays of shape ``(T, D)`` (a 1-D series becomes
        ``D = 1``), ``test_labels`` (int64; None for an unlabelled CSV), ``train_labels``
        (int64 or None), ``name`` and ``path``. CSV files add ``timestamps`` (``datetime64``
        when the column parses as dates, else the raw values; None without a timestamp
        column), ``columns`` (the channel names) and ``train_size``.

    Raises
    ------
    FileNotFoundError
        If no such file exists.
    ValueError
        If the archive lacks a key or its shapes disagree; for a CSV, if a value is missing
        or not a number (the message names the row and the column), a label is not 0/1, a
        named column is absent, or ``train_size`` does not fit the series.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from skanomaly.datasets import load_timeseries
    >>> folder = tempfile.mkdtemp()
    >>> np.savez(os.path.join(folder, "toy.npz"), train=np.zeros((50, 2)),
    ...          test=np.ones((30, 2)), test_labels=np.r_[np.zeros(25), np.ones(5)])
    >>> data = load_timeseries("toy", data_home=folder)
    >>> data.train.shape, data.test.shape, int(data.test_labels.sum())
    ((50, 2), (30, 2), 5)
    """
    path = Path(path_or_name)
    if not path.exists():
        name = path.name if path.suffix in (".npz", ".csv") else f"{path.name}.npz"
        path = get_data_home(data_home) / name
    if not path.exists():
        raise FileNotFoundError(
            f"No time-series file {path_or_name!r}: looked for {path}. Pass a path to an .npz "
            "file with 'train', 'test' and 'test_labels' or to a .csv file, or put the file "
            "in data_home."
        )
    if path.suffix.lower() == ".csv":
        return _load_csv(path, timestamp_column, label_column, train_size)
    with np.load(path, allow_pickle=False) as archive:
        missing = {"train", "test", "test_labels"} - set(archive.files)
        if missing:
            raise ValueError(f"{path} lacks the key(s) {sorted(missing)}; it has {archive.files}.")
        train = _as_2d(archive["train"])
        test = _as_2d(archive["test"])
        test_labels = np.asarray(archive["test_labels"]).astype(np.int64).ravel()
        train_labels = (
            np.asarray(archive["train_labels"]).astype(np.int64).ravel()
            if "train_labels" in archive.files
            else None
        )
    if train.shape[1] != test.shape[1]:
        raise ValueError(
            f"{path}: train has {train.shape[1]} channels but test has {test.shape[1]}."
        )
    if len(test_labels) != len(test):
        raise ValueError(
            f"{path}: test has {len(test)} steps but test_labels has {len(test_labels)}."
        )
    return Bunch(
        train=train,
        test=test,
        test_labels=test_labels,
        train_labels=train_labels,
        name=path.stem,
        path=str(path),
    )


def _as_2d(series):
    series = np.asarray(series, dtype=np.float64)
    return series[:, None] if series.ndim == 1 else series


# TSB-AD names its files <index>_<dataset>_id_<id>_<domain>_tr_<train end>_1st_<first anomaly>.
_TSB_AD_NAME = re.compile(r"_tr_(\d+)_1st_(\d+)$")
_TIMESTAMP_NAMES = ("timestamp", "time", "date", "datetime")
_LABEL_NAMES = ("label", "is_anomaly", "anomaly")


def _pick_column(header, requested, candidates, what, path):
    """Index of the column ``requested`` ("auto": the first of ``candidates``), or None."""
    if requested is None:
        return None
    if requested == "auto":
        lowered = [name.strip().lower() for name in header]
        return next((lowered.index(c) for c in candidates if c in lowered), None)
    if requested not in header:
        raise ValueError(f"{path}: no {what} column {requested!r}; the columns are {header}.")
    return header.index(requested)


def _load_csv(path, timestamp_column, label_column, train_size):
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    if len(rows) < 2:
        raise ValueError(f"{path}: a CSV series needs a header row and at least one time step.")
    header, body = [name.strip() for name in rows[0]], rows[1:]
    time_idx = _pick_column(header, timestamp_column, _TIMESTAMP_NAMES, "timestamp", path)
    label_idx = _pick_column(header, label_column, _LABEL_NAMES, "label", path)
    value_idx = [i for i in range(len(header)) if i not in (time_idx, label_idx)]
    if not value_idx:
        raise ValueError(f"{path}: no value column besides the timestamp and label columns.")
    for row_number, row in enumerate(body, start=2):  # line 1 is the header
        if len(row) != len(header):
            raise ValueError(
                f"{path}, line {row_number}: {len(row)} fields, but the header has "
                f"{len(header)}."
            )
    cells = np.array([[row[i] for i in value_idx] for row in body])
    try:
        values = cells.astype(np.float64)
    except ValueError:
        values = None
    if values is None or not np.isfinite(values).all():
        for k, j in np.ndindex(cells.shape):  # find the first bad cell for the message
            try:
                ok = np.isfinite(float(cells[k, j]))
            except ValueError:
                ok = False
            if not ok:
                raise ValueError(
                    f"{path}, line {k + 2}, column {header[value_idx[j]]!r}: "
                    f"{str(cells[k, j])!r} is not a finite number. Fill or drop missing values "
                    "before loading."
                )
    labels = None
    if label_idx is not None:
        raw = [row[label_idx].strip() for row in body]
        bad = next((k for k, v in enumerate(raw) if v not in ("0", "1", "0.0", "1.0")), None)
        if bad is not None:
            raise ValueError(
                f"{path}, line {bad + 2}, column {header[label_idx]!r}: labels must be 0 "
                f"(normal) or 1 (anomaly); got {raw[bad]!r}."
            )
        labels = np.array([int(float(v)) for v in raw], dtype=np.int64)
    timestamps = None
    if time_idx is not None:
        timestamps = np.array([row[time_idx].strip() for row in body])
        # Numbers first: numpy would read "1", "2" as the years 1 and 2.
        for dtype in (np.float64, "datetime64[ns]"):
            try:
                timestamps = timestamps.astype(dtype)
                break
            except ValueError:
                continue  # strings stay strings
    n_steps = len(values)
    if train_size is None:
        match = _TSB_AD_NAME.search(path.stem)
        train_size = int(match.group(1)) if match else n_steps
    if isinstance(train_size, bool) or not isinstance(train_size, (int, np.integer)) or not (
        1 <= train_size <= n_steps
    ):
        raise ValueError(
            f"{path}: train_size must be an int between 1 and the {n_steps} time steps; got "
            f"{train_size!r}."
        )
    train_size = int(train_size)
    return Bunch(
        train=values[:train_size].copy(),
        test=values,
        test_labels=labels,
        train_labels=None if labels is None else labels[:train_size].copy(),
        timestamps=timestamps,
        columns=[header[i] for i in value_idx],
        train_size=train_size,
        name=path.stem,
        path=str(path),
    )
