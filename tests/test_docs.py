"""The documentation: every public name documented with an Examples section, the Sphinx build
with warnings as errors, the Markdown report converter and the example scripts.

``test_docs_build`` is the slow one (a full Sphinx build, ~20-60 s on 2 busy cores); it is
marked ``slow`` and skips when Sphinx, numpydoc or the pydata theme are not installed (they come
with the ``docs`` and ``dev`` extras).
"""

import doctest
import importlib.util
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = DOCS / "examples"


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


docs_ext = _load(DOCS / "_ext" / "skanomaly_docs.py", "skanomaly_docs_for_tests")
API, _ = docs_ext.public_api()
PUBLIC_NAMES = [
    (f"{mod_name}.{name}", obj) for mod_name, _, entries in API for name, obj, kind in entries
    if kind in ("class", "function")
]


# ------------------------------------------------------------------------ docstrings
def test_public_api_is_found():
    modules = [mod_name for mod_name, _, _ in API]
    for expected in ("skanomaly", "skanomaly.detectors", "skanomaly.injectors",
                     "skanomaly.metrics", "skanomaly.datasets", "skanomaly.pipeline"):
        assert expected in modules
    names = [name for name, _ in PUBLIC_NAMES]
    assert len(names) == len(set(names))
    # Re-exports are documented once, where they live.
    assert "skanomaly.base.BaseDeepDetector" in names
    assert "skanomaly.BaseDeepDetector" not in names
    assert "skanomaly.utils.all_estimators" in names
    assert "skanomaly.utils.discovery.all_estimators" not in names


@pytest.mark.parametrize("mod_name", [mod_name for mod_name, _, _ in API])
def test_public_module_has_docstring(mod_name):
    module = next(module for name, module, _ in API if name == mod_name)
    assert (inspect.getdoc(module) or "").strip(), f"{mod_name} has no module docstring"


@pytest.mark.parametrize(
    "qualname, obj", PUBLIC_NAMES, ids=[qualname for qualname, _ in PUBLIC_NAMES]
)
def test_public_name_has_examples(qualname, obj):
    """numpydoc convention: every public class/function shows how it is used (doctested)."""
    doc = inspect.getdoc(obj) or ""
    assert doc.strip(), f"{qualname} has no docstring"
    assert re.search(r"^Examples\n-{8,}\n", doc, re.M), (
        f"{qualname}'s docstring has no 'Examples' section (numpydoc: a line 'Examples' "
        "underlined with dashes, followed by doctests on tiny data)"
    )
    examples = doc.split("Examples\n--------", 1)[1]
    assert ">>>" in examples, f"{qualname}'s Examples section has no doctest"


# ------------------------------------------------------------------------ markdown -> reST
REPORT = """\
# Tabular benchmark

Seeds 0-2, mean AUROC. `best_f1` is an **oracle** ([protocol](PROTOCOL.md)).
Fitted threshold_ and labels_ are not used; a | b and * stay literal.

| dataset | IForest | AnoRand |
|---|---:|---:|
| thyroid | 0.95 ± 0.01 | 0.97 |
| wine |  | n/a |

![AUROC per data set](tabular_auroc.png)

- one
- two, with `code`,
  continued on a second line
  and a third
1. numbered
   and continued

```bash
skanomaly bench
```
"""


def test_md_to_rst_renders_the_report_subset():
    docutils_core = pytest.importorskip("docutils.core")
    rst = docs_ext.md_to_rst(REPORT, image_prefix="/benchmarks/")
    assert "Tabular benchmark\n=================" in rst
    assert ".. list-table::" in rst and "     - 0.95 ± 0.01" in rst
    assert ".. image:: /benchmarks/tabular_auroc.png" in rst
    assert "``best_f1`` is an **oracle**" in rst
    assert ".. code-block:: bash" in rst
    # The result is valid reST: no warnings or errors when docutils parses it.
    doctree = docutils_core.publish_doctree(
        rst.replace(".. image:: /benchmarks/", ".. image:: "),
        settings_overrides={"report_level": 2, "halt_level": 5, "warning_stream": False},
    )
    messages = [node.astext() for node in doctree.findall() if node.tagname == "system_message"]
    assert messages == []
    table = next(node for node in doctree.findall() if node.tagname == "table")
    assert len([n for n in table.findall() if n.tagname == "row"]) == 3


