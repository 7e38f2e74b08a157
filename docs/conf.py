"""Sphinx configuration of the skanomaly documentation.

Build (warnings are errors)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Before reading the sources, this file writes the pages that follow the code:

* ``api.rst``: one ``autosummary`` per public module, from the modules' ``__all__``
  (``docs/_ext/skanomaly_docs.py``), so a new public name is documented without editing
  reST; autosummary writes the per-object pages to ``api/generated/``;
* ``benchmarks/generated/``: the benchmark runner's Markdown reports
  (``docs/benchmarks/*.md``) converted to reST;
* ``examples/generated/``: the figures of the plotting examples, re-run when a script is
  newer than its figure (``SKANOMALY_DOCS_SKIP_PLOTS=1`` keeps existing figures as they are).

All of them are git-ignored.
"""

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# The checkout's package first (not a stale installed copy), then our extension folder.
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS / "_ext"))

import skanomaly_docs  # noqa: E402

import skanomaly  # noqa: E402

# -- project ---------------------------------------------------------------------------------
project = "skanomaly"
author = "skanomaly developers"
copyright = "skanomaly developers"  # noqa: A001
release = skanomaly.__version__
version = ".".join(release.split(".")[:2])

# -- general ---------------------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "skanomaly_docs",
]
templates_path = ["_templates"]
exclude_patterns = ["_build", "**/.ipynb_checkpoints"]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
default_role = "literal"

# autodoc / autosummary: one page per public object, documented where its __all__ puts it.
autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"
autodoc_member_order = "groupwise"
autodoc_inherit_docstrings = True

# numpydoc renders the docstrings; member tables would duplicate autodoc's ``:members:``.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# -- html ------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skanomaly {release}"
# _static/skanomaly.css: wide tables scroll, long code lines wrap (benchmark pages, detector
# pages).
html_static_path = ["_static"]
html_css_files = ["skanomaly.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"**": ["sidebar-nav-bs"]}
html_show_sourcelink = False

# -- pages generated from the code -----------------------------------------------------------
skanomaly_docs.write_api_page(DOCS)
skanomaly_docs.write_benchmark_pages(DOCS)
skanomaly_docs.write_example_figures(DOCS, skip=os.environ.get("SKANOMALY_DOCS_SKIP_PLOTS") == "1")
