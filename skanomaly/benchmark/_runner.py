"""The benchmark grid: data sets x detectors x seeds, one tidy CSV row per cell.

Each cell splits its data set with the protocol (:func:`tabular_split` /
:func:`timeseries_split`), builds its detector from the registry and measures it with
:func:`evaluate`. Rows are appended to the CSV and flushed as cells finish, so an interrupted
run loses no finished cell, and a rerun with the same output folder skips them.
"""

import contextlib
import csv
import functools
import json
import math
import os
import pickle
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

from skanomaly import metrics as _metrics
from skanomaly.benchmark._datasets import InMemory, load_embedded, resolve_datasets
from skanomaly.benchmark._protocol import evaluate, tabular_split, timeseries_split
from skanomaly.benchmark._registry import SUITES, check_detector_name, make_detector
from skanomaly.utils._threads import torch_thread_limit

__all__ = ["COLUMNS", "DEFAULT_DETECTORS", "read_results", "run_benchmark"]

COLUMNS = (
    "suite",
    "dataset",
    "detector",
    "seed",
    "auroc",
    "aupr",
    "vus_pr",
    "fit_s",
    "score_s",
    "error",
    "version",
    "commit",
    "settings",
)
# The columns of CSVs written before rows recorded their revision and settings; such files
# are still read (the three columns empty) and rewritten in the new layout when resumed.
_LEGACY_COLUMNS = COLUMNS[:10]
_FLOAT_COLUMNS = ("auroc", "aupr", "vus_pr", "fit_s", "score_s")

DEFAULT_DETECTORS = {
    "tabular": (
        "AnoRand",
        "DHAG",
        "pyod:IForest",
        "pyod:ECOD",
        "pyod:COPOD",
        "pyod:HBOS",
        "pyod:KNN",
        "pyod:LOF",
        "pyod:PCA",
    ),
    "timeseries": (
        "GenIAS",
        "ASTER",
        "AnoRand",
        "DHAG",
        "pyod:IForest",
        "pyod:ECOD",
        "pyod:TimeSeriesOD",
        "pyod:SpectralResidual",
    ),
}