def test_docs_ext_doctests():
    result = doctest.testmod(docs_ext, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


# ------------------------------------------------------------------------ example scripts
EXAMPLE_SCRIPTS = sorted(EXAMPLES.glob("*.py"))
# Optional packages an example needs beyond matplotlib (installed by the extras named).
EXAMPLE_NEEDS = {"ensembles_pyod": (("combo", "suod"), "ensembles, dev")}


@pytest.mark.parametrize("script", EXAMPLE_SCRIPTS, ids=[p.stem for p in EXAMPLE_SCRIPTS])
def test_example_runs_on_tiny_data(script, tmp_path):
    """Each example exposes ``main(quick=..., output=...)``; quick=True is the tiny version."""
    matplotlib = pytest.importorskip("matplotlib", reason="the examples plot (extras: bench, dev)")
    matplotlib.use("Agg")
    modules, extras = EXAMPLE_NEEDS.get(script.stem, ((), ""))
    for name in modules:
        pytest.importorskip(name, reason=f"the example needs {name} (extras: {extras})")
    module = docs_ext.load_example(script)
    kwargs = {"quick": True}
    if "output" in inspect.signature(module.main).parameters:
        kwargs["output"] = tmp_path / f"{script.stem}.png"
    result = module.main(**kwargs)
    assert isinstance(result, dict) and result, "main() returns the numbers it printed"
    if "output" in kwargs:
        assert kwargs["output"].stat().st_size > 5_000, "the figure was written"


# ------------------------------------------------------------------------ the build
@pytest.mark.slow
def test_docs_build(tmp_path):
    """Full Sphinx build with -W (warnings are errors), as documented in README.

    Slow: a complete HTML build (imports every public module, renders every docstring).
    """
    for name in ("sphinx", "numpydoc", "pydata_sphinx_theme"):
        pytest.importorskip(name, reason=f"{name} is needed to build the docs (extras: docs, dev)")
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONHASHSEED="0")
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
               "-d", str(tmp_path / "doctrees"), str(DOCS), str(tmp_path / "html")]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, f"sphinx -W failed:\n{result.stderr[-5000:]}"
    html = tmp_path / "html"
    api = (html / "api.html").read_text()
    for qualname, _ in PUBLIC_NAMES:
        assert (html / "api" / "generated" / f"{qualname}.html").exists(), qualname
        assert qualname.rsplit(".", 1)[1] in api
    for page in ("user_guide/conventions", "user_guide/quickstart_tabular",
                 "user_guide/quickstart_timeseries", "user_guide/tuning",
                 "user_guide/gpu_persistence", "detectors/index", "examples/index",
                 "benchmarks/index"):
        assert (html / f"{page}.html").exists(), page


def test_benchmark_summary_compares_on_shared_datasets(tmp_path):
    (tmp_path / "tabular.csv").write_text(
        "suite,dataset,detector,seed,auroc,aupr,vus_pr,fit_s,score_s,error\n"
        "tabular,a,AnoRand,0,0.8,0.4,,1,1,\n"
        "tabular,a,AnoRand,1,0.6,0.2,,1,1,\n"
        "tabular,b,AnoRand,0,,,,1,1,ValueError: boom\n"
        "tabular,a,pyod:IForest,0,0.9,0.5,,1,1,\n"
        "tabular,b,pyod:IForest,0,0.1,0.1,,1,1,\n"
    )
    summary = docs_ext.benchmark_summary(docs_ext.read_benchmark_csvs(tmp_path), "AnoRand")
    metrics, table = summary[("tabular.csv", "tabular")]
    assert metrics == ["auroc", "aupr"]
    # IForest is averaged over data set "a" only, the one where AnoRand has a result.
    assert table == [("pyod:IForest", {"auroc": 0.9, "aupr": 0.5}, 1),
                     ("AnoRand", {"auroc": pytest.approx(0.7), "aupr": pytest.approx(0.3)}, 1)]
    lines = docs_ext.benchmark_rst(tmp_path, "DHAG")
    assert lines[0] == ".. note::" and "no result for ``DHAG``" in "\n".join(lines)


# ------------------------------------------------------------------------ one source of truth
def test_readme_results_are_generated_from_the_suite_csvs():
    """README's results paragraph is the text generated from docs/benchmarks/*/*.csv."""
    pytest.importorskip("scikit_posthocs", reason="rank statistics (extras: bench, dev)")
    readme = (ROOT / "README.md").read_text()
    start, end = readme.index(docs_ext.README_START), readme.index(docs_ext.README_END)
    expected = docs_ext.readme_results(DOCS)
    assert readme[start:end + len(docs_ext.README_END)] == expected, (
        "README's results paragraph is stale; regenerate it with: PYTHONPATH=$PWD python -c "
        "\"import sys; sys.path.insert(0, 'docs/_ext'); import skanomaly_docs; "
        "skanomaly_docs.write_readme_results('.')\""
    )


