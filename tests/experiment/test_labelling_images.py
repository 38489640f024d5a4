"""The labelling loop on an image folder (labels-csv layout) and its contact sheet."""

import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from skfral.datasets import load_image_folder
from skfral.experiment import (
    fit_model,
    merge_labels,
    predict,
    query_batch,
)

NET = {"max_epochs": 1, "attack_n_steps": 1}


def make_folder(root, n=48, n_labelled=12, seed=0):
    """Red cats and blue dogs; group x bright, group y dark; 8x8 PNGs."""
    rng = np.random.RandomState(seed)
    (root / "img").mkdir(parents=True)
    rows = []
    for i in range(n):
        label = "cat" if i % 2 == 0 else "dog"
        group = "x" if (i // 2) % 2 == 0 else "y"
        level = 220 if group == "x" else 120
        pixels = rng.randint(0, 40, size=(8, 8, 3))
        pixels[..., 0 if label == "cat" else 2] += level
        name = f"img/{i:03d}.png"
        Image.fromarray(pixels.clip(0, 255).astype("uint8")).save(root / name)
        rows.append((name, label, group))
    frame = pd.DataFrame(rows, columns=["file", "label", "group"])
    truth = frame.set_index("file")["label"].copy()
    frame.loc[n_labelled:, "label"] = ""
    labels = root / "labels.csv"
    frame.to_csv(labels, index=False)
    return labels, truth


def fill(to_label, truth):
    batch = pd.read_csv(to_label, dtype=str, keep_default_na=False)
    batch["label"] = truth[batch["file"]].to_numpy()
    batch.to_csv(to_label, index=False)
    return set(batch["file"])


def test_labels_csv_layout_reads_blank_labels_as_unlabelled(tmp_path):
    labels, truth = make_folder(tmp_path, n=8, n_labelled=3)
    out = load_image_folder(
        tmp_path,
        layout="labels-csv",
        labels_file=labels,
        target="label",
        sensitive="group",
        image_size=4,
    )
    assert out.data.shape == (8, 3, 4, 4) and out.data.dtype == np.float32
    assert out.target.isna().tolist() == [False] * 3 + [True] * 5
    # a missing image is named
    frame = pd.read_csv(labels, dtype=str, keep_default_na=False)
    frame.loc[7, "file"] = "img/none.png"
    frame.to_csv(labels, index=False)
    with pytest.raises(ValueError, match="img/none.png"):
        load_image_folder(
            tmp_path,
            layout="labels-csv",
            labels_file=labels,
            target="label",
            sensitive="group",
        )


@pytest.mark.slow
def test_image_loop_query_merge_fit_predict(tmp_path):
    labels, truth = make_folder(tmp_path)
    kwargs = dict(
        target="label",
        sensitive="group",
        image_folder=tmp_path,
        image_size=8,
        min_labels=8,
    )
    seen = set()
    for _ in range(2):
        res = query_batch(
            labels, budget=6, net_params=NET, strategy_params={"n_boot": 20}, **kwargs
        )
        assert not res.cold_start, res.message
        files = set(res.batch["file"])
        frame = pd.read_csv(labels, dtype=str, keep_default_na=False)
        done = set(frame.loc[frame["label"] != "", "file"])
        assert len(files) == 6 and not files & done and not files & seen
        assert all(str(tmp_path) in p for p in res.batch["image"])
        html = res.to_label.with_suffix(".html").read_text()
        assert html.count("<figure") == 6
        assert len(re.findall(r'src="data:image/png;base64,', html)) == 6
        for f in files:
            assert f in html
        seen |= files
        fill(res.to_label, truth)
        merge_labels(labels, res.to_label, target="label", id_column="file")
    model = tmp_path / "model"
    fit_model(
        labels,
        save=model,
        net_params=NET,
        **{k: v for k, v in kwargs.items() if k != "min_labels"},
    )
    pred = predict(model, labels, image_folder=tmp_path)
    assert list(pred.columns) == ["file", "prediction", "proba_cat", "proba_dog"]
    assert len(pred) == 48


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.mark.browser
@pytest.mark.skipif(
    _chromium() is None,
    reason="chromium is not installed: `make browser-deps` (apt-get install chromium) "
    "installs it; `make test-all` runs this test",
)
def test_contact_sheet_renders_in_a_headless_browser(tmp_path):
    labels, _ = make_folder(tmp_path, n=16, n_labelled=4)
    res = query_batch(
        labels,
        target="label",
        sensitive="group",
        image_folder=tmp_path,
        image_size=8,
        budget=6,
    )
    sheet = res.to_label.with_suffix(".html")
    shot = tmp_path / "shot.png"
    run = subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=900,700",
            f"--screenshot={shot}",
            sheet.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shot.is_file(), f"no screenshot; chromium said: {run.stderr[-2000:]}"
    with Image.open(shot) as im:
        pixels = np.asarray(im.convert("RGB"), dtype=np.int64)
    assert pixels.shape[:2] == (700, 900)
    # the page drew something: not one flat colour; and the red/blue thumbnails
    # (cats red, dogs blue) show up as strongly coloured pixels
    assert pixels.std() > 10
    red = (pixels[..., 0] > 150) & (pixels[..., 2] < 80)
    blue = (pixels[..., 2] > 100) & (pixels[..., 0] < 80)
    assert red.sum() + blue.sum() > 500, "no thumbnail visible in the screenshot"


def test_cli_query_on_an_image_folder(tmp_path, capsys, monkeypatch):
    from skfral.experiment._cli import main

    labels, _ = make_folder(tmp_path, n=12, n_labelled=2)
    monkeypatch.chdir(tmp_path)
    rc = main(
        [
            "query",
            "--image-folder",
            ".",
            "--layout",
            "labels-csv",
            "--labels-file",
            "labels.csv",
            "--budget",
            "4",
            "--image-size",
            "8",
        ]
    )
    assert rc == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "contact sheet: labels.skfral/to_label.html" in out
    assert (tmp_path / "labels.skfral" / "to_label.html").is_file()
    rc = main(["query", "--image-folder", ".", "--layout", "labels-csv"])
    assert rc == 2
    assert "--image-folder needs --labels-file" in capsys.readouterr().err
