"""skfral run on a face-image folder (issue 14 item 6): a tiny generated
UTKFace-layout folder, SmallCNN by default, lazy images."""

import numpy as np
import pandas as pd
import pytest

from skfral.experiment._cli import main

PIL = pytest.importorskip("PIL.Image")

FLAGS = [
    "--strategies", "random,entropy", "--seeds", "1", "--rounds", "1",
    "--budget", "6", "--initial-size", "24", "--val-size", "24",
    "--test-size", "24", "--max-epochs", "1", "--attack-steps", "1",
    "--eval-steps", "1", "--torch-threads", "1", "--quiet",
]  # fmt: skip


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """100 8x8 JPEGs named ``age_gender_race_date.jpg.chip.jpg`` (2 races)."""
    root = tmp_path_factory.mktemp("utk") / "UTKFace"
    root.mkdir()
    rng = np.random.RandomState(0)
    for i in range(100):
        gender, race = i % 2, int(rng.rand() < 0.3)
        pixels = rng.randint(0, 256, (8, 8, 3)).astype(np.uint8)
        pixels[..., 0] = 255 * gender  # a learnable red channel
        PIL.fromarray(pixels).save(
            root / f"{20 + i % 40}_{gender}_{race}_2017010{i:05d}.jpg.chip.jpg"
        )
    return root


@pytest.mark.slow
def test_run_on_an_image_folder(folder, tmp_path, capsys):
    out = tmp_path / "faces"
    argv = ["run", "--image-folder", str(folder), "--layout", "utkface"]
    argv += ["--target", "gender", "--sensitive", "race", "--image-size", "8"]
    assert main([*argv, *FLAGS, "--out", str(out)]) == 0
    df = pd.read_csv(out / "results.csv")
    assert set(df["dataset"]) == {"UTKFace"}
    assert df["n_labels"].tolist() == [24, 30] * 2
    assert df["n_groups"].eq(2).all()
    assert df["worst_group_standard_accuracy"].between(0, 1).all()


def test_image_folder_dry_run_and_config(folder, tmp_path, capsys):
    config = tmp_path / "faces.toml"
    config.write_text(
        f'[image_folder]\npath = {str(folder)!r}\nlayout = "utkface"\n'
        'target = "gender"\nsensitive = "race"\nimage_size = 8\nname = "utk"\n'
    )
    assert main(["run", "--config", str(config), "--dry-run", *FLAGS]) == 0
    text = capsys.readouterr().out
    assert "data set 'utk'" in text and "utkface image folder, 100 rows)" in text
    assert "inputs: 3x8x8 per sample" in text
    # genders alternate in the fixture: 50 of each class
    classes = next(line for line in text.splitlines() if "classes" in line)
    assert classes.count("(50)") == 2, text
    assert "validation 24, test 24" in text


def test_missing_folder_is_one_line(tmp_path, capsys):
    argv = ["run", "--image-folder", str(tmp_path / "nowhere"), "--layout", "celeba"]
    assert main([*argv, "--target", "Smiling", "--sensitive", "Male", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("skfral: error: image_folder.path=") and err.count("\n") == 1
    assert "is not a folder" in err and "celeba layout" in err


@pytest.mark.parametrize(
    "layout, target, sensitive",
    [("celeba", "Smiling", "Male"), ("fairface", "gender", "race")],
)
def test_other_layouts_dry_run(tmp_path, capsys, layout, target, sensitive):
    from skfral.datasets import load_image_folder, make_face_folder

    folder = make_face_folder(
        tmp_path / layout, layout=layout, n_images=90, image_size=8, random_state=0
    )
    argv = ["run", "--image-folder", str(folder), "--layout", layout, "--target"]
    argv += [target, "--sensitive", sensitive, "--image-size", "8", "--dry-run"]
    assert main([*argv, *FLAGS]) == 0
    text = capsys.readouterr().out
    faces = load_image_folder(
        folder, layout=layout, target=target, sensitive=sensitive, image_size=8
    )
    n = len(faces.target)
    assert f"{layout} image folder, {n} rows)" in text
    groups = pd.Series(np.asarray(faces.sensitive)).value_counts()
    for name, count in groups.items():
        assert f"{name} ({count})" in text, text
