"""Runner inputs and records: in-memory data, the fail-fast suite check, ADBench downloads,
per-cell time limits, revision stamps, and resuming from blank or older CSVs."""

import json
import os
import time

import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.utils import Bunch

from skanomaly.benchmark import COLUMNS, _runner, read_results, run_benchmark, write_report
from skanomaly.datasets import make_anomalies


class _Sleeper(BaseEstimator):
    """A runaway detector: writes its pid to ``pid_file``, then sleeps ``seconds`` in fit."""

    def __init__(self, pid_file="", seconds=300.0, random_state=None):
        self.pid_file = pid_file
        self.seconds = seconds
        self.random_state = random_state

    def fit(self, X, y=None):
        with open(self.pid_file, "w") as handle:
            handle.write(str(os.getpid()))
        time.sleep(self.seconds)
        return self

    def decision_function(self, X):
        return np.zeros(len(X))


def _wine(out, **kwargs):
    kwargs.setdefault("detectors", ["pyod:HBOS"])
    kwargs.setdefault("datasets", ["sklearn_wine"])
    kwargs.setdefault("seeds", [0])
    return run_benchmark(out=out, progress=False, **kwargs)


# ------------------------------------------------------------------ in-memory data
def test_in_memory_tabular_and_series_items(tmp_path):
    X, y = make_anomalies(300, 4, random_state=0)
    rows = _wine(tmp_path, datasets=[("mine", X, y), "sklearn_wine"], seeds=[0, 1])
    assert sorted((r["dataset"], r["seed"]) for r in rows) == [
        ("mine", 0), ("mine", 1), ("sklearn_wine", 0), ("sklearn_wine", 1)
    ]
    assert all(r["error"] == "" and r["auroc"] > 0.5 for r in rows)
    # The same arrays through the protocol's own tuple path give the same number.
    from pyod.models.hbos import HBOS

    from skanomaly.benchmark import evaluate, tabular_split

    X_train, X_test, _, y_test = tabular_split((X, y), seed=1)
    expected = evaluate(HBOS(), X_train, X_test, y_test)["auroc"]
    mine = next(r for r in rows if r["dataset"] == "mine" and r["seed"] == 1)
    assert mine["auroc"] == pytest.approx(expected, abs=1e-6)

    rng = np.random.default_rng(0)
    train, test = rng.normal(size=(400, 2)), rng.normal(size=(200, 2))
    labels = np.zeros(200, dtype=int)
    test[100:105] += 6.0
    labels[100:105] = 1
    rows = run_benchmark(
        "timeseries", detectors=["pyod:SpectralResidual"], datasets=[("s", train, test, labels)],
        seeds=[0], out=tmp_path, window=20, stride=5, progress=False,
    )
    assert rows[0]["dataset"] == "s" and rows[0]["error"] == "" and rows[0]["vus_pr"] > 0


def test_data_that_does_not_match_the_suite_fails_before_any_cell(tmp_path):
    X, y = make_anomalies(100, 3, random_state=0)
    series = tmp_path / "series.npz"
    np.savez(series, train=np.zeros((50, 2)), test=np.zeros((30, 2)), test_labels=np.zeros(30))
    table = tmp_path / "table.npz"
    np.savez(table, X=X, y=y)
    out = tmp_path / "out"
    with pytest.raises(ValueError, match=r"'series'.*does not match the tabular suite.*"
                                         r"suite='timeseries'"):
        _wine(out, datasets=[str(series)])
    with pytest.raises(ValueError, match=r"'table'.*does not match the timeseries suite"):
        run_benchmark("timeseries", detectors=["pyod:SpectralResidual"], datasets=[str(table)],
                      out=out, progress=False)
    with pytest.raises(ValueError, match=r"in-memory tabular data set is a tuple \(name, X, y\)"):
        _wine(out, datasets=[("a", X, y, y)])
    with pytest.raises(ValueError, match=r"'a' does not match the tabular suite.*X \(100, 3\)"):
        _wine(out, datasets=[("a", X, y[:50])])
    with pytest.raises(ValueError, match="must be unique"):
        _wine(out, datasets=[("a", X, y), ("a", X, y)])
    assert not out.exists()  # nothing ran, no CSV, no plot


def test_adbench_names_use_the_data_home_and_download_on_request(tmp_path, monkeypatch):
    import skanomaly.datasets as datasets

    home = tmp_path / "home"
    monkeypatch.setenv("SKANOMALY_DATA", str(home))
    monkeypatch.chdir(tmp_path)  # the working directory plays no part
    with pytest.raises(ValueError, match=r"'thyroid' is not in .*home.*download=True"):
        _wine(tmp_path / "out", datasets=["thyroid"])
    fetched = []

    def fake_load_adbench(name, *, data_home=None, download=True, return_X_y=False):
        path = datasets.get_data_home(data_home) / f"38_{name}.npz"
        if not path.exists():
            if not download:
                raise FileNotFoundError(path)
            fetched.append(name)
            X, y = make_anomalies(200, 4, random_state=0)
            np.savez(path, X=X, y=y)
        return Bunch(path=path)

    monkeypatch.setattr(datasets, "load_adbench", fake_load_adbench)
    rows = _wine(tmp_path / "out", datasets=["thyroid"], download=True)
    assert fetched == ["thyroid"] and (home / "38_thyroid.npz").is_file()
    assert rows[0]["dataset"] == "thyroid" and rows[0]["error"] == ""


