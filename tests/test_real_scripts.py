"""Scripts as users bring them: third-party packages, notebooks, data on disk.

Each script in `tests/real_scripts/` is modelled on public bug reports and Q&A threads.
Every test runs it plainly on real Keras, with real data (`plain_keras`), and probes it
in the same test: fitprobe must observe exactly the batches per epoch plain Keras
trains, on both stacks, and report the right codes.
"""

from __future__ import annotations

import json
import tarfile
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from diagnostics import probe
from diagnostics.cli import main
from diagnostics.engine.attach import StandIn
from diagnostics.report.labels import locate
from tests.plain_keras import plain_batches, probed_batches

SCRIPTS = Path(__file__).parent / "real_scripts"
STACKS = ("keras3", "keras2")
pytestmark = pytest.mark.slow


def codes(report: dict, stack: str) -> list[str]:
    return sorted(
        {
            f["code"]
            for f in report["findings"]
            if f["severity"] in ("error", "warning")
            and not f.get("static")
            and stack in (f.get("stack") or [])
        }
    )


def image_folder(root: Path, images: int, classes: int, side: int = 12) -> None:
    """A real image folder: `images` distinct PNGs spread over `classes` class folders."""
    for i in range(images):
        folder = root / f"class_{i % classes}"
        folder.mkdir(parents=True, exist_ok=True)
        pixels = np.random.default_rng(i).integers(0, 256, (side, side, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"img_{i}.png")


def same_as_plain(report: dict, plain: dict) -> dict:
    """fitprobe's batches per epoch, asserted equal to the plain run's, per stack."""
    observed = {}
    for stack in STACKS:
        assert plain[stack]["exception"] is None, plain[stack]["stderr"]
        observed[stack] = probed_batches(report, stack)
        assert observed[stack] == plain[stack]["fits"], (stack, report["verdict"])
    return observed


def test_image_data_generator_with_augmentation_on_arrays(tmp_path):
    """scipy (affine transforms), sklearn's split and matplotlib's plt.show() all work."""
    script = SCRIPTS / "augment_arrays.py"
    plain = plain_batches(script, tmp_path)
    report = probe(script, keras="both")
    # 150 training rows in batches of 32: a pass is 5 batches, steps_per_epoch 150 // 32 = 4.
    assert same_as_plain(report, plain) == {"keras3": [[4, 1, 4]], "keras2": [[4, 4, 4]]}
    assert codes(report, "keras3") == ["steps-per-epoch-too-small", "variable-epoch-length"]
    assert codes(report, "keras2") == ["steps-per-epoch-too-small"]
    assert not any(f["code"] in ("missing-module", "fit-raised") for f in report["findings"])


@pytest.fixture(scope="module")
def cats_and_dogs(tmp_path_factory) -> Path:
    """The folders image_folders.py reads: 200 training and 80 validation images."""
    root = tmp_path_factory.mktemp("cats_and_dogs")
    image_folder(root / "data" / "train", 200, 2)
    image_folder(root / "data" / "validation", 80, 2)
    return root


@pytest.fixture(scope="module")
def cats_and_dogs_plain(cats_and_dogs) -> dict:
    return plain_batches(SCRIPTS / "image_folders.py", cats_and_dogs)


# 200 images in batches of 16 are 13 batches; steps_per_epoch is 2000 // 16 = 125.
FOLDER_BATCHES = {"keras3": [[13, 13, 13]], "keras2": [[13]]}


def test_flow_from_directory_on_attached_data(cats_and_dogs, cats_and_dogs_plain, tmp_path):
    archive = tmp_path / "cats_and_dogs.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(cats_and_dogs / "data", arcname="data")
    report = probe(SCRIPTS / "image_folders.py", keras="both", data=str(archive))
    assert same_as_plain(report, cats_and_dogs_plain) == FOLDER_BATCHES
    for stack in STACKS:
        assert codes(report, stack) == ["steps-per-epoch-too-large"]
    assert report["input"]["data"] == {
        "name": "cats_and_dogs.tar.gz", "kind": "archive", "files": 280,
        "bytes": report["input"]["data"]["bytes"],
    }  # fmt: skip


def test_flow_from_directory_on_stand_in_folders(cats_and_dogs_plain):
    report = probe(
        SCRIPTS / "image_folders.py",
        keras="both",
        standin_images=[StandIn("data/train", 200, 2), StandIn("data/validation", 80, 2)],
    )
    assert same_as_plain(report, cats_and_dogs_plain) == FOLDER_BATCHES
    for stack in STACKS:
        assert codes(report, stack) == ["steps-per-epoch-too-large"]
    assert "`data/train` was a stand-in of 200 generated images in 2 classes" in report["verdict"]
    assert [s["path"] for s in report["input"]["standins"]] == ["data/train", "data/validation"]


def test_image_folders_that_are_not_there_are_missing_data_not_a_crash():
    report = probe(SCRIPTS / "image_folders.py", keras="both")
    assert report["status"] == "input-error"
    for stack in STACKS:
        assert codes(report, stack) == ["missing-data"]
    finding = next(f for f in report["findings"] if f["code"] == "missing-data")
    path = finding["evidence"]["keras3"]["paths"][0]
    assert (path["path"], path["line"], path["image_folder"]) == ("data/train", 21, True)
    assert "flow_from_directory" in path["loader"]
    assert "--standin-images data/train=" in finding["fix"]
    assert report["verdict"] == (
        "This input could not be probed: the script reads `data/train` (line 21), "
        "which is not there."
    )


# A Colab notebook: shell lines, magics, Drive, a timed training cell, display().
NOTEBOOK_CELLS = [
    ("!pip install -q tensorflow\n%matplotlib inline\n", "from google.colab import drive\n"
     "drive.mount('/content/drive')\n"),
    ("", "import matplotlib.pyplot as plt\nfrom tensorflow import keras\n"
     "from tensorflow.keras.preprocessing.image import ImageDataGenerator\n\n"
     "nb_train_samples = 2000\nbatch_size = 16\nside = 48\n"),
    ("", "train = ImageDataGenerator(rescale=1 / 255, zoom_range=0.2).flow_from_directory(\n"
     "    'data/train', target_size=(side, side), batch_size=batch_size, class_mode='binary')\n"),
    ("", "model = keras.Sequential([keras.Input((side, side, 3)), keras.layers.Conv2D(4, 3),\n"
     "    keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(1, activation='sigmoid')])\n"
     "model.compile(optimizer='adam', loss='binary_crossentropy')\n"),
    ("%%time\n", "history = model.fit(train, steps_per_epoch=nb_train_samples // batch_size,\n"
     "                    epochs=3, verbose=2)\nplt.plot(history.history['loss'])\n"),
    ("", "display(history.history.keys())\n"),
]  # fmt: skip


@pytest.fixture(scope="module")
def colab(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("colab")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Cats and dogs")] + [
        nbformat.v4.new_code_cell(magic + code) for magic, code in NOTEBOOK_CELLS
    ]
    notebook = root / "cats_and_dogs.ipynb"
    nbformat.write(nb, notebook)
    # The plain equivalent: the same code, without what only a notebook (or Colab) runs.
    plain_code = "".join(code for _, code in NOTEBOOK_CELLS[1:-1])
    (root / "plain.py").write_text(plain_code, encoding="utf-8")
    data = root / "data_root"
    image_folder(data / "data" / "train", 200, 2)
    return {"notebook": notebook, "plain": plain_batches(root / "plain.py", data)}


def test_a_colab_notebook_says_its_data_is_missing_then_probes_a_stand_in(colab):
    missing = probe(colab["notebook"], keras="both")
    assert missing["status"] == "input-error"
    assert missing["verdict"] == (
        "This input could not be probed: the script reads `data/train` (cell 4, line 1), "
        "which is not there."
    )
    skipped = missing["input"]["notebook"]["skipped"]
    assert [(s["cell"], s["line"], s["text"]) for s in skipped] == [
        (2, 1, "!pip install -q tensorflow"),
        (2, 2, "%matplotlib inline"),
    ]
    mounted = missing["stacks"][0]["skipped"]
    assert [(s["what"], s["line"]) for s in mounted] == [("drive.mount", 4)]

    report = probe(
        colab["notebook"], keras="both", standin_images=[StandIn("data/train", 200, 2)]
    )
    assert same_as_plain(report, colab["plain"]) == FOLDER_BATCHES
    for stack in STACKS:
        assert codes(report, stack) == ["steps-per-epoch-too-large"]
    finding = next(f for f in report["findings"] if f["code"] == "steps-per-epoch-too-large")
    assert locate(report, finding["line"]) == "cell 6, line 2"  # the fit() under %%time
    assert "dict_keys(['loss'])" in report["stacks"][0]["stdout"]["text"]  # display()


def test_the_cli_takes_the_notebook_and_a_stand_in(colab, capsys):
    code = main(
        [
            "probe", str(colab["notebook"]), "--json",
            "--standin-images", "data/train=Found 200 images belonging to 2 classes.",
        ]
    )  # fmt: skip
    report = json.loads(capsys.readouterr().out)
    assert code == 1  # an error-severity finding: steps_per_epoch too large
    assert {s: probed_batches(report, s) for s in STACKS} == FOLDER_BATCHES
    assert report["input"]["standins"] == [{"path": "data/train", "images": 200, "classes": 2}]


def test_an_sklearn_split_feeding_a_finite_generator(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(170, 3)), columns=["a", "b", "c"])
    frame["target"] = frame.sum(axis=1)
    frame.to_csv(tmp_path / "measurements.csv", index=False)
    script = SCRIPTS / "csv_split_generator.py"
    plain = plain_batches(script, tmp_path)
    report = probe(script, keras="both", data=str(tmp_path))
    # 136 training rows: 9 batches of 16 per pass, steps_per_epoch 8, then the pass is over.
    assert same_as_plain(report, plain) == {"keras3": [[8, 1, 2, 2]], "keras2": [[8, 1]]}
    assert codes(report, "keras3") == ["finite-generator-exhausted", "replayed-peeked-batches"]
    assert codes(report, "keras2") == ["finite-generator-exhausted"]


