"""Sphinx configuration for skfral.

Build (offline, warnings are errors)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

``SKFRAL_DOCS_NO_GALLERY=1`` renders the example gallery without running the
examples (no plots, no outputs): a quick build to check the pages.
``SKFRAL_DOCS_TORCH_THREADS`` sets the torch threads of the examples (default 1).
"""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # the checkout's skfral, also without `pip install -e .`
os.environ.setdefault("MPLBACKEND", "Agg")

import torch  # noqa: E402

import skfral  # noqa: E402

# The gallery runs tiny nets in this process. On a small shared CPU they run
# several times faster on one torch thread than on all of them.
torch.set_num_threads(int(os.environ.get("SKFRAL_DOCS_TORCH_THREADS", "1")))

# -- Project -------------------------------------------------------------------
project = "skfral"
author = "the skfral developers"
copyright = "the skfral developers"  # noqa: A001
release = skfral.__version__
version = ".".join(release.split(".")[:2])

# -- General -------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "sphinx.ext.mathjax",
]
# No intersphinx: the build must work offline.

templates_path = ["_templates"]
exclude_patterns = ["_build", "auto_examples/**/*.ipynb", "auto_examples/**/*.py"]
root_doc = "index"
default_role = "literal"

# -- autodoc / autosummary / numpydoc -----------------------------------------
autosummary_generate = True
autodoc_typehints = "none"
# skorch's docstrings (inherited by the methods RobustNeuralNetClassifier
# overrides) are not numpydoc: document only what skfral writes.
autodoc_inherit_docstrings = False
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# -- sphinx-gallery ------------------------------------------------------------
RUN_GALLERY = os.environ.get("SKFRAL_DOCS_NO_GALLERY", "") in ("", "0")

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "plot_gallery": RUN_GALLERY,
    "subsection_order": [
        "../examples/quickstart",
        "../examples/tabular",
        "../examples/integrations",
        "../examples/robustness",
        "../examples/fairness",
        "../examples/strategies",
        "../examples/images",
        "../examples/scaling",
    ],
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("skfral",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"skfral": None},
    "download_all_examples": False,
    "remove_config_comments": True,
    "min_reported_time": 1,
    "show_memory": False,
}

# -- HTML ----------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skfral {release}"
html_static_path = ["_static"]
html_css_files = ["skfral.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_show_sourcelink = False


# -- Hooks ---------------------------------------------------------------------
def _skip_generated_members(app, what, name, obj, skip, options):
    """Leave out scikit-learn's generated ``set_*_request`` methods (metadata
    routing): their docstrings refer to scikit-learn's own glossary."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_generated_members)