def test_suite_numbers_are_not_typed_by_hand_in_detector_pages():
    """The runner's mean scores appear only where they are generated (directive, pages)."""
    from skanomaly.benchmark import read_results
    from skanomaly.benchmark._report import _Table

    typed = {}
    for suite in docs_ext.load_suites(DOCS):
        table = _Table(read_results(DOCS / "benchmarks" / suite["csv"]))
        for det in table.detectors:
            if det.startswith("pyod:"):
                continue
            means = [table.detector_mean(det, m)[0] for m in ("auroc", "aupr")]
            typed[f"{means[0]:.3f} / {means[1]:.3f}"] = (suite["page"], det)
    for page in sorted((DOCS / "detectors").glob("*.rst")):
        text = page.read_text()
        for pair, where in typed.items():
            assert pair not in text, f"{page.name} types {where}'s suite means {pair} by hand"


def test_suite_pages_are_generated_from_the_csvs(tmp_path):
    pytest.importorskip("matplotlib")
    pytest.importorskip("scikit_posthocs")
    import shutil

    shutil.copytree(DOCS / "benchmarks", tmp_path / "benchmarks",
                    ignore=shutil.ignore_patterns("generated"))
    pages = docs_ext.write_benchmark_pages(tmp_path)
    names = {page.stem for page in pages}
    assert {"tabular", "timeseries", "timeseries_quick", "genias"} <= names
    titles = [re.search(r"^(\S.*)\n=+\n", page.read_text(), re.M).group(1) for page in pages]
    assert len(titles) == len(set(titles)), "two benchmark pages share a navigation title"
    quick = (tmp_path / "benchmarks" / "generated" / "timeseries_quick.rst").read_text()
    settings = re.search(r"^Settings: (.*)\.$", quick, re.M).group(1)
    assert set(settings.split(", ")) == {"quick=True", "window=100", "stride=10"}
    # The diagram follows the Friedman test of whatever the CSV holds: drawn only when p < 0.05.
    p_value = float(re.search(r"Friedman chi-square = [\d.]+, p = ([\d.e-]+)", quick).group(1))
    drawn = "The critical-difference diagram below" in quick
    assert drawn == (p_value < 0.05) and drawn != ("No critical-difference diagram" in quick)
    tabular = (tmp_path / "benchmarks" / "generated" / "tabular.rst").read_text()
    assert "The critical-difference diagram below" in tabular
    for page in pages:
        assert "/work/" not in page.read_text(), f"{page.name} cites a machine's absolute path"
    # Every detector of a suite CSV is on the detector pages' generated table (no "no result").
    lines = "\n".join(docs_ext.benchmark_rst(tmp_path / "benchmarks", "GenIAS"))
    assert "no result" not in lines and "quick=True" in lines


def _axes_width_px(png):
    """Width in pixels of the longest dark horizontal line of a PNG (the axes' frame)."""
    import matplotlib.image as mpimg
    import numpy as np

    gray = mpimg.imread(png)[..., :3].mean(axis=2)
    best = 0
    for row in gray < 0.3:
        edges = np.flatnonzero(np.diff(np.r_[0, row.astype(np.int8), 0]))
        if len(edges):
            best = max(best, int((edges[1::2] - edges[::2]).max()))
    return best


def test_timeseries_plot_keeps_a_wide_axes_with_long_series_names(tmp_path):
    """Screenshot-level check of the time-series page's per-data-set plot: long series names
    (56 characters) once squeezed its axes to about 40 px; they now keep >= 400 px at 110 dpi."""
    pytest.importorskip("matplotlib")
    pytest.importorskip("scikit_posthocs")
    from skanomaly.benchmark import plot_results

    csv_path = DOCS / "benchmarks" / "timeseries_full" / "timeseries.csv"
    paths = plot_results(csv_path, tmp_path, prefix="ts")
    datasets_png = next(p for p in paths if p.name == "ts_datasets.png")
    assert _axes_width_px(datasets_png) >= 400
    for png in paths:
        assert _axes_width_px(png) >= 300, png.name
