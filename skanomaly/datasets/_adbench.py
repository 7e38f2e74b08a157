"""ADBench's classical tabular data sets (``.npz`` files with ``X`` and ``y``)."""

import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from skanomaly.datasets._home import get_data_home

__all__ = ["list_adbench", "load_adbench"]

# ADBench numbers its 47 classical sets; files are "<number>_<name>.npz".
_ADBENCH_CLASSICAL = (
    "ALOI annthyroid backdoor breastw campaign cardio Cardiotocography celeba census cover "
    "donors fault fraud glass Hepatitis http InternetAds Ionosphere landsat letter Lymphography "
    "magic.gamma mammography mnist musk optdigits PageBlocks pendigits Pima satellite "
    "satimage-2 shuttle skin smtp SpamBase speech Stamps thyroid vertebral vowels Waveform WBC "
    "WDBC Wilt wine WPBC yeast"
).split()
_ADBENCH_URL = (
    "https://github.com/Minqi824/ADBench/raw/main/adbench/datasets/Classical/{number}_{name}.npz"
)


def list_adbench():
    """Names of ADBench's 47 classical tabular data sets, in ADBench's order.

    Returns
    -------
    names : list of str

    Examples
    --------
    >>> from skanomaly.datasets import list_adbench
    >>> len(list_adbench()), list_adbench()[:3]
    (47, ['ALOI', 'annthyroid', 'backdoor'])
    """
    return list(_ADBENCH_CLASSICAL)


def _canonical_name(name):
    lookup = {n.lower(): n for n in _ADBENCH_CLASSICAL}
    key = str(name).lower().removesuffix(".npz")
    # Accept ADBench's own file stem too ("38_thyroid").
    prefix, _, rest = key.partition("_")
    if prefix.isdigit() and rest in lookup:
        key = rest
    if key not in lookup:
        raise ValueError(
            f"Unknown ADBench data set {name!r}; list_adbench() gives the 47 names."
        )
    return lookup[key]


def load_adbench(name, *, data_home=None, download=True, return_X_y=False):
    """Load an ADBench classical data set, downloading it when asked.

    The file is looked up in ``data_home`` as ``<name>.npz`` or ADBench's
    ``<number>_<name>.npz``; if absent and ``download=True``, it is fetched from ADBench's
    public repository into ``data_home``.

    Parameters
    ----------
    name : str
        Data set name, case-insensitive (see :func:`list_adbench`), e.g. ``"thyroid"``.
    data_home : str or path-like, default=None
        Folder of the files; ``None`` uses ``SKANOMALY_DATA`` or ``~/skanomaly_data``.
    download : bool, default=True
        Whether to download a missing file.
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (n_samples, n_features) float64, ``target`` (n_samples,) int with 1 =
        anomaly, ``name`` and ``path``.
    (X, y) : tuple of ndarray
        If ``return_X_y=True``.

    Raises
    ------
    FileNotFoundError
        If the file is missing and ``download=False``.
    OSError
        If the download fails (offline): the message names the URL and the folder to put
        the file in.

    Examples
    --------
    >>> from skanomaly.datasets import load_adbench
    >>> X, y = load_adbench("thyroid", return_X_y=True)  # doctest: +SKIP
    """
    canonical = _canonical_name(name)
    number = _ADBENCH_CLASSICAL.index(canonical) + 1
    home = get_data_home(data_home)
    candidates = [home / f"{canonical}.npz", home / f"{number}_{canonical}.npz"]
    path = next((p for p in candidates if p.exists()), None)
    if path is None:
        url = _ADBENCH_URL.format(number=number, name=canonical)
        if not download:
            raise FileNotFoundError(
                f"ADBench data set {canonical!r} is not in {home}; call with download=True, "
                f"or download {url} into that folder."
            )
        path = _download(url, candidates[1])
    with np.load(path, allow_pickle=False) as archive:
        X = np.asarray(archive["X"], dtype=np.float64)
        y = np.asarray(archive["y"]).astype(np.int64).ravel()
    if return_X_y:
        return X, y
    return Bunch(data=X, target=y, name=canonical, path=str(path))


def _download(url, destination):
    destination = Path(destination)
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            with tempfile.NamedTemporaryFile(dir=destination.parent, delete=False) as tmp:
                shutil.copyfileobj(response, tmp)
        Path(tmp.name).replace(destination)
    except (urllib.error.URLError, OSError) as exc:
        raise OSError(
            f"Could not download {url} ({exc}). Without network access, download the file "
            f"elsewhere and put it in {destination.parent} (as {destination.name})."
        ) from exc
    return destination
