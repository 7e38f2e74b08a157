"""Layering of the package: the light subpackages load without torch (issue 19).

Each check runs in a fresh interpreter, since the test session has long imported torch.
"""

import subprocess
import sys

import pytest

TORCH_FREE = ["skanomaly", "skanomaly.metrics", "skanomaly.timeseries", "skanomaly.datasets",
              "skanomaly.injectors", "skanomaly.utils"]


def _loaded_after(statement):
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize("module", TORCH_FREE)
def test_light_subpackages_do_not_import_torch(module):
    loaded = _loaded_after(f"import {module}")
    assert "torch" not in loaded, f"import {module} loads torch"
    assert "skanomaly.detectors" not in loaded


def test_datasets_do_not_import_the_injectors():
    assert not any(m.startswith("skanomaly.injectors") for m in _loaded_after(
        "import skanomaly.datasets"))


def test_lazy_names_resolve():
    loaded = _loaded_after(
        "import skanomaly; skanomaly.AnoRandDetector; from skanomaly.injectors import "
        "GenIASInjector; from skanomaly import metrics"
    )
    assert {"torch", "skanomaly.detectors", "skanomaly.injectors._genias",
            "skanomaly.metrics"} <= loaded
