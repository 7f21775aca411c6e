"""What the script finds around it in the worker, probed for real: no false alarms on
healthy scripts, stubs that keep a script's own values, data beside the script, notebook
magics the worker carries out, missing data the script would only trip over later."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from diagnostics import probe, probe_code
from diagnostics.engine.attach import StandIn

pytestmark = pytest.mark.slow

FIT = (
    "model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])\n"
    "model.compile('sgd', 'mse')\n"
)


def codes(report: dict, stack: str = "keras3") -> list[str]:
    return sorted(
        {
            f["code"]
            for f in report["findings"]
            if f["severity"] in ("error", "warning")
            and not f.get("static")
            and stack in (f.get("stack") or [])
        }
    )


def trained(report: dict, stack: str = "keras3") -> list[int]:
    runs = [r for r in report["runs"] if r["stack"] == stack]
    return [e["observed_batches"] for r in runs for e in r["epochs"]]


def test_a_healthy_script_that_looks_for_what_is_not_there_gets_no_false_alarm():
    report = probe_code(
        "import glob, os\n"
        "import numpy as np\n"
        "from tensorflow import keras\n"
        "for old in glob.glob('checkpoints/*.h5'):\n"
        "    os.remove(old)\n"
        "try:\n"
        "    os.listdir('cache')\n"
        "except FileNotFoundError:\n"
        "    os.makedirs('cache')\n"
        + FIT
        + "model.fit(np.ones((40, 2)), np.ones(40), batch_size=10, epochs=2, verbose=0)\n",
        keras="3",
    )
    assert codes(report) == []
    assert report["verdict"].startswith("No problem found: Keras 3 trained 2 epochs of 4 batches")


def test_an_import_error_of_an_installed_package_is_not_a_missing_module():
    report = probe_code(
        "from tensorflow.keras.layers import Dence\n"
        "from tensorflow import keras\n" + FIT + "model.fit([[1, 2]], [1])\n",
        keras="3",
    )
    assert "missing-module" not in {f["code"] for f in report["findings"]}
    assert "cannot import name 'Dence'" in report["verdict"]


def test_a_stubbed_tracker_keeps_the_scripts_own_config_values_and_callback_subclasses():
    report = probe_code(
        "import numpy as np\n"
        "import wandb\n"
        "from wandb.keras import WandbCallback\n"
        "from tensorflow import keras\n"
        "wandb.init(project='p', config={'batch_size': 8, 'epochs': 2})\n"
        "wandb.config.update({'lr': 0.01})\n"
        "class Logger(WandbCallback):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.seen = 0\n"
        "    def on_epoch_end(self, epoch, logs=None):\n"
        "        self.seen += 1\n"
        + FIT
        + "model.fit(np.ones((40, 2)), np.ones(40), batch_size=wandb.config.batch_size,\n"
        "          epochs=wandb.config.epochs, verbose=0, callbacks=[Logger()])\n"
        "assert wandb.config.lr == 0.01\n",
        keras="3",
        stub_missing=True,
    )
    assert trained(report) == [5, 5]  # 40 rows in batches of the config's 8
    assert codes(report) == []


def test_a_stub_value_the_training_needed_is_named_not_blamed_on_keras():
    report = probe_code(
        "import numpy as np\n"
        "import wandb\n"
        "from tensorflow import keras\n"
        + FIT
        + "model.fit(np.ones((40, 2)), np.ones(40), batch_size=wandb.config.batch_size,\n"
        "          epochs=2, verbose=0)\n",
        keras="3",
        stub_missing=True,
    )
    finding = next(f for f in report["findings"] if f["code"] == "missing-module")
    assert finding["severity"] == "error"
    assert finding["title"].startswith("`wandb.config.batch_size` came from the stub")
    assert "fit-raised" not in {f["code"] for f in report["findings"]}


def test_a_stand_in_folder_inside_an_attached_folder(tmp_path):
    """The Kaggle layout: the labels file attached, the images folder beside it stood in."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "labels.csv").write_text("id,label\n")
    report = probe_code(
        "import os\n"
        "from tensorflow import keras\n"
        "from tensorflow.keras.preprocessing.image import ImageDataGenerator\n"
        "assert os.path.exists('data/labels.csv')\n"
        "train = ImageDataGenerator().flow_from_directory('data/train', target_size=(8, 8),\n"
        "                                                 batch_size=10)\n"
        "model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(),\n"
        "                          keras.layers.Dense(2)])\n"
        "model.compile('sgd', 'mse')\n"
        "model.fit(train, epochs=2, verbose=0)\n",
        keras="3",
        data=str(tmp_path),
        standin_images=[StandIn("data/train", 30, 2)],
    )
    assert report["status"] == "ok", report["verdict"]
    assert trained(report) == [3, 3]


