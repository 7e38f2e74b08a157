"""ADBench's classical tabular data sets (``.npz`` files with ``X`` and ``y``)."""

import hashlib
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
# Downloads come from one fixed commit of ADBench (the data files last changed in f7fed68,
# 2023-07-17), never from a moving branch, and are checked against the digests below before
# they are kept.
_ADBENCH_COMMIT = "3dac8221081e190f157d78e93bfa8867f90d0965"
_ADBENCH_URL = (
    "https://github.com/Minqi824/ADBench/raw/{commit}/adbench/datasets/Classical/"
    "{number}_{name}.npz"
)
# name: (git blob SHA-1 of the file at _ADBENCH_COMMIT, SHA-256 of the file). The blob id comes
# from the commit's tree (``git ls-tree``) and is checked for every file; the SHA-256 (stronger
# against deliberate forgery) is missing for the four largest files, whose content was not at
# hand when the table was made.
_CHECKSUMS = {
    "ALOI": (
        "1bfa7aba7b338c8b854572ff86c1b402102e3dc7",
        "792d0b5bd1147bfc9574a1974f157b39fbd4cbed8ecd04cf983fd554498ed477",
    ),
    "annthyroid": (
        "56a1893bd25852ce6ae6f7a69f71eac4ad0b7cc4",
        "e738f7c58a8740d2c4aac4c71ff49ce5e1d1aa16f44178135fc9c09df05fad1b",
    ),
    "backdoor": (
        "37a78da210e0adad9dc31a55ab741e11a3892a1d",
        None,
    ),
    "breastw": (
        "86c03336d103c5de6d7c51869e46abe3e4cb359a",
        "4f37ce07dbc25ddad8178fdc6d664ab46d2d0000ee28c2787c3c7ff3c03ef9f6",
    ),
    "campaign": (
        "85b2116c39a8faaa171edd325619b3d4645ab762",
        "74dd4d0072d6c6f1aabab63bc102f9633454f32bb936fa9bcfbd38f9f2386bcd",
    ),
    "cardio": (
        "30f9e14ea169b1a97146e1d86863280b1191de36",
        "bc5009bde6930b4d298b594f31b34485a9a17210cff0e8fb00a8c3068b885a2d",
    ),
    "Cardiotocography": (
        "01e4975721a6fcf52f4d969020da65ab9bd6b850",
        "5ae84910430f05923e11b6f537243263977c9136949dabd891e3570aeec51e29",
    ),
    "celeba": (
        "12f4400453c1941fbd39c4bbd493ce04dcc9a5b1",
        "1cadfdea14cd8d240eca715a70c09c88af8621d086a7478c63f602d97adef0b5",
    ),
    "census": (
        "8707b01b13fda641a7b5a17b2168254757f16980",
        None,
    ),
    "cover": (
        "478003ba7bfab18a0012fa4fa8c5c47522630315",
        "945a097c3542ae81a551bf1c06dcad78a755d94f84fcaf1d60687e42d1a656df",
    ),
    "donors": (
        "85057706d6f834a8bda268f3521151ca262f5c9b",
        "5824ec854465f2763b4bfe3da1ae9f25ed5433b5c6e265d42e37da4f82a58679",
    ),
    "fault": (
        "4a6e7bf6fd753f4719dad820732a2e131a7ac9cf",
        "ec27301f9a4cf7c5d8b22c360cf37ddb043b7fb062465723dfd8b34e2771e5dd",
    ),
    "fraud": (
        "143e1103134efa628e9996385620bb8a995b7914",
        None,
    ),
    "glass": (
        "06728933b15381d0f325575be4f766bfcd53ed9d",
        "aa7a8db1d475ba01a10488af454bc15220a3d5951b010b03b7020567d8152cdc",
    ),
    "Hepatitis": (
        "9a7b470d407c0dd7676d12c82aa7dcf657908482",
        "4a87a2f7d8013e5bfde63294fae61ec7a612322de72f338a7f9491749025ad98",
    ),
    "http": (
        "b4f500242fea22052ad10d1f1bb99b84f17be897",
        "9d98710091551587f4740cfc851a6b064fff6319a337c2dc77ee6da4bcc2e02c",
    ),
    "InternetAds": (
        "68794e573dacebc3c532d2c7ac25d20de3f614dd",
        "bdd8ad5cf5bf2cb96cba53dde30d522d0f6a279083a8e2bc7efbac5981b04385",
    ),
    "Ionosphere": (
        "56b8a9c4cf0273c16bbf73640d7c78fe5b79a8d3",
        "bca46cb0cfd1bf9ddef6cde5ad2215d54fb0189508d0d4c4eb98e788cad69001",
    ),
    "landsat": (
        "6ea2033dc529e6a770b2391eda78d702dc296ec5",
        "ba17e2158c07469597b89db49d3982c874c6b713ff6670721ddc88969da77987",
    ),
    "letter": (
        "2e65f8354dd379bcd7ea72c6d36e16fec3119870",
        "f986d3da80cf1fa2aea83a5ebe73b7d4800e0d4c01fdd1ae074b58d20f10d039",
    ),
    "Lymphography": (
        "eaab3363b01470da6cf92f102e1a6398b757a5af",
        "dad977b04f4ea65b78ccd0e9f76b45175bad605165b37e63f3cc177845e67037",
    ),
    "magic.gamma": (
        "9ad81750da92ac69578b994c3d40ed0349e021f8",
        "0be375984d7af9ea7a63b12206c240840d8b7daa3607021c5fb8756407dd86f1",
    ),
    "mammography": (
        "d2d4ab6275617e8583613607b5099b8d1c4f1e53",
        "a0308ac9712d78321073b1c2dc98dc37665c0f35c1cc33019416fe8f8d7de7ea",
    ),
    "mnist": (
        "0789fd94518864ed04bcd5da0af2b2e98d049f76",
        "be7706272325fdd3592c1be555ae1a82f916a2f8545f4f8cbaa548ab102cc44c",
    ),
    "musk": (
        "85d60287b921f3cb79050373e1cd54acf51dad0e",
        "2ed3f4392197b76a1e59116ff880c7720a4b026cf4842073a53b56fdea265017",
    ),
    "optdigits": (
        "aa8d646047fe185406fcf039b54ff8c85c02732c",
        "60de17a375a278ba220a7849727d998aa02b5e2f9fd17732a004bba28de4656e",
    ),
    "PageBlocks": (
        "83fba845f67ba43c88c81b108323e0c9723d93f1",
        "10a9b4d5bb5d3b9083caab4c4062f665610eada703c3d927bf7c34b1f2d0d223",
    ),
    "pendigits": (
        "df9446304fd3bcc39244b2ea4ebc69804626432f",
        "c4936b89dcdad59d303020e492f763a0f54170080d787c77497609acbb9c2d79",
    ),
    "Pima": (
        "ffb0774c3b6a02c769b0102cc674c2f248625810",
        "215454bb263a2f040945c9ea7bd7f06f1e89a61a3143bdb6f196e3887e801a7d",
    ),
    "satellite": (
        "cdb252e0dcfefc7354e4dae8a279ae431c1786cb",
        "1f048f5686f1b8c16a227fdfa3c81a62cd9a92715714a6b24c69b1c5ad96b46e",
    ),
    "satimage-2": (
        "2b45ae3ccf00d67d0f0360405a25240b2220cfd6",
        "1b056e357f801b8b20c3f380a30224a3c4088d7ed764ec5a24828dc9b1918d6f",
    ),
    "shuttle": (
        "d36c90e857b321b9da659ba35620ea8d73e371a9",
        "26900b0f6be45d9ddb7a402c9b2f956ceda42d23a8ca4cf4406b8bc1352823d1",
    ),
    "skin": (
        "110a118c2e1d0211875b33adf506ac3d8a93c1f2",
        "d02aa01ffc1b6bf2b8b1ac250c90e8a8eacd0cefc962940ed5cc4bf5deac9c95",
    ),
    "smtp": (
        "b71adf3279a0bef20672f84a7e67a7b8c1b0f9c3",
        "d2569fc9bc12115419e3f5b37d19921e10e6c26e5ad1e61064cfb0fbc402dfdd",
    ),
    "SpamBase": (
        "2d51e888cc8e024fffb0405031b6ac6108d3d5c7",
        "d0c46c7928e43f6496bcd06e09de0b70f6bc8143792dfa0a43f450263d254e9b",
    ),
    "speech": (
        "fc359ca4c5066c35a0330867a92f0b8511292f07",
        None,
    ),
    "Stamps": (
        "622fd1deaff2a6ff08a8e01de59a4feb14bf4c66",
        "99fe739447284f613fa54bf2dccdb51c5120175ce6260adec6dad77576c42509",
    ),
    "thyroid": (
        "bbd5bae673019978903eb044402e5bbc64a0194d",
        "8de161b3f235b7647bb0b39a836d983ff61d67bf234edac461da2d71e889cb87",
    ),
    "vertebral": (
        "10be320bfe9d23d96ac58f1a1c2c7922098d5d27",
        "0816286f92b96fe6867664a41a031ac7228dcfbf1a5feefe50ca3883b2e9073d",
    ),
    "vowels": (
        "a44f4140b53752f62ed1e8a4e6284f699e8f9ba1",
        "4bfc4244d1c882773bbbc50d4a5db5e52276e53506e46b2d45e02d074cfcb1b6",
    ),
    "Waveform": (
        "1f30da71f0e427b603cb600889e3125f08718acc",
        "6c9d867337ad1a2f8372c1d27f4c032f0401237e2041b7c45f00de8d319ff30f",
    ),
    "WBC": (
        "351ef3e6c0cc86105e3a1cc6095de44235adf8a4",
        "650f9dcb129248f67a291be0974f533ef259fcbde50fce5c8ad2a1cb2652d03b",
    ),
    "WDBC": (
        "3d15d48cfb386646bcd7c2449868aa1a5222840a",
        "78d4606a1ab516f5b60b00c196497f3bbd6bd5e4548fd04cf5f2475209b34b85",
    ),
    "Wilt": (
        "e1353a1658dca23ba1d4f27403818b34207f8edf",
        "c70b72aa611ec87b20efb400943ef3ce4f8bf7aa58fcef825fbd28cc5cee3cc9",
    ),
    "wine": (
        "78a2a5cb7e0e0a1d274ddeb3e4278f874f85cfc1",
        "d5ad8965d92cc57122fe1e6572bb301adbaf795b3e166d187ae00a704d8f6e20",
    ),
    "WPBC": (
        "589b3a5b3e4ed8b521e55d0a430b0716fc21c7d4",
        "68a6d67242643855713bcdad07d89ecc472bd00000dccc17ba87916eb2693d19",
    ),
    "yeast": (
        "2e41ff3a2d32c2760cd4917b08456b4e28fc9db9",
        "bbb15c873d78a4f6a589f46d0f75814595e2282d2ae7ce7779c750f276c3770d",
    ),
}


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
    ``<number>_<name>.npz``; if absent and ``download=True``, it is fetched from a pinned
    commit of ADBench's public repository into ``data_home`` and kept only when its checksum
    matches the one recorded for that file. Files already in ``data_home`` are used as they
    are.

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
        the file in; or if the downloaded file does not match its pinned checksum.

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
        url = _ADBENCH_URL.format(commit=_ADBENCH_COMMIT, number=number, name=canonical)
        if not download:
            raise FileNotFoundError(
                f"ADBench data set {canonical!r} is not in {home}; call with download=True, "
                f"or download {url} into that folder."
            )
        path = _download(url, candidates[1], _CHECKSUMS[canonical])
    with np.load(path, allow_pickle=False) as archive:
        X = np.asarray(archive["X"], dtype=np.float64)
        y = np.asarray(archive["y"]).astype(np.int64).ravel()
    if return_X_y:
        return X, y
    return Bunch(data=X, target=y, name=canonical, path=str(path))


