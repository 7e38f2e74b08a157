import hashlib
import io
import re
import urllib.error
from unittest import mock

import numpy as np
import pytest

from skanomaly.datasets import _adbench, get_data_home, list_adbench, load_adbench, make_anomalies


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


def _fake_npz():
    buffer = io.BytesIO()
    np.savez(buffer, X=np.arange(12.0).reshape(6, 2), y=np.r_[np.zeros(5), np.ones(1)])
    return buffer.getvalue()


def _digests(data):
    blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    return blob, hashlib.sha256(data).hexdigest()


class _Response(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_download_comes_from_the_pinned_commit_and_is_checked(tmp_path, monkeypatch):
    # Issue 21, item 6: downloads came from the moving "main" branch, unchecked.
    data = _fake_npz()
    monkeypatch.setitem(_adbench._CHECKSUMS, "cardio", _digests(data))
    urls = []

    def fake_urlopen(url, timeout):
        urls.append(url)
        return _Response(data)

    with mock.patch("urllib.request.urlopen", side_effect=fake_urlopen):
        X, y = load_adbench("cardio", data_home=tmp_path, return_X_y=True)
    assert X.shape == (6, 2) and y.sum() == 1
    assert urls == [
        f"https://github.com/Minqi824/ADBench/raw/{_adbench._ADBENCH_COMMIT}/adbench/datasets/"
        "Classical/6_cardio.npz"
    ]
    assert (tmp_path / "6_cardio.npz").read_bytes() == data


@pytest.mark.parametrize("which", ["sha256", "blob"])
def test_checksum_mismatch_is_refused_and_nothing_is_kept(tmp_path, monkeypatch, which):
    data = _fake_npz()
    blob, sha256 = _digests(data)
    wrong = (blob, "0" * 64) if which == "sha256" else ("0" * 40, None)
    monkeypatch.setitem(_adbench._CHECKSUMS, "cardio", wrong)
    with mock.patch("urllib.request.urlopen", return_value=_Response(data)):
        with pytest.raises(OSError, match="does not match the pinned checksum") as excinfo:
            load_adbench("cardio", data_home=tmp_path)
    assert sha256 in str(excinfo.value) and "6_cardio.npz" in str(excinfo.value)
    assert list(tmp_path.iterdir()) == []


def test_every_data_set_has_pinned_digests():
    assert re.fullmatch(r"[0-9a-f]{40}", _adbench._ADBENCH_COMMIT)
    assert "/main/" not in _adbench._ADBENCH_URL
    assert sorted(_adbench._CHECKSUMS) == sorted(list_adbench())
    for blob, sha256 in _adbench._CHECKSUMS.values():
        assert re.fullmatch(r"[0-9a-f]{40}", blob)
        assert sha256 is None or re.fullmatch(r"[0-9a-f]{64}", sha256)


def test_shared_files_match_the_pinned_digests(shared_data):
    for path in sorted((shared_data / "tabular").glob("*.npz"))[:5]:
        checksums = _adbench._CHECKSUMS[path.stem]
        _adbench._check_digests(path, checksums, str(path))


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