# ------------------------------------------------------------------ per-cell time limit
def test_cell_timeout_stops_a_runaway_cell(tmp_path):
    pid_file = tmp_path / "pid"
    start = time.perf_counter()
    rows = _wine(
        tmp_path, detectors=[("runaway", _Sleeper(pid_file=str(pid_file)))], cell_timeout=20,
    )
    elapsed = time.perf_counter() - start
    assert rows[0]["error"].startswith("TimeoutError: the cell ran past cell_timeout=20 s")
    assert elapsed < 120
    # The cell's process is gone, not left sleeping.
    pid = int(pid_file.read_text())
    time.sleep(0.5)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_cells_in_their_own_process_give_the_same_numbers(tmp_path):
    inline = _wine(tmp_path / "a", seeds=[0, 1])
    limited = _wine(tmp_path / "b", seeds=[0, 1], cell_timeout=300, n_jobs=2)
    key = lambda r: (r["seed"], r["auroc"], r["aupr"])  # noqa: E731
    assert sorted(map(key, inline)) == sorted(map(key, limited))
    with pytest.raises(ValueError, match="cell_timeout must be a positive"):
        _wine(tmp_path / "c", cell_timeout=0)


def test_ray_backend_is_refused_with_a_clear_message(tmp_path):
    with pytest.raises(ValueError, match="backend='ray' is no longer supported.*dask"):
        _wine(tmp_path, backend="ray")


# ------------------------------------------------------------------ revisions and settings
def test_rows_record_version_commit_and_settings(tmp_path):
    import skanomaly

    rows = _wine(tmp_path)
    assert rows[0]["version"] == skanomaly.__version__
    assert rows[0]["commit"] == _runner.current_revision()["commit"]
    assert json.loads(rows[0]["settings"]) == {"quick": False}
    header = (tmp_path / "tabular.csv").read_text().splitlines()[0]
    assert header == ",".join(COLUMNS)


def test_resuming_another_revision_is_refused_unless_asked(tmp_path, monkeypatch):
    _wine(tmp_path)
    monkeypatch.setattr(_runner, "current_revision", lambda: {"version": "9.9", "commit": "abc"})
    with pytest.raises(ValueError, match=r"measured by skanomaly .*not by this skanomaly 9\.9"):
        _wine(tmp_path, seeds=[1])
    rows = _wine(tmp_path, seeds=[1], mix_revisions=True)
    assert sorted(r["version"] for r in rows)[-1] == "9.9" and len(rows) == 2
    # A report refuses to mix them too, unless asked, and then names both.
    with pytest.raises(ValueError, match="mix 2 revisions"):
        write_report(rows, tmp_path / "page.md", plots=False)
    write_report(rows, tmp_path / "page.md", plots=False, mix_revisions=True)
    page = (tmp_path / "page.md").read_text()
    assert "skanomaly 9.9 (commit abc)" in page


def test_legacy_csv_is_read_and_resumed_only_when_asked(tmp_path):
    legacy = tmp_path / "tabular.csv"
    legacy.write_text(
        ",".join(COLUMNS[:10]) + "\n"
        "tabular,sklearn_wine,pyod:HBOS,0,0.9,0.5,,0.1,0.01,\n"
    )
    rows = read_results(legacy)
    assert rows[0]["auroc"] == 0.9 and rows[0]["version"] == "" and rows[0]["commit"] == ""
    with pytest.raises(ValueError, match="unrecorded"):
        _wine(tmp_path, seeds=[1])
    rows = _wine(tmp_path, seeds=[1], mix_revisions=True)
    assert len(rows) == 2
    assert legacy.read_text().splitlines()[0] == ",".join(COLUMNS)  # rewritten, new layout


@pytest.mark.parametrize(
    "content", ["", ",".join(COLUMNS) + "\n", "suite,dataset,detec", ",".join(COLUMNS[:10])]
)
def test_resume_from_a_blank_csv_works_like_a_new_file(tmp_path, content):
    # #21 item 8: a kill before the first row leaves an empty or header-only file.
    (tmp_path / "tabular.csv").write_text(content)
    (tmp_path / "tabular.settings.json").write_text(json.dumps({"quick": False}))
    rows = _wine(tmp_path)
    assert len(rows) == 1 and rows[0]["error"] == ""
    lines = (tmp_path / "tabular.csv").read_text().splitlines()
    assert lines[0] == ",".join(COLUMNS) and len(lines) == 2