def run_benchmark(
    suite="tabular",
    *,
    detectors=None,
    datasets=None,
    seeds=(0, 1, 2),
    out="results",
    data_home=None,
    download=False,
    quick=False,
    window=100,
    stride=1,
    n_jobs=1,
    backend=None,
    cell_timeout=None,
    torch_threads=None,
    mix_revisions=False,
    progress=True,
):
    """Run the grid data sets x detectors x seeds and append one CSV row per cell.

    Parameters
    ----------
    suite : {"tabular", "timeseries"}, default="tabular"
        Evaluation protocol (see :mod:`skanomaly.benchmark`): tabular (subsample to 20,000
        rows, stratified 70/30, scaler fitted on train, unlabelled fit, AUROC/AUPR on the test
        part) or time series (per-channel standardisation with train statistics, fit on the
        train part, every test step scored; AUROC/AUPR and VUS-PR on point scores).
    detectors : sequence of str or (str, estimator), default=None
        Registry names (see :func:`list_detectors`: ``"AnoRand"``, ``"pyod:IForest"``, ...)
        or ``(label, estimator)`` pairs (cloned per cell, ``random_state`` set to the seed).
        ``None`` uses ``DEFAULT_DETECTORS[suite]``.
    datasets : sequence, default=None
        Each item is a name (embedded set, ``.npz`` file of ``data_home``, ADBench name), a
        file path, or in-memory data: ``(name, X, y)`` for the tabular suite, ``(name,
        train, test, test_labels)`` for the time-series suite. ``None`` means every ``.npz``
        of ``data_home``, or the embedded sets when ``data_home`` is None. Every data set is
        checked against the suite before any cell runs.
    seeds : sequence of int, default=(0, 1, 2)
        Seeds of the split and of the detectors.
    out : str or path-like, default="results"
        Folder of the CSV ``<out>/<suite>.csv``. Cells already in it without an error are
        skipped; cells of this grid that failed before are run again (their old row is dropped;
        failed cells of other detectors, data sets or seeds stay as they are). An empty or
        header-only CSV (left by an interrupted first write) counts as a new file. The
        settings (``quick``, and ``window``/``stride`` for series) are kept beside it in
        ``<suite>.settings.json`` and in every row; resuming with other settings is refused.
    data_home : str or path-like, default=None
        Folder of the data files. ADBench names not found there (or when it is None) are
        looked up in :func:`~skanomaly.datasets.get_data_home` (``SKANOMALY_DATA``, else
        ``~/skanomaly_data``), never relative to the working directory.
    download : bool, default=False
        Download missing ADBench data sets (with :func:`~skanomaly.datasets.load_adbench`)
        before the grid starts.
    quick : bool, default=False
        Use the registry's fast settings (few epochs).
    window, stride : int, default=100, 1
        Sliding windows of the time-series suite.
    n_jobs : int, default=1
        Cells run in parallel with joblib (``-1``: all cores). Rows are still written by
        this process as cells finish.
    backend : {"dask"} or None, default=None
        ``"dask"`` spreads the cells over a Dask cluster through joblib's Dask backend (needs
        ``dask.distributed``, the ``[distributed]`` extra): a ``distributed.Client`` already
        created in this process is used (``Client("tcp://scheduler:8786")`` for a real
        cluster), else a local cluster is started for the run. ``"ray"`` is no longer
        accepted (it was never exercised; a ``ValueError`` says so).
    cell_timeout : float, default=None
        Seconds one cell may run; a cell past it is stopped (it runs in its own Python
        process, killed with its children) and recorded with a ``TimeoutError``. The time
        includes the process start (about the import time of skanomaly, a few seconds).
        ``None``: cells run in this process (or joblib's workers) without a limit.
    torch_threads : int, default=None
        Torch threads of every cell (also in joblib's workers), the caller's setting restored
        after it. ``None``: skanomaly's detectors size their own threads
        (``torch_threads="auto"``: one for small networks), at most torch's setting; other
        torch models use torch's setting.
    mix_revisions : bool, default=False
        Every row records the package version and, in a git checkout, the commit (with
        ``-dirty`` when files differ from it). Resuming a CSV whose rows were measured by
        another revision is refused unless this is True.
    progress : bool, default=True
        Show a progress bar over the cells of the grid.

    Returns
    -------
    rows : list of dict
        All rows of the suite's CSV after the run (earlier and new cells), keys ``COLUMNS``;
        missing numbers are NaN.

    Examples
    --------
    >>> import tempfile
    >>> from skanomaly.benchmark import run_benchmark
    >>> rows = run_benchmark(detectors=["pyod:HBOS"], datasets=["sklearn_wine"], seeds=[0],
    ...                      out=tempfile.mkdtemp(), progress=False)
    >>> [(row["dataset"], row["detector"], row["error"]) for row in rows]
    [('sklearn_wine', 'pyod:HBOS', '')]

    In-memory data, ``(name, X, y)``:

    >>> from skanomaly.datasets import make_anomalies
    >>> X, y = make_anomalies(300, 4, random_state=0)
    >>> rows = run_benchmark(detectors=["pyod:HBOS"], datasets=[("mine", X, y)], seeds=[0],
    ...                      out=tempfile.mkdtemp(), progress=False)
    >>> rows[0]["dataset"], rows[0]["auroc"] > 0.5
    ('mine', True)
    """
    if suite not in SUITES:
        raise ValueError(f"suite must be one of {SUITES}; got {suite!r}.")
    detectors = list(DEFAULT_DETECTORS[suite] if detectors is None else detectors)
    if not detectors:
        raise ValueError("detectors is empty; give at least one detector.")
    labels = []
    for detector in detectors:
        if isinstance(detector, tuple):
            if len(detector) != 2 or not isinstance(detector[0], str):
                raise TypeError(
                    f"A detector must be a name or a (label, estimator) pair; got {detector!r}."
                )
            labels.append(detector[0])
        elif isinstance(detector, str):
            check_detector_name(detector, suite)
            labels.append(detector)
        else:
            raise TypeError(
                f"A detector must be a name or a (label, estimator) pair; got {detector!r}."
            )
    if len(set(labels)) != len(labels):
        raise ValueError(f"Detector labels must be unique; got {labels}.")
    seeds = [int(seed) for seed in seeds]
    if not seeds:
        raise ValueError("seeds is empty; give at least one seed.")
    if backend == "ray":
        raise ValueError(
            "backend='ray' is no longer supported: it was never exercised by the tests. Use "
            "backend='dask' (pip install 'skanomaly[distributed]') with a Dask cluster, or "
            "n_jobs for the cores of this machine."
        )
    if backend not in (None, "dask"):
        raise ValueError(f"backend must be 'dask' or None; got {backend!r}.")
    if cell_timeout is not None and not (
        isinstance(cell_timeout, (int, float)) and cell_timeout > 0
    ):
        raise ValueError(f"cell_timeout must be a positive number of seconds; got {cell_timeout!r}.")
    resolved = resolve_datasets(suite, datasets, data_home, download=download)
    metrics = ("auroc", "aupr")
    if suite == "timeseries" and callable(getattr(_metrics, "vus_pr", None)):
        metrics += ("vus_pr",)

    csv_path = Path(out).expanduser() / f"{suite}.csv"
    settings = {"quick": bool(quick)}
    if suite == "timeseries":
        settings.update(window=int(window), stride=int(stride))
    _check_settings(csv_path, settings)
    grid = [
        (dataset, source, detector, label, seed)
        for dataset, source in resolved
        for seed in seeds
        for detector, label in zip(detectors, labels, strict=True)
    ]
    revision = current_revision()
    done = _load_finished(
        csv_path, {(suite, cell[0], cell[3], cell[4]) for cell in grid}, revision, mix_revisions
    )
    todo = [cell for cell in grid if (suite, cell[0], cell[3], cell[4]) not in done]
    common = {
        "suite": suite,
        "quick": quick,
        "window": window,
        "stride": stride,
        "data_home": None if data_home is None else str(data_home),
        "metrics": metrics,
        "torch_threads": torch_threads,
    }
    stamp = {**revision, "settings": json.dumps(settings, sort_keys=True)}
    with _CsvAppender(csv_path) as appender, _progress_bar(len(todo), suite, progress) as bar:
        for row in _run_cells(todo, common, n_jobs, backend, cell_timeout):
            appender.write({**row, **stamp})
            bar.set_postfix_str(f"{row['dataset']} / {row['detector']}", refresh=False)
            bar.update()
    return read_results(csv_path)


