"""Package-level checks for skfral.datasets: exports, no torch, shipped files."""

import ast
import gzip
from importlib import resources
from pathlib import Path

import pytest

import skfral.datasets as datasets

PACKAGE_DIR = Path(datasets.__file__).parent


def test_public_names():
    assert sorted(datasets.__all__) == sorted(
        [
            "CachedImageArray",
            "LazyImageArray",
            "MisleadingColumnWarning",
            "SmallGroupWarning",
            "cache_images",
            "fral_split",
            "load_adult",
            "load_celeba",
            "load_fairface",
            "load_german_credit",
            "load_image_folder",
            "load_group_digits",
            "load_table",
            "load_utkface",
            "make_face_folder",
            "make_fral_classification",
            "make_tabular_preprocessor",
            "merge_small_groups",
        ]
    )
    for name in datasets.__all__:
        doc = getattr(datasets, name).__doc__
        assert doc and "Examples\n    --------" in doc, name


@pytest.mark.parametrize(
    "module", sorted(PACKAGE_DIR.glob("*.py")), ids=lambda p: p.name
)
def test_no_torch_or_network_imports(module):
    tree = ast.parse(module.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    forbidden = {
        "torch",
        "torchvision",
        "skorch",
        "urllib",
        "requests",
        "http",
        "socket",
    }
    assert not imported & forbidden


@pytest.mark.parametrize(
    "name, max_bytes", [("adult.csv.gz", 1_000_000), ("german_credit.csv.gz", 50_000)]
)
def test_shipped_files_small_and_documented(name, max_bytes):
    data = resources.files("skfral.datasets").joinpath("data").joinpath(name)
    raw = data.read_bytes()
    assert len(raw) < max_bytes
    gzip.decompress(raw)  # a valid gzip file
    readme = (PACKAGE_DIR / "data" / "README_DATA.rst").read_text(encoding="utf-8")
    assert name in readme and "CC BY 4.0" in readme
