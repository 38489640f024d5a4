"""Packaging for skfral (Fair Robust Active Learning)."""

import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(
    r'^__version__ = "([^"]+)"', (HERE / "skfral" / "_version.py").read_text(), re.M
).group(1)

INSTALL_REQUIRES = [
    "numpy>=1.24",
    "scipy>=1.10",
    "scikit-learn>=1.6",
    "pandas>=2.0",
    "torch>=2.1",
    "skorch>=1.3",
    "fairlearn>=0.13",
    "matplotlib>=3.7",
    "joblib>=1.3",
    "tqdm>=4.60",
    "pillow>=9.0",
    # safe model files (skfral.nn.save_model / load_model): sklearn preprocessing
    # loaded with an explicit trusted type list, never unpickled
    "skops>=0.10",
]

EXTRAS = {
    # modAL-python itself is installed with --no-deps (see README: its metadata
    # pins skorch==0.9.0), so it is not listed here.
    "tests": [
        "pytest>=7",
        "hypothesis>=6",
        "dask[distributed]>=2024.1",
        "scikit-activeml>=1.0",
        "pyarrow>=14",
        "numpydoc>=1.6",
    ],
    "docs": [
        "sphinx>=7",
        "pydata-sphinx-theme>=0.15",
        "numpydoc>=1.6",
        "sphinx-gallery>=0.16",
    ],
    "dask": ["dask[distributed]>=2024.1"],
    # scikit-activeml integration: skfral.query.to_skactiveml
    "skactiveml": ["scikit-activeml>=1.0"],
    # Parquet tables for `skfral run --data file.parquet`
    "parquet": ["pyarrow>=14"],
    # `make mutation` (not part of `make test`)
    "mutation": ["mutmut>=3.8"],
}

setup(
    name="skfral",
    version=VERSION,
    description=(
        "Fair Robust Active Learning (FRAL) with Joint Inconsistency (JIN): "
        "scikit-learn, skorch, modAL and fairlearn compatible."
    ),
    long_description=(HERE / "README.rst").read_text(encoding="utf-8"),
    long_description_content_type="text/x-rst",
    license="BSD-3-Clause",
    packages=find_packages(include=["skfral", "skfral.*"]),
    package_data={"skfral.datasets": ["data/*.csv.gz", "data/*.txt", "data/*.rst"]},
    include_package_data=True,
    python_requires=">=3.11",
    install_requires=INSTALL_REQUIRES,
    extras_require=EXTRAS,
    entry_points={"console_scripts": ["skfral=skfral.experiment._cli:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Intended Audience :: Science/Research",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