@functools.lru_cache(maxsize=1)
def current_revision():
    """The package version and git commit stamped on every row.

    ``commit`` is the ``HEAD`` of the git checkout that holds the imported package (with
    ``-dirty`` when tracked files differ from it), or ``""`` for an installed copy or when git
    is not available.
    """
    from skanomaly import __version__

    root = Path(__file__).resolve().parents[2]
    commit = ""
    if (root / ".git").exists():
        try:
            head = subprocess.run(
                ["git", "-C", str(root), "rev-parse", "HEAD"],
                capture_output=True, text=True, timeout=10, check=True,
            ).stdout.strip()
            dirty = subprocess.run(
                ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                capture_output=True, text=True, timeout=10, check=True,
            ).stdout.strip()
            commit = head + ("-dirty" if dirty else "")
        except (OSError, subprocess.SubprocessError):
            commit = ""
    return {"version": __version__, "commit": commit}


def revision_label(row):
    """``"skanomaly <version> (<commit>)"`` of a row; ``"unrecorded"`` for legacy rows."""
    if not row.get("version"):
        return "unrecorded (written before rows carried their revision)"
    commit = row.get("commit") or ""
    return f"skanomaly {row['version']}" + (f" (commit {commit[:12]}{'-dirty' if commit.endswith('-dirty') else ''})" if commit else "")


def read_results(path):
    """Rows of a benchmark CSV as dicts (numbers as float, NaN when missing; seed as int).

    Parameters
    ----------
    path : str or path-like
        A CSV written by :func:`run_benchmark`.

    Returns
    -------
    rows : list of dict
        The last row of each cell (suite, dataset, detector, seed), in file order, keys
        ``COLUMNS``. A CSV written before rows recorded ``version``, ``commit`` and
        ``settings`` is read with those empty; an empty or header-only file has no row.

    Examples
    --------
    >>> import tempfile
    >>> import skanomaly
    >>> from skanomaly.benchmark import read_results, run_benchmark
    >>> folder = tempfile.mkdtemp()
    >>> _ = run_benchmark(detectors=["pyod:HBOS"], datasets=["sklearn_wine"], seeds=[0],
    ...                   out=folder, progress=False)
    >>> row = read_results(f"{folder}/tabular.csv")[0]
    >>> row["detector"], row["seed"], row["version"] == skanomaly.__version__
    ('pyod:HBOS', 0, True)
    """
    path = Path(path)
    if not path.is_file() or _is_blank(path):
        return []
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        fields = tuple(reader.fieldnames or ())
        if fields not in (COLUMNS, _LEGACY_COLUMNS):
            raise ValueError(
                f"{str(path)!r} is not a skanomaly benchmark CSV: expected columns "
                f"{list(COLUMNS)}, got {reader.fieldnames}. Use another output folder."
            )
        cells = {}
        for raw in reader:
            if None in raw or raw.get(fields[-1]) is None:
                continue  # a line cut by an interrupted write
            row = {column: "" for column in COLUMNS}
            row.update(raw)
            try:
                row["seed"] = int(row["seed"])
                for column in _FLOAT_COLUMNS:
                    row[column] = float(row[column]) if row[column] else math.nan
            except ValueError:
                continue
            key = (row["suite"], row["dataset"], row["detector"], row["seed"])
            cells.pop(key, None)
            cells[key] = row
    return list(cells.values())


