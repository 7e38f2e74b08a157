"""``backend="dask"``: the benchmark grid on a real (local) ``dask.distributed`` cluster.

The test starts a LocalCluster of two worker processes (the cells are pickled to them over
TCP, as on a remote cluster) and runs a grid of 2 detectors x 2 seeds = 4 cells on it. Needs
the ``[distributed]`` extra (also in ``[dev]``).
"""

import pytest

distributed = pytest.importorskip("distributed", reason="pip install 'skanomaly[distributed]'")

from skanomaly.benchmark import run_benchmark  # noqa: E402


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
        worker_dashboard_address=None, memory_limit="2GiB",
    )
    with distributed.Client(cluster) as client:
        yield client
    cluster.close()


def test_dask_backend_runs_the_cells_on_the_cluster(client, tmp_path):
    with distributed.get_task_stream(client) as stream:
        rows = run_benchmark(
            detectors=["pyod:HBOS", "pyod:ECOD"], datasets=["sklearn_wine"], seeds=[0, 1],
            out=tmp_path, backend="dask", torch_threads=1, progress=False,
        )
    assert sorted((r["detector"], r["seed"]) for r in rows) == [
        ("pyod:ECOD", 0), ("pyod:ECOD", 1), ("pyod:HBOS", 0), ("pyod:HBOS", 1)
    ]
    assert all(r["error"] == "" and 0.0 <= r["auroc"] <= 1.0 for r in rows), rows
    # The cells ran on the cluster's workers (joblib may batch several cells in one task).
    workers = {task["worker"] for task in stream.data}
    assert stream.data and workers <= set(client.scheduler_info()["workers"])
    # Same numbers as in this process.
    local = run_benchmark(
        detectors=["pyod:HBOS", "pyod:ECOD"], datasets=["sklearn_wine"], seeds=[0, 1],
        out=tmp_path / "local", progress=False,
    )
    key = lambda r: (r["detector"], r["seed"], r["auroc"], r["aupr"])  # noqa: E731
    assert sorted(map(key, rows)) == sorted(map(key, local))


def test_cli_connects_to_a_scheduler_address(client, tmp_path, capsys):
    from skanomaly import cli

    address = client.scheduler.address
    status = cli.main([
        "bench", "--detectors", "pyod:HBOS,pyod:COPOD", "--datasets", "sklearn_wine",
        "--seeds", "0,1", "--out", str(tmp_path), "--backend", "dask", "--scheduler", address,
        "--no-plots", "--no-progress",
    ])
    assert status == 0
    assert "4 cells" in capsys.readouterr().out
