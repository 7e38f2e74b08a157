"""Quick settings of the window detectors, the matrix-profile baseline and the panel script
``benchmarks/timeseries.py`` (issue 17, items 2 and 5)."""

import importlib.util
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from skanomaly.benchmark import _registry, list_detectors, make_detector, read_results
from skanomaly.benchmark._baselines import MatrixProfileAB
from skanomaly.timeseries import TimeSeriesDetector

_SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "timeseries.py"


def _naive_stump(T_A, m, T_B, ignore_trivial=False):
    """stumpy.stump's AB-join column 0 (z-normalised nearest-neighbour distance), by hand:
    the tests do not pay stumpy's numba compilation (~40 s)."""

    def znorm(windows):
        std = windows.std(axis=1, keepdims=True)
        return (windows - windows.mean(axis=1, keepdims=True)) / np.where(std > 0, std, 1)

    a = znorm(np.lib.stride_tricks.sliding_window_view(T_A, m))
    b = znorm(np.lib.stride_tricks.sliding_window_view(T_B, m))
    distances = np.sqrt(np.maximum(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1), 0))
    out = np.empty((len(a), 4), dtype=object)
    out[:, 0] = distances.min(axis=1)
    return out


@pytest.fixture
def fake_stumpy(monkeypatch):
    monkeypatch.setitem(sys.modules, "stumpy", types.SimpleNamespace(stump=_naive_stump))


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("timeseries_panel_script", _SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _sine_file(folder, name, seed, n_train=300, n_test=300):
    rng = np.random.default_rng(seed)
    t = np.arange(n_train + n_test)
    series = np.sin(2 * np.pi * t / 25)[:, None] + 0.05 * rng.normal(size=(len(t), 2))
    test = series[n_train:].copy()
    labels = np.zeros(n_test, dtype=np.int8)
    test[150:160] += 2.0
    labels[150:160] = 1
    np.savez_compressed(
        folder / f"{name}.npz",
        train=series[:n_train].astype(np.float32),
        test=test.astype(np.float32),
        test_labels=labels,
    )


@pytest.fixture
def tiny_panel(tmp_path):
    folder = tmp_path / "series"
    folder.mkdir()
    for seed, name in enumerate(("tiny_a", "tiny_b")):
        _sine_file(folder, name, seed)
    (folder / "PANEL.txt").write_text("tiny_a\ntiny_b\n")
    return folder


# ---------------------------------------------------------------------- quick settings
@pytest.mark.parametrize("name", ["AnoRand", "DHAG", "GenIAS", "ASTER"])
def test_quick_settings_are_parameters_of_each_detector(name):
    detector = make_detector(name, suite="timeseries", seed=2, quick=True, window=50, stride=5)
    assert isinstance(detector, TimeSeriesDetector)
    assert (detector.window, detector.stride, detector.max_fit_windows) == (50, 5, 1000)
    inner = detector.detector.get_params()
    quick = _registry._OURS_QUICK[name]
    assert {key: inner[key] for key in quick} == quick and inner["random_state"] == 2
    # Every stage gets few epochs: no setting above 10.
    assert all(v <= 10 for k, v in quick.items() if k.endswith("epochs"))
    full = make_detector(name, suite="timeseries", window=50)
    assert full.max_fit_windows == "auto"
    defaults = full.detector.get_params()
    assert any(defaults[key] != value for key, value in quick.items())
    assert set(_registry._OURS_QUICK) == set(_registry._OURS)


# ---------------------------------------------------------------------- matrix profile
def test_matrix_profile_ab_join_finds_the_discord(fake_stumpy):
    rng = np.random.default_rng(0)
    t = np.arange(600)
    series = np.sin(2 * np.pi * t / 25)[:, None] + 0.05 * rng.normal(size=(600, 2))
    test = series[300:].copy()
    test[150:160, 1] += np.linspace(0, 1.5, 10)  # a shape change on one channel
    scores = MatrixProfileAB(window=20).fit(series[:300]).decision_function(test)
    assert scores.shape == (300,) and np.isfinite(scores).all()
    assert scores[150:160].mean() > np.quantile(scores, 0.9)
    assert "stumpy:MatrixProfile" in list_detectors("timeseries")
    assert "stumpy:MatrixProfile" not in list_detectors("tabular")
    assert make_detector("stumpy:MatrixProfile", suite="timeseries", window=30).window == 30


def test_matrix_profile_errors(monkeypatch):
    with pytest.raises(ValueError, match="shorter than window=50"):
        MatrixProfileAB(window=50).fit(np.zeros((20, 1)))
    model = MatrixProfileAB(window=5).fit(np.random.default_rng(0).normal(size=(40, 2)))
    monkeypatch.setitem(sys.modules, "stumpy", None)  # not installed
    with pytest.raises(ImportError, match=r"skanomaly\[bench\]"):
        model.decision_function(np.zeros((40, 2)))


# ---------------------------------------------------------------------- the script
def test_panel_script_runs_resumes_and_tabulates(script, tiny_panel, tmp_path, fake_stumpy, capsys):
    out = tmp_path / "out"
    argv = [
        "--data-home", str(tiny_panel),
        "--detectors", "pyod:TimeSeriesOD,pyod:SpectralResidual,stumpy:MatrixProfile,AnoRand",
        "--seeds", "0,1", "--window", "16", "--quick", "--out", str(out),
        "--no-progress",
    ]
    assert script.main(argv) == 0
    rows = read_results(out / "timeseries.csv")
    # Two seeds of the stochastic detectors, one of the deterministic baselines.
    assert len(rows) == 2 * (2 * 2 + 2) and not any(row["error"] for row in rows)
    assert {r["seed"] for r in rows if r["detector"] == "stumpy:MatrixProfile"} == {0}
    assert {row["dataset"] for row in rows} == {"tiny_a", "tiny_b"}  # from PANEL.txt
    table = capsys.readouterr().out
    assert table.splitlines()[0].startswith("| detector | mean VUS-PR | mean AUROC")
    assert table.count("| 2 | 0 |") == 4  # every detector: 2 series, no failed cell
    # Resumed: nothing runs again, the rows (and their timings) are unchanged.
    assert script.main(argv) == 0
    assert read_results(out / "timeseries.csv") == rows
    assert script.main(["--table", "--out", str(out), "--data-home", str(tiny_panel)]) == 0
    assert "mean VUS-PR" in capsys.readouterr().out


def test_panel_table_means_over_seeds_then_series(script):
    def row(dataset, detector, seed, vus, error=""):
        return dict(dataset=dataset, detector=detector, seed=seed, vus_pr=vus, auroc=0.5,
                    aupr=0.1, fit_s=1.0, score_s=0.5, error=error)

    rows = [row("a", "X", 0, 0.2), row("a", "X", 1, 0.4), row("b", "X", 0, 0.9),
            row("a", "Y", 0, 0.1), row("b", "Y", 0, float("nan"), error="boom")]
    lines = script.panel_table(rows).splitlines()
    assert lines[2] == "| X | 0.600 | 0.500 | 0.100 | 1.00 | 0.50 | 2 | 0 |"  # (0.3 + 0.9) / 2
    assert lines[3] == "| Y | 0.100 | 0.500 | 0.100 | 1.00 | 0.50 | 1 | 1 |"


def test_budget_series_and_table(script, tmp_path, capsys):
    series = script.budget_series()
    assert series.shape == (10_000, 3)
    t = np.arange(10_000)
    clean = np.sin(2 * np.pi * t[:, None] / 50 + np.arange(3))
    assert (series - clean).std() == pytest.approx(0.1, rel=0.05)
    out = tmp_path / "budget"
    argv = ["--budget", "--budget-steps", "400", "--window", "20", "--budget-out", str(out),
            "--detectors", "pyod:IForest"]
    assert script.main(argv) == 0
    rows = script._read_budget(out / "timeseries_budget.csv")
    assert [r["detector"] for r in rows] == ["pyod:IForest"] and not rows[0]["error"]
    assert rows[0]["wall_s"] > 0 and rows[0]["cpu_s"] > 0 and rows[0]["n_fit_windows"] == "381"
    text = (out / "timeseries_budget.md").read_text()
    assert text.startswith("# Default fits")
    assert "| pyod:IForest |" in text and "| yes |" in text and "400 steps x 3 channels" in text
    # A fit past the time limit is recorded as such (and runs again next time).
    argv_slow = [*argv[:-1], "AnoRand", "--cell-timeout", "0.01"]
    assert script.main(argv_slow) == 0
    rows = script._read_budget(out / "timeseries_budget.csv")
    assert [r["detector"] for r in rows] == ["pyod:IForest", "AnoRand"]
    assert rows[1]["error"].startswith("TimeoutError")