def _is_blank(path):
    """A CSV with no row: empty, or the header (or part of it) left by an interrupted write."""
    if path.stat().st_size > 4096:
        return False
    text = path.read_text().strip()
    return not text or (
        "\n" not in text and (",".join(COLUMNS).startswith(text) or text == ",".join(_LEGACY_COLUMNS))
    )


def _check_settings(csv_path, settings):
    """Refuse to resume a CSV measured with other settings (quick, window, stride)."""
    settings_path = csv_path.with_suffix(".settings.json")
    if settings_path.is_file() and read_results(csv_path):
        previous = json.loads(settings_path.read_text())
        if previous != settings:
            raise ValueError(
                f"{str(csv_path)!r} holds cells measured with {previous}, not {settings}; "
                "use another output folder (or delete it) to measure with new settings."
            )
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    settings_path.write_text(json.dumps(settings) + "\n")


def _load_finished(csv_path, grid, revision, mix_revisions):
    """Finished cells of an earlier run; rewrite the CSV without the failed cells of ``grid``.

    Failed cells outside this run's grid (other detectors, data sets or seeds) are kept: they
    are the record of that earlier run, and this run would not redo them. Rows of another
    revision than ``revision`` make a ``ValueError`` unless ``mix_revisions``.
    """
    rows = read_results(csv_path)
    kept = [row for row in rows if not row["error"] or _cell_key(row) not in grid]
    if not mix_revisions:
        others = sorted(
            {revision_label(row) for row in kept
             if (row["version"], row["commit"]) != (revision["version"], revision["commit"])}
        )
        if others:
            raise ValueError(
                f"{str(csv_path)!r} holds cells measured by {', '.join(others)}, not by this "
                f"{revision_label(revision)}; a report would mix revisions. Use another output "
                "folder, or pass mix_revisions=True (skanomaly bench --mix-revisions) to add "
                "to it anyway."
            )
    if csv_path.is_file() and (
        _is_blank(csv_path)
        or len(kept) != len(rows)
        or (rows and _n_lines(csv_path) != len(rows) + 1)
        or (rows and _header(csv_path) != COLUMNS)
    ):
        # Failed cells to rerun, duplicated or cut lines, an older column layout, or a blank
        # file: write the kept rows to a new file and swap it in atomically.
        tmp = csv_path.with_suffix(".csv.tmp")
        with tmp.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            for row in kept:
                writer.writerow(_format_row(row))
        os.replace(tmp, csv_path)
    return {_cell_key(row) for row in kept if not row["error"]}


def _header(path):
    with path.open(newline="") as handle:
        return tuple(next(csv.reader(handle), ()))


def _cell_key(row):
    return (row["suite"], row["dataset"], row["detector"], row["seed"])


def _n_lines(path):
    with path.open(newline="") as handle:
        return sum(1 for _ in csv.reader(handle))


def _format_row(row):
    formatted = {}
    for column in COLUMNS:
        value = row.get(column, "")
        if column in _FLOAT_COLUMNS:
            value = "" if value is None or not math.isfinite(value) else format(value, ".6g")
        formatted[column] = value
    return formatted


class _CsvAppender:
    """Append rows to the CSV, writing the header to a new file, flushing every row."""

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.is_file() or self.path.stat().st_size == 0
        self._handle = self.path.open("a", newline="")
        self._writer = csv.DictWriter(self._handle, fieldnames=COLUMNS)
        if new:
            self._writer.writeheader()
            self._handle.flush()
        return self

    def write(self, row):
        self._writer.writerow(_format_row(row))
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def __exit__(self, *exc):
        self._handle.close()
        return False


def _progress_bar(total, suite, enabled):
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        desc=f"skanomaly bench {suite}",
        unit="cell",
        disable=not enabled,
        dynamic_ncols=True,
    )


def _run_cells(todo, common, n_jobs, backend, cell_timeout=None):
    if cell_timeout is None:
        run = _run_cell
    else:
        run = functools.partial(_run_cell_in_process, cell_timeout=cell_timeout)
    if n_jobs == 1 and backend is None:
        for cell in todo:
            yield run(*cell, **common)
        return
    from joblib import Parallel, delayed

    with _backend_context(backend):
        parallel = Parallel(
            n_jobs=n_jobs,
            return_as="generator_unordered" if backend is None else "generator",
            # With a time limit every cell is its own process: threads only wait on them.
            prefer="threads" if cell_timeout is not None and backend is None else None,
        )
        yield from parallel(delayed(run)(*cell, **common) for cell in todo)