def test_data_attached_beside_a_pasted_script_is_found_from_its_own_folder(tmp_path):
    np.save(tmp_path / "x.npy", np.ones((30, 2), "float32"))
    report = probe_code(
        "import os\n"
        "import numpy as np\n"
        "from tensorflow import keras\n"
        "x = np.load(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'x.npy'))\n"
        + FIT
        + "model.fit(x, np.ones(len(x)), batch_size=10, epochs=1, verbose=0)\n",
        keras="3",
        data=str(tmp_path),
    )
    assert report["status"] == "ok", report["verdict"]
    assert trained(report) == [3]


def test_missing_files_the_script_trips_over_later_are_named(tmp_path):
    listed = probe_code(
        "import tensorflow as tf\n"
        "files = tf.data.Dataset.list_files('photos/*/*.jpg')\n"
        "from tensorflow import keras\n" + FIT + "model.fit(files)\n",
        keras="3",
    )
    (hit,) = next(f for f in listed["findings"] if f["code"] == "missing-data")["evidence"][
        "keras3"
    ]["paths"]
    assert (hit["path"], hit["pattern"], hit["line"]) == ("photos", "photos/*/*.jpg", 2)

    for i in range(4):
        Image.fromarray(np.zeros((6, 6, 3), np.uint8)).save(tmp_path / f"ok_{i}.png")
    read = probe_code(
        "import cv2\n"
        "import numpy as np\n"
        "from tensorflow import keras\n"
        "names = ['ok_0.png', 'ok_1.png', 'gone.png', 'ok_2.png']\n"
        "images = [cv2.resize(cv2.imread(n), (4, 4)) for n in names]\n" + FIT + "model.fit()\n",
        keras="3",
        data=str(tmp_path),
    )
    finding = next(f for f in read["findings"] if f["code"] == "missing-data")
    (hit,) = finding["evidence"]["keras3"]["paths"]
    assert (hit["path"], hit["loader"], hit["line"]) == ("gone.png", "cv2.imread", 5)


def test_a_notebook_writes_runs_and_imports_its_own_helpers(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("%%writefile helper.py\nROWS = 30\ndef batches():\n"
                                  "    import numpy as np\n    while True:\n"
                                  "        yield np.ones((10, 2)), np.ones(10)\n"),
        nbformat.v4.new_code_cell("%run helper.py\nimport helper\nfrom tensorflow import keras"),
        nbformat.v4.new_code_cell(FIT + "model.fit(batches(), steps_per_epoch=ROWS // 10,\n"
                                  "          epochs=helper.ROWS // 15, verbose=0)"),
    ]  # fmt: skip
    path = tmp_path / "helpers.ipynb"
    nbformat.write(nb, path)
    report = probe(path, keras="3")
    assert report["status"] == "ok", report["verdict"]
    assert trained(report) == [3, 3]
    assert report["input"]["notebook"]["skipped"] == []


def test_a_notebook_generator_error_points_at_its_cell(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import numpy as np\nfrom tensorflow import keras"),
        nbformat.v4.new_code_cell("def batches():\n    for _ in range(4):\n"
                                  "        yield np.ones((10, 2)), np.ones(10)\n"
                                  "    raise ValueError('bad row 41')"),
        nbformat.v4.new_code_cell(FIT + "model.fit(batches(), steps_per_epoch=3, epochs=2)"),
    ]  # fmt: skip
    path = tmp_path / "raises.ipynb"
    nbformat.write(nb, path)
    report = probe(path, keras="3")
    finding = next(f for f in report["findings"] if f["code"] == "generator-raised")
    assert "at cell 2, line 4" in finding["title"]
    assert "line 7" not in finding["title"] + finding["fix"]  # the script's own numbering


def test_a_package_keras_needs_for_a_call_is_named_from_its_own_message():
    report = probe_code(
        "import numpy as np\n"
        "from tensorflow import keras\n" + FIT
        + "keras.utils.plot_model(model, 'model.png')\n"
        "model.fit(np.ones((20, 2)), np.ones(20), epochs=1, verbose=0)\n",
        keras="3",
        stub_missing=True,  # pydot is not one fitprobe stubs: Keras checked for it already
    )
    finding = next(f for f in report["findings"] if f["code"] == "missing-module")
    assert finding["title"] == (
        "a library the script calls needs `pydot` (at line 5), and it is not installed where "
        "fitprobe probes"
    )
    assert "pip install pydot" in finding["fix"]
