"""Sphinx configuration of the rsa_mirror documentation (``make docs``).

The build needs no network: intersphinx reads the inventories under ``_inventories/`` (made by
``make_inventories.py``), and the gallery executes every example at its small setting (see
``sphinx_gallery_conf`` below).
"""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
os.environ.setdefault("MPLBACKEND", "Agg")

import rsa_mirror  # noqa: E402

project = "rsa_mirror"
author = "the rsa_mirror authors"
copyright = "the rsa_mirror authors, BSD-3-Clause"
version = release = rsa_mirror.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "README.md", "**/README.md", "auto_examples/*.ipynb", "auto_examples/*.py"]
templates_path = ["_templates"]
# Headings in the Markdown pages jump levels on purpose (a paragraph title under a section).
suppress_warnings = ["myst.header"]

myst_enable_extensions = ["colon_fence", "deflist", "dollarmath"]
myst_heading_anchors = 3

# API reference: one page per public name, Google-style docstrings.
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True, "inherited-members": False, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
napoleon_attr_annotations = True

# Offline intersphinx: the inventories are files in this repository (see make_inventories.py).
INVENTORIES = HERE / "_inventories"
intersphinx_mapping = {
    "python": ("https://docs.python.org/3", str(INVENTORIES / "python.inv")),
    "numpy": ("https://numpy.org/doc/stable", str(INVENTORIES / "numpy.inv")),
    "scipy": ("https://docs.scipy.org/doc/scipy", str(INVENTORIES / "scipy.inv")),
    "matplotlib": ("https://matplotlib.org/stable", str(INVENTORIES / "matplotlib.inv")),
    "pandas": ("https://pandas.pydata.org/docs", str(INVENTORIES / "pandas.inv")),
    "torch": ("https://docs.pytorch.org/docs/stable", str(INVENTORIES / "torch.inv")),
    "rsatoolbox": ("https://rsatoolbox.readthedocs.io/en/stable", str(INVENTORIES / "rsatoolbox.inv")),
}
intersphinx_timeout = 1

# The gallery: every example is shown; those matching GALLERY_EXECUTE (default: all) run during
# the build, each at the small setting its docstring describes (RSA_MIRROR_EXAMPLE_SCALE=docs:
# under a minute each on one CPU core); the others are shown with their code only.
# RSA_MIRROR_GALLERY_EXECUTE (make docs GALLERY=...) overrides the pattern ('^$' runs none);
# RSA_MIRROR_EXAMPLE_SCALE=full runs the examples at their normal scale.
os.environ.setdefault("RSA_MIRROR_EXAMPLE_SCALE", "docs")
GALLERY_EXECUTE = os.environ.get("RSA_MIRROR_GALLERY_EXECUTE", ".")
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": GALLERY_EXECUTE,
    "ignore_pattern": r"__init__\.py",
    "reset_argv": "_gallery.example_argv",
    "within_subsection_order": "sphinx_gallery.sorting.FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "plot_gallery": "True",
    "backreferences_dir": None,
    "matplotlib_animations": False,
}

html_theme = "pydata_sphinx_theme"
html_title = f"rsa_mirror {release}"
html_static_path = ["_static"]
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc"],
}
# Pages without sub-pages have no left sidebar (more width for their tables); the API reference
# and the gallery keep theirs.
html_sidebars = {
    page: []
    for page in (
        "index installation tour recordings networks matlab cli reproducing validation figure4_plan"
        " figure4_grid differences methods_and_options supplements design scale_out benchmarks changelog"
    ).split()
}
html_show_sourcelink = False


def _drop_inherited_type_docstrings(app, what, name, obj, options, lines):
    """Constants (dicts, tuples, ...) have no docstring of their own: show their value, not the type's help."""
    own = type(obj).__doc__
    if what in ("data", "attribute") and own and lines and lines[0].strip() == own.strip().splitlines()[0]:
        lines.clear()


def setup(app):
    """Connect the docstring hook."""
    app.connect("autodoc-process-docstring", _drop_inherited_type_docstrings)
