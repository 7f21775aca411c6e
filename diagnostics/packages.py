"""What fitprobe knows about the packages training scripts import (data only; both sides).

`PIP_NAMES` maps an import name to the package that provides it, where they differ
or are worth naming, so a `missing-module` finding can say what to install.
`OFF_DATA_PATH` lists modules that never shape the data a model trains on:
experiment trackers, plotting, notifications, notebook helpers. Only those may be
stubbed (`--stub-missing`): a stub of a module on the data path would make the probe
measure something else than the user's pipeline.
"""

from __future__ import annotations

__all__ = ["IMAGE_FOLDER_LOADERS", "OFF_DATA_PATH", "PIP_NAMES", "pip_name", "off_data_path"]

# Keras's loaders of a folder of images in class folders, which a stand-in can answer.
IMAGE_FOLDER_LOADERS = frozenset(
    {"flow_from_directory", "image_dataset_from_directory", "flow_from_dataframe"}
)

PIP_NAMES = {
    "cv2": "opencv-python-headless",
    "sklearn": "scikit-learn",
    "skimage": "scikit-image",
    "PIL": "pillow",
    "yaml": "pyyaml",
    "bs4": "beautifulsoup4",
    "tensorflow_addons": "tensorflow-addons",
    "tensorflow_datasets": "tensorflow-datasets",
    "tensorflow_hub": "tensorflow-hub",
    "keras_tuner": "keras-tuner",
    "kerastuner": "keras-tuner",
    "keras_cv": "keras-cv",
    "keras_nlp": "keras-nlp",
    "imgaug": "imgaug",
    "albumentations": "albumentations",
    "imutils": "imutils",
    "imageio": "imageio",
    "librosa": "librosa",
    "soundfile": "soundfile",
    "pydicom": "pydicom",
    "nibabel": "nibabel",
    "wandb": "wandb",
    "mlflow": "mlflow",
    "neptune": "neptune",
    "comet_ml": "comet-ml",
    "clearml": "clearml",
    "tensorboardX": "tensorboardX",
    "dvclive": "dvclive",
    "telegram": "python-telegram-bot",
    "slack_sdk": "slack-sdk",
    "visualkeras": "visualkeras",
    "livelossplot": "livelossplot",
    "pydot": "pydot",
    "graphviz": "graphviz",
    "GPUtil": "gputil",
    "pynvml": "nvidia-ml-py",
    "dotenv": "python-dotenv",
}

# Trackers, plotting, notifications, notebook and machine helpers: none of them feeds fit().
# Not here, though they look harmless: settings loaders (python-dotenv: the settings may be
# the batch size), frameworks that run the experiment (sacred's `@ex.automain` is what calls
# the training), and pydot/graphviz (Keras checks for them when it is imported, before any
# stub could stand in, so `plot_model` needs them installed).
OFF_DATA_PATH = {
    # experiment trackers
    "wandb": "an experiment tracker",
    "mlflow": "an experiment tracker",
    "neptune": "an experiment tracker",
    "neptune_tensorboard": "an experiment tracker",
    "comet_ml": "an experiment tracker",
    "clearml": "an experiment tracker",
    "trains": "an experiment tracker",
    "tensorboardX": "an experiment tracker",
    "dvclive": "an experiment tracker",
    "aim": "an experiment tracker",
    "codecarbon": "an emissions tracker",
    "memory_profiler": "a profiler",
    # plotting and model pictures
    "seaborn": "a plotting library",
    "bokeh": "a plotting library",
    "visualkeras": "a model-diagram library",
    "ann_visualizer": "a model-diagram library",
    "livelossplot": "a live training plot",
    "plot_keras_history": "a training-history plot",
    # notifications
    "telegram": "a notification library",
    "telegram_send": "a notification library",
    "slack_sdk": "a notification library",
    "slack": "a notification library",
    "knockknock": "a notification library",
    "notifiers": "a notification library",
    "pushbullet": "a notification library",
    "discord": "a notification library",
    "yagmail": "a notification library",
    "twilio": "a notification library",
    # notebooks and the machine
    "ipywidgets": "a notebook widget library",
    "kaggle_secrets": "Kaggle's notebook secrets",
    "GPUtil": "a GPU monitor",
    "pynvml": "a GPU monitor",
    "nvidia_smi": "a GPU monitor",
    "humanize": "a text-formatting helper",
}


def pip_name(module: str) -> str:
    return PIP_NAMES.get(module, module)


def off_data_path(module: str) -> str | None:
    """What the module is, when it is one that never shapes the training data; else None."""
    return OFF_DATA_PATH.get(module.split(".")[0])