def _download(url, destination, checksums):
    destination = Path(destination)
    tmp = None
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            with tempfile.NamedTemporaryFile(dir=destination.parent, delete=False) as tmp:
                shutil.copyfileobj(response, tmp)
    except (urllib.error.URLError, OSError) as exc:
        if tmp is not None:
            Path(tmp.name).unlink(missing_ok=True)
        raise OSError(
            f"Could not download {url} ({exc}). Without network access, download the file "
            f"elsewhere and put it in {destination.parent} (as {destination.name})."
        ) from exc
    try:
        _check_digests(Path(tmp.name), checksums, url)
    except OSError:
        Path(tmp.name).unlink(missing_ok=True)
        raise
    Path(tmp.name).replace(destination)
    return destination


def _check_digests(path, checksums, url):
    """Raise ``OSError`` unless ``path`` has the pinned git blob id and SHA-256."""
    expected_blob, expected_sha256 = checksums
    data = path.read_bytes()
    # A git blob id is the SHA-1 of "blob <size>\0" followed by the content.
    blob = hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()
    sha256 = hashlib.sha256(data).hexdigest()
    if blob != expected_blob or (expected_sha256 is not None and sha256 != expected_sha256):
        raise OSError(
            f"The file downloaded from {url} ({len(data)} bytes) does not match the pinned "
            f"checksum (SHA-256 {sha256}, git blob {blob}; expected "
            f"{expected_sha256 or 'n/a'}, git blob {expected_blob}): it is corrupted or was "
            "changed upstream, and it was not kept. Retry, or download it by hand."
        )
