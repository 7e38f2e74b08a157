"""The layers of the package (docs/architecture.rst): who may import whom.

Module-level imports between skanomaly's modules are read from the source (``ast``) and
checked against the table below; imports inside functions (lazy imports) are free. A new
module inherits the rules of its subpackage; a new dependency between layers means changing
this table and the architecture page together.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "skanomaly"

# unit -> units it may import at module level (besides itself). A unit is a subpackage, a
# top-level module, or one of the few modules with their own rule.
ALLOWED = {
    "skanomaly": {"skanomaly._lazy", "skanomaly._version"},
    "skanomaly._version": set(),
    "skanomaly._lazy": set(),
    "skanomaly._distortions": set(),
    "skanomaly.nn": set(),
    "skanomaly.utils": set(),
    "skanomaly.utils._testing": {"skanomaly.base", "skanomaly.nn", "skanomaly.utils"},
    "skanomaly._detector_base": set(),
    "skanomaly._persistence": {"skanomaly._version", "skanomaly.nn"},
    "skanomaly._torch_base": {"skanomaly._persistence", "skanomaly.nn", "skanomaly.utils"},
    "skanomaly.base": {"skanomaly._detector_base", "skanomaly._torch_base", "skanomaly.nn"},
    "skanomaly.datasets": {"skanomaly._distortions", "skanomaly.utils"},
    "skanomaly.metrics": {"skanomaly.utils"},
    "skanomaly.metrics._deep_svdd": {"skanomaly._torch_base", "skanomaly.nn", "skanomaly.utils"},
    "skanomaly.timeseries": {"skanomaly._detector_base", "skanomaly.utils"},
    "skanomaly.injectors": {"skanomaly._distortions", "skanomaly._lazy", "skanomaly.utils"},
    "skanomaly.injectors._genias": {
        "skanomaly._torch_base", "skanomaly.injectors", "skanomaly.nn", "skanomaly.utils",
    },
    "skanomaly.detectors": {
        "skanomaly._detector_base", "skanomaly.base", "skanomaly.injectors", "skanomaly.nn",
        "skanomaly.utils",
    },
    "skanomaly.pipeline": set(),
    # Label-free model selection (issue 16): scores detectors with injected anomalies.
    "skanomaly.model_selection": {
        "skanomaly._detector_base", "skanomaly.base", "skanomaly.injectors", "skanomaly.metrics",
        "skanomaly.utils",
    },
    # The applications on top may use any public part of the package.
    "skanomaly.benchmark": None,
    "skanomaly.cli": None,
}


def _unit(name):
    if name in ALLOWED:
        return name
    parts = name.split(".")
    return ".".join(parts[:2])


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _top_level_imports(path):
    """skanomaly modules imported at module level by ``path`` (``from skanomaly import x``
    counts as importing ``skanomaly.x`` when ``x`` is a module)."""
    imported = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(
            "skanomaly"
        ):
            if node.module == "skanomaly":
                for alias in node.names:
                    sub = PACKAGE / alias.name
                    is_module = sub.is_dir() or sub.with_suffix(".py").exists()
                    imported.add(f"skanomaly.{alias.name}" if is_module else "skanomaly")
            else:
                imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported.update(a.name for a in node.names if a.name.startswith("skanomaly"))
    return imported


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[_module_name(p) for p in MODULES])
def test_module_imports_follow_the_layers(path):
    unit = _unit(_module_name(path))
    assert unit in ALLOWED, f"{unit} has no rule in ALLOWED (tests/test_architecture.py)"
    allowed = ALLOWED[unit]
    if allowed is None:
        return
    imported = {_unit(name) for name in _top_level_imports(path)} - {unit}
    # A module with its own rule may import the rest of its subpackage.
    imported -= {_unit(".".join(unit.split(".")[:2]))} if unit.count(".") > 1 else set()
    assert imported <= allowed, (
        f"{_module_name(path)} imports {sorted(imported - allowed)} at module level; "
        "see docs/architecture.rst for who may import whom"
    )
