"""benchmarks/gpu_check runs (on the CPU, at a tiny size) so that it cannot rot."""

import importlib.machinery
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_check"


def load_script():
    loader = importlib.machinery.SourceFileLoader("gpu_check", str(SCRIPT))
    spec = importlib.util.spec_from_loader("gpu_check", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_script_is_executable_with_a_shebang():
    assert SCRIPT.stat().st_mode & 0o111, "benchmarks/gpu_check is not executable"
    assert SCRIPT.read_text().startswith("#!/usr/bin/env python")


def test_bad_sizes_are_refused(capsys):
    gc = load_script()
    with pytest.raises(SystemExit) as info:
        gc.parse(["--tiny", "--candidates", "0"])
    assert info.value.code == 2
    assert "--candidates=0: expected >= 1" in capsys.readouterr().err
    args = gc.parse(["--tiny"])
    assert (args.image_size, args.candidates) == (16, 48)
    full = gc.parse([])
    assert (full.image_size, full.candidates) == (64, 100_000)  # the sizes


def test_generated_images_are_deterministic_and_labelled():
    gc = load_script()
    images = gc.GeneratedImages(10, 8)
    a, b = images[[3, 4]], images[np.array([3, 4])]
    np.testing.assert_array_equal(a, b)
    assert a.shape == (2, 3, 8, 8) and a.dtype == np.float32
    assert 0.0 <= a.min() and a.max() <= 1.0
    # label 1 (odd rows): the top half is brighter, by construction
    top, bottom = a[0, :, :4].mean(), a[0, :, 4:].mean()
    assert images.labels([3])[0] == 1 and top > bottom + 0.2
    shifted = gc.GeneratedImages(10, 8, offset=1)
    np.testing.assert_array_equal(shifted[[2]], images[[3]])


@pytest.mark.slow
def test_gpu_check_runs_tiny_on_cpu(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--tiny", "--device", "cpu", "--out",
         str(tmp_path), "--image-size", "8", "--candidates", "16",
         "--train-images", "8", "--val-images", "8"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((tmp_path / "gpu_check.json").read_text())
    assert result["device"] == "cpu" and result["image_size"] == 8
    for precision in ("fp32", "bf16"):
        assert result["pgd"][precision]["ours_images_per_s"] > 0
    assert result["epoch"]["n_images"] == 8 and result["epoch"]["seconds"] > 0
    jin = result["jin"]
    assert (jin["n_candidates"], jin["picked"]) == (16, 4)
    markdown = (tmp_path / "gpu_check.md").read_text()
    assert markdown.startswith("# GPU check")
    assert "Command: `benchmarks/gpu_check --tiny --device cpu" in markdown
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind
