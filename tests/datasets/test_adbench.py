import urllib.error
from unittest import mock

import numpy as np
import pytest

from skanomaly.datasets import get_data_home, list_adbench, load_adbench, make_anomalies


@pytest.fixture
def adbench_home(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "38_thyroid.npz", X=rng.normal(size=(20, 6)), y=np.r_[np.zeros(18), np.ones(2)])
    return tmp_path


def test_list_adbench_has_47_classical_sets_in_adbench_order():
    names = list_adbench()
    assert len(names) == 47
    assert names.index("thyroid") == 37  # ADBench's file is 38_thyroid.npz


def test_load_from_data_home_by_either_file_name(adbench_home):
    data = load_adbench("Thyroid", data_home=adbench_home, download=False)
    assert data.data.shape == (20, 6) and data.target.sum() == 2
    assert data.name == "thyroid" and data.target.dtype == np.int64
    X, y = load_adbench("38_thyroid", data_home=adbench_home, download=False, return_X_y=True)
    np.testing.assert_array_equal(X, data.data)


def test_missing_file_without_download(adbench_home):
    with pytest.raises(FileNotFoundError, match="download=True"):
        load_adbench("cardio", data_home=adbench_home, download=False)


def test_offline_download_names_url_and_folder(adbench_home):
    with mock.patch("urllib.request.urlopen", side_effect=urllib.error.URLError("offline")):
        with pytest.raises(OSError) as excinfo:
            load_adbench("cardio", data_home=adbench_home)
    message = str(excinfo.value)
    assert "6_cardio.npz" in message and "Minqi824/ADBench" in message
    assert str(adbench_home) in message
    assert not list(adbench_home.glob("tmp*"))


def test_unknown_name():
    with pytest.raises(ValueError, match="list_adbench"):
        load_adbench("not-a-dataset", download=False)


def test_data_home_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SKANOMALY_DATA", str(tmp_path / "env_home"))
    assert get_data_home() == tmp_path / "env_home"


def test_shared_adbench_files_load(shared_data):
    X, y = load_adbench("thyroid", data_home=shared_data / "tabular", download=False, return_X_y=True)
    assert X.shape == (3772, 6) and 0 < y.mean() < 0.1


@pytest.mark.parametrize("kind", ["global", "local", "cluster", "dependency"])
def test_make_anomalies(kind):
    X, y = make_anomalies(300, 5, contamination=0.1, anomaly_type=kind, random_state=0)
    assert X.shape == (300, 5) and y.sum() == 30
    X2, _ = make_anomalies(300, 5, contamination=0.1, anomaly_type=kind, random_state=0)
    np.testing.assert_array_equal(X, X2)


def test_make_anomalies_rejects_bad_arguments():
    with pytest.raises(ValueError, match="anomaly_type"):
        make_anomalies(anomaly_type="weird")
    with pytest.raises(ValueError, match="contamination"):
        make_anomalies(contamination=0.9)
