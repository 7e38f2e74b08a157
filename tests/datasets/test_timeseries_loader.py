import numpy as np
import pytest

from skanomaly.datasets import load_timeseries


def _write(path, **arrays):
    np.savez(path, **arrays)
    return path


def test_load_by_path_and_by_name(tmp_path):
    _write(
        tmp_path / "toy.npz",
        train=np.zeros(30, dtype=np.float32),
        test=np.ones((12, 1), dtype=np.float32),
        test_labels=np.r_[np.zeros(10), np.ones(2)].astype(np.int8),
        train_labels=np.zeros(30, dtype=np.int8),
    )
    data = load_timeseries(tmp_path / "toy.npz")
    assert data.train.shape == (30, 1) and data.test.shape == (12, 1)
    assert data.test_labels.dtype == np.int64 and data.test_labels.sum() == 2
    assert data.train_labels.shape == (30,) and data.name == "toy"
    by_name = load_timeseries("toy", data_home=tmp_path)
    np.testing.assert_array_equal(by_name.test, data.test)


def test_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="No time-series file"):
        load_timeseries("absent", data_home=tmp_path)
    _write(tmp_path / "bad.npz", train=np.zeros((5, 2)), test=np.zeros((5, 2)))
    with pytest.raises(ValueError, match="test_labels"):
        load_timeseries(tmp_path / "bad.npz")
    _write(tmp_path / "mismatch.npz", train=np.zeros((5, 2)), test=np.zeros((5, 3)), test_labels=np.zeros(5))
    with pytest.raises(ValueError, match="channels"):
        load_timeseries(tmp_path / "mismatch.npz")
    _write(tmp_path / "short.npz", train=np.zeros((5, 2)), test=np.zeros((5, 2)), test_labels=np.zeros(4))
    with pytest.raises(ValueError, match="test_labels has 4"):
        load_timeseries(tmp_path / "short.npz")


def test_loads_a_shared_series(shared_data):
    path = next((shared_data / "timeseries").glob("msl_*.npz"))
    data = load_timeseries(path)
    assert data.train.shape[1] == data.test.shape[1] == 55
    assert data.test_labels.sum() > 0


# ---------------------------------------------------------------------- CSV and TSB-AD files
def _csv(path, text):
    path.write_text(text)
    return path


def test_csv_with_timestamps_values_and_labels(tmp_path):
    path = _csv(
        tmp_path / "machine.csv",
        "timestamp,temp,load,is_anomaly\n"
        "2024-01-01 00:00:00,1.5,10,0\n"
        "2024-01-01 00:05:00,1.7,11,0\n"
        "2024-01-01 00:10:00,9.0,12,1\n"
        "2024-01-01 00:15:00,1.6,10,0\n",
    )
    data = load_timeseries(path)
    assert data.columns == ["temp", "load"]
    np.testing.assert_array_equal(data.test, [[1.5, 10], [1.7, 11], [9.0, 12], [1.6, 10]])
    np.testing.assert_array_equal(data.test_labels, [0, 0, 1, 0])
    assert data.timestamps.dtype == np.dtype("datetime64[ns]")
    assert data.timestamps[1] - data.timestamps[0] == np.timedelta64(5, "m")
    # No split in the name: the unsupervised protocol fits and scores the whole series.
    assert data.train_size == 4 and data.train.shape == (4, 2)
    half = load_timeseries(path, train_size=2)
    np.testing.assert_array_equal(half.train, data.test[:2])
    np.testing.assert_array_equal(half.train_labels, [0, 0])
    by_name = load_timeseries("machine.csv", data_home=tmp_path)
    np.testing.assert_array_equal(by_name.test, data.test)


def test_csv_columns_can_be_named_or_switched_off(tmp_path):
    path = _csv(tmp_path / "plain.csv", "t,a,flag\n0,1.0,0\n1,2.0,1\n2,3.0,0\n")
    unlabelled = load_timeseries(path)  # "t" and "flag" are not recognised names
    assert unlabelled.columns == ["t", "a", "flag"] and unlabelled.test_labels is None
    named = load_timeseries(path, timestamp_column="t", label_column="flag")
    assert named.columns == ["a"] and named.test_labels.tolist() == [0, 1, 0]
    np.testing.assert_array_equal(named.timestamps, [0.0, 1.0, 2.0])  # numbers, not years
    with pytest.raises(ValueError, match="no label column 'y'"):
        load_timeseries(path, label_column="y")


def test_tsb_ad_univariate_and_multivariate_files(tmp_path):
    # TSB-AD: the last column 'Label' holds the point labels; "_tr_<n>_" in the name ends the
    # anomaly-free training prefix, and the whole series is scored.
    values = np.round(np.sin(np.arange(20) / 2), 4)
    labels = (np.arange(20) >= 15).astype(int)
    lines = "".join(f"{v},{lab}\n" for v, lab in zip(values, labels, strict=True))
    uni = _csv(tmp_path / "001_NAB_id_1_Facility_tr_10_1st_15.csv", "Data,Label\n" + lines)
    data = load_timeseries(uni)
    assert data.train_size == 10 and data.columns == ["Data"]
    np.testing.assert_array_equal(data.train[:, 0], values[:10])
    np.testing.assert_array_equal(data.test[:, 0], values)
    np.testing.assert_array_equal(data.test_labels, labels)
    assert data.train_labels.sum() == 0 and data.timestamps is None
    multi_lines = "".join(
        f"{v},{2 * v},{-v},{lab}\n" for v, lab in zip(values, labels, strict=True)
    )
    multi = _csv(
        tmp_path / "057_SMD_id_1_Facility_tr_12_1st_15.csv", "c0,c1,c2,Label\n" + multi_lines
    )
    data = load_timeseries(multi)
    assert data.train.shape == (12, 3) and data.test.shape == (20, 3)
    assert data.name == "057_SMD_id_1_Facility_tr_12_1st_15"


@pytest.mark.parametrize(
    ("text", "kwargs", "message"),
    [
        ("a,label\n1.0,0\n,0\n", {}, r"line 3, column 'a': '' is not a finite number"),
        ("a,label\n1.0,0\nabc,0\n", {}, r"line 3, column 'a': 'abc'"),
        ("a,label\n1.0,0\nnan,0\n", {}, "line 3"),
        ("a,label\n1.0,0\n2.0,2\n", {}, r"line 3, column 'label': labels must be 0"),
        ("a,label\n1.0,0\n2.0\n", {}, "line 3: 1 fields, but the header has 2"),
        ("a,label\n1.0,0\n2.0,0\n", {"train_size": 5}, "train_size must be an int"),
        ("a,label\n1.0,0\n2.0,0\n", {"train_size": 0}, "train_size"),
        ("a\n", {}, "at least one time step"),
        ("label\n0\n1\n", {}, "no value column"),
    ],
)
def test_csv_errors_name_the_line_and_column(tmp_path, text, kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_timeseries(_csv(tmp_path / "bad.csv", text), **kwargs)


def test_tsb_ad_train_index_beyond_the_series(tmp_path):
    path = _csv(tmp_path / "002_X_id_2_Web_tr_50_1st_60.csv", "Data,Label\n1.0,0\n2.0,0\n")
    with pytest.raises(ValueError, match="train_size must be an int between 1 and the 2"):
        load_timeseries(path)