def test_a_cv2_loader_reading_attached_files(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    for i in range(37):
        pixels = np.random.default_rng(i).integers(0, 256, (20, 20, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(images / f"{'dog' if i % 2 else 'cat'}_{i}.png")
    archive = tmp_path / "images.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(images.iterdir()):
            z.write(path, f"images/{path.name}")
    script = SCRIPTS / "cv2_sequence.py"
    plain = plain_batches(script, tmp_path)
    report = probe(script, keras="both", data=str(archive))
    assert same_as_plain(report, plain) == {"keras3": [[5, 5]], "keras2": [[5, 5]]}
    for stack in STACKS:
        assert codes(report, stack) == []
        assert probed_rows(report, stack) == [37, 37]


def probed_rows(report: dict, stack: str) -> list[int]:
    return [e["samples_seen"] for r in report["runs"] if r["stack"] == stack for e in r["epochs"]]


FAKE_WANDB = {  # the tracker installed, offline: what the plain run has and the probe lacks
    "wandb/__init__.py": "config = type('Config', (), {})()\n"
    "def init(**kwargs):\n    return None\n"
    "def log(*args, **kwargs):\n    return None\n"
    "def finish():\n    return None\n",
    "wandb/keras.py": "from tensorflow import keras\n"
    "class WandbCallback(keras.callbacks.Callback):\n    pass\n",
}


def test_a_missing_tracker_is_missing_module_then_probes_stubbed(tmp_path):
    script = SCRIPTS / "tracked_training.py"
    missing = probe(script, keras="both")
    assert missing["status"] == "input-error"
    for stack in STACKS:
        assert codes(missing, stack) == ["missing-module"]
    finding = next(f for f in missing["findings"] if f["code"] == "missing-module")
    assert finding["line"] == 7
    assert finding["evidence"]["keras3"]["module"] == "wandb"
    assert "--stub-missing" in finding["fix"]
    assert missing["verdict"] == (
        "This input could not be probed: the script imports `wandb` (line 7), which is not "
        "installed where fitprobe probes."
    )

    for name, text in FAKE_WANDB.items():
        (tmp_path / "site" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "site" / name).write_text(text)
    plain = plain_batches(script, tmp_path, pythonpath=tmp_path / "site")
    stubbed = probe(script, keras="both", stub_missing=True)
    assert same_as_plain(stubbed, plain) == {"keras3": [[6, 6, 6]], "keras2": [[6, 6, 6]]}
    for stack in STACKS:
        assert codes(stubbed, stack) == []
        record = next(s for s in stubbed["stacks"] if s["stack"] == stack)
        assert [m["module"] for m in record["stubbed_modules"]] == ["wandb"]
    info = next(f for f in stubbed["findings"] if f["code"] == "missing-module")
    assert info["severity"] == "info"
    assert stubbed["verdict"].endswith("(`wandb` stubbed, as asked).")


def test_a_module_that_may_feed_the_data_is_never_stubbed(tmp_path):
    """A generator importing an augmentation library that is not installed: the crash
    inside fit() is missing-module, not fit-raised or generator-raised, stub or not."""
    script = tmp_path / "augmented.py"
    script.write_text(
        "import numpy as np\n"
        "from tensorflow import keras\n"
        "def batches():\n"
        "    import albumentations as A\n"
        "    while True:\n"
        "        yield np.ones((4, 2), 'float32'), np.ones(4, 'float32')\n"
        "model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])\n"
        "model.compile('sgd', 'mse')\n"
        "model.fit(batches(), steps_per_epoch=2, epochs=2, verbose=0)\n"
    )
    report = probe(script, keras="both", stub_missing=True)
    for stack in STACKS:
        assert codes(report, stack) == ["missing-module"]
        record = next(s for s in report["stacks"] if s["stack"] == stack)
        assert record["stubbed_modules"] == []
    finding = next(f for f in report["findings"] if f["code"] == "missing-module")
    assert finding["evidence"]["keras3"]["module"] == "albumentations"
    assert "does not stub `albumentations`" in finding["fix"]
    assert "pip install albumentations" in finding["fix"]


def test_arrays_on_disk_missing_then_attached(tmp_path):
    script = SCRIPTS / "npy_on_disk.py"
    missing = probe(script, keras="both")
    assert missing["status"] == "input-error"
    for stack in STACKS:
        assert codes(missing, stack) == ["missing-data"]
    evidence = next(f for f in missing["findings"] if f["code"] == "missing-data")["evidence"]
    path = evidence["keras3"]["paths"][0]
    assert (path["path"], path["line"]) == ("data/features.npy", 5)
    assert path["loader"] == "numpy's load()"

    (tmp_path / "data").mkdir()
    rng = np.random.default_rng(1)
    np.save(tmp_path / "data" / "features.npy", rng.normal(size=(100, 4)).astype("float32"))
    np.save(tmp_path / "data" / "targets.npy", rng.normal(size=100).astype("float32"))
    plain = plain_batches(script, tmp_path)
    report = probe(script, keras="both", data=str(tmp_path))
    assert same_as_plain(report, plain) == {"keras3": [[4, 4]], "keras2": [[4, 4]]}
    for stack in STACKS:
        assert codes(report, stack) == []


def test_an_empty_glob_of_a_missing_folder_is_reported_where_it_happened(tmp_path):
    script = tmp_path / "globbed.py"
    script.write_text(
        "import glob\n"
        "import numpy as np\n"
        "from tensorflow import keras\n"
        "files = sorted(glob.glob('dataset/train/*/*.jpg'))\n"
        "x = np.stack([np.zeros(3, 'float32') for _ in files])\n"
        "model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])\n"
        "model.compile('sgd', 'mse')\n"
        "model.fit(x, np.zeros(len(x)), epochs=1)\n"
    )
    report = probe(script, keras="3")
    assert codes(report, "keras3") == ["missing-data"]
    finding = next(f for f in report["findings"] if f["code"] == "missing-data")
    path = finding["evidence"]["keras3"]["paths"][0]
    assert (path["path"], path["pattern"], path["line"]) == (
        "dataset/train", "dataset/train/*/*.jpg", 4
    )


def test_flow_from_dataframe_with_its_csv_attached_and_its_images_stood_in(tmp_path):
    """The labels file is small and attached; the images it names are generated."""
    ids = [f"{i:04d}.png" for i in range(130)]
    labels = pd.DataFrame({"id": ids, "label": [str(i % 2) for i in range(130)]})
    attached = tmp_path / "attached"
    attached.mkdir()
    labels.to_csv(attached / "train_labels.csv", index=False)
    real = tmp_path / "real"
    (real / "train_images").mkdir(parents=True)
    labels.to_csv(real / "train_labels.csv", index=False)
    for i, name in enumerate(ids):
        pixels = np.random.default_rng(i).integers(0, 256, (10, 10, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(real / "train_images" / name)
    script = SCRIPTS / "dataframe_images.py"
    plain = plain_batches(script, real)
    report = probe(
        script,
        keras="both",
        data=str(attached),
        standin_images=[StandIn("train_images", 2, 2)],
    )
    # 130 rows: 98 for training (5 batches of 20), 32 for validation.
    assert same_as_plain(report, plain) == {"keras3": [[5, 5]], "keras2": [[5, 5]]}
    for stack in STACKS:
        assert codes(report, stack) == []
        record = next(s for s in report["stacks"] if s["stack"] == stack)
        assert [(f["loader"], f["files"]) for f in record["standin_files"]] == [
            ("flow_from_dataframe", 130)
        ]


def test_image_dataset_from_directory_on_a_stand_in_folder(tmp_path):
    image_folder(tmp_path / "flowers", 150, 3)
    script = SCRIPTS / "dataset_from_directory.py"
    plain = plain_batches(script, tmp_path)
    report = probe(script, keras="both", standin_images=[StandIn("flowers", 150, 3)])
    # 150 files, 120 for training: 8 batches of 16 (the last one 8).
    assert same_as_plain(report, plain) == {"keras3": [[8, 8]], "keras2": [[8, 8]]}
    for stack in STACKS:
        assert codes(report, stack) == []
