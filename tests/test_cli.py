"""The ``skanomaly`` console script."""

import pytest

from skanomaly import cli
from skanomaly.benchmark import _datasets, _runner


def test_bench_without_arguments_runs_the_quick_suite(tmp_path, monkeypatch, capsys):
    # The no-argument path on a tiny configuration: one embedded set, two baselines.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(_datasets, "EMBEDDED_TABULAR", ("sklearn_wine",))
    monkeypatch.setitem(_runner.DEFAULT_DETECTORS, "tabular", ("pyod:HBOS", "pyod:COPOD"))
    assert cli.main(["bench", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "| detector | mean AUROC" in out and "(quick settings)" in out
    results = tmp_path / "results"
    assert (results / "tabular.csv").read_text().count("\n") == 3  # header + 2 cells, seed 0
    for name in ("tabular.md", "tabular_datasets.png", "tabular_box.png", "tabular_ranks.png"):
        assert (results / name).is_file()


def test_bench_options_and_report_path(tmp_path, capsys):
    report = tmp_path / "docs" / "wine.md"
    status = cli.main(
        [
            "bench",
            "--detectors",
            "pyod:HBOS",
            "--datasets",
            "sklearn_wine",
            "--seeds",
            "1,2",
            "--out",
            str(tmp_path / "out"),
            "--report",
            str(report),
            "--no-plots",
            "--no-progress",
        ]
    )
    assert status == 0
    assert "2 cells" in capsys.readouterr().out
    assert "--seeds 1,2" in report.read_text()
    assert not list(report.parent.glob("*.png"))


def test_bench_bad_arguments_exit_with_a_message(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["bench", "--detectors", "pyod:Nope", "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "Unknown detector 'pyod:Nope'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["bench", "--seeds", "a,b"])


def test_version(capsys):
    import skanomaly

    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"skanomaly {skanomaly.__version__}"


def test_bench_adbench_name_without_data_says_how_to_get_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SKANOMALY_DATA", str(tmp_path / "home"))
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["bench", "--datasets", "thyroid", "--out", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "'thyroid' is not in" in err and "--download" in err
    assert not (tmp_path / "out" / "tabular.csv").exists()


def test_bench_ray_and_scheduler_misuse_are_clear_errors(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["bench", "--backend", "ray", "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "backend='ray' is no longer supported" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["bench", "--scheduler", "tcp://127.0.0.1:1", "--out", str(tmp_path)])
    assert "--scheduler needs --backend dask" in capsys.readouterr().err


def test_bench_resumes_from_a_header_only_csv(tmp_path, capsys):
    # A kill between writing the header and the first row (#21 item 8).
    out = tmp_path / "out"
    out.mkdir()
    (out / "tabular.csv").write_text(",".join(_runner.COLUMNS) + "\n")
    args = ["bench", "--detectors", "pyod:HBOS", "--datasets", "sklearn_wine", "--out",
            str(out), "--no-plots", "--no-progress"]
    assert cli.main(args) == 0
    assert "1 cells" in capsys.readouterr().out
    (out / "tabular.csv").write_text("")
    (out / "tabular.settings.json").unlink()
    assert cli.main(args) == 0
    assert (out / "tabular.csv").read_text().count("\n") == 2
