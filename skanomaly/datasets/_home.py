"""Where downloaded data sets live."""

import os
from pathlib import Path

__all__ = ["get_data_home"]


def get_data_home(data_home=None):
    """Return the folder for skanomaly's data sets, creating it if needed.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Explicit folder. ``None`` uses the ``SKANOMALY_DATA`` environment variable, else
        ``~/skanomaly_data``.

    Returns
    -------
    path : pathlib.Path

    Examples
    --------
    >>> from skanomaly.datasets import get_data_home
    >>> get_data_home("/tmp/skanomaly_doc").name
    'skanomaly_doc'
    """
    if data_home is None:
        data_home = os.environ.get("SKANOMALY_DATA", Path("~") / "skanomaly_data")
    path = Path(data_home).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path
