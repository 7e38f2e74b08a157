"""Data set loaders and synthetic generators."""

from skanomaly.datasets._adbench import list_adbench, load_adbench
from skanomaly.datasets._home import get_data_home
from skanomaly.datasets._synthetic import make_anomalies

__all__ = ["get_data_home", "list_adbench", "load_adbench", "make_anomalies"]