@contextlib.contextmanager
def _backend_context(backend):
    if backend is None:
        yield
        return
    from joblib import parallel_config

    try:
        from distributed import Client, get_client
    except ImportError as exc:
        raise ImportError(
            "backend='dask' needs dask.distributed: pip install 'skanomaly[distributed]'."
        ) from exc
    try:
        get_client()
        client = None
    except ValueError:
        client = Client()
    try:
        with parallel_config(backend="dask"):
            yield
    finally:
        if client is not None:
            client.close()


def _run_cell_in_process(dataset, source, detector, label, seed, *, cell_timeout, **common):
    """:func:`_run_cell` in a fresh Python process, killed (with its children) past the limit."""
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    # The child imports this very copy of skanomaly (a checkout first, as in this process).
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    with tempfile.TemporaryDirectory(prefix="skanomaly_cell_") as folder:
        task, result = Path(folder) / "task.pkl", Path(folder) / "row.pkl"
        task.write_bytes(pickle.dumps(((dataset, source, detector, label, seed), common)))
        code = "from skanomaly.benchmark._runner import _cell_main; _cell_main()"
        process = subprocess.Popen(
            [sys.executable, "-c", code, str(task), str(result)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=os.name == "posix",
        )
        try:
            _, stderr = process.communicate(timeout=cell_timeout)
        except subprocess.TimeoutExpired:
            _kill_tree(process)
            process.communicate()
            return _failed_row(
                dataset, label, seed, common["suite"],
                f"TimeoutError: the cell ran past cell_timeout={cell_timeout:g} s and was stopped",
            )
        if process.returncode != 0 or not result.is_file():
            last = (stderr or b"").decode(errors="replace").strip().splitlines()[-1:] or [""]
            return _failed_row(
                dataset, label, seed, common["suite"],
                f"ChildProcessError: the cell's process exited with code {process.returncode}"
                + (f": {last[0]}" if last[0] else ""),
            )
        return pickle.loads(result.read_bytes())


def _kill_tree(process):
    if os.name == "posix":
        import signal

        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    else:  # pragma: no cover - Windows has no process groups here
        process.kill()


def _cell_main():
    """Entry point of a cell's own process (see :func:`_run_cell_in_process`)."""
    task, result = sys.argv[1], sys.argv[2]
    cell, common = pickle.loads(Path(task).read_bytes())
    row = _run_cell(*cell, **common)
    Path(result).write_bytes(pickle.dumps(row))


def _failed_row(dataset, label, seed, suite, error):
    row = {column: math.nan for column in _FLOAT_COLUMNS}
    row.update(suite=suite, dataset=dataset, detector=label, seed=seed, error=error[:300])
    return row


def _run_cell(
    dataset,
    source,
    detector,
    label,
    seed,
    *,
    suite,
    quick,
    window,
    stride,
    data_home,
    metrics,
    torch_threads,
):
    """One cell of the grid; any exception becomes the row's ``error``."""
    row = _failed_row(dataset, label, seed, suite, "")
    try:
        # The thread limit is undone after the cell: the caller's process keeps its setting.
        with warnings.catch_warnings(), torch_thread_limit(torch_threads):
            warnings.simplefilter("ignore")
            parts = [part.copy() for part in _split(suite, dataset, source, seed, data_home)]
            if suite == "tabular":
                X_train, X_test, _, y_test = parts
                n_features = X_train.shape[1]
            else:
                X_train, X_test, y_test = parts
                n_features = window * X_train.shape[1]
            estimator = make_detector(
                detector,
                suite=suite,
                seed=seed,
                quick=quick,
                window=window,
                stride=stride,
                n_features=n_features,
            )
            result = evaluate(estimator, X_train, X_test, y_test, metrics=metrics)
        for column in _FLOAT_COLUMNS:
            if column in result:
                row[column] = float(result[column])
    except Exception as exc:  # noqa: BLE001 -- a failing cell is recorded, not fatal
        row["error"] = _one_line(exc)
    return row


def _one_line(exc):
    text = " ".join(str(exc).split())
    text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text[:300]


@functools.lru_cache(maxsize=2)
def _split(suite, dataset, source, seed, data_home):
    if isinstance(source, InMemory):
        data = source.arrays
    else:
        data = load_embedded(dataset) if source == "embedded" else source
    if suite == "tabular":
        return tabular_split(data, seed=seed, data_home=data_home)
    return timeseries_split(data, data_home=data_home)
