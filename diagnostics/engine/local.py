"""Local mode: probe on the user's own machine, in this interpreter's environment.

The worker runs with this Python, its TensorFlow and Keras, its packages, in the
current working directory (where the script's data is), with the user's environment,
and no sandbox: it is the user's own code on the user's own machine. Which stacks can
run in this environment (in any mode: workers always run in it) is read from the
installed packages' metadata, without importing TensorFlow.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from diagnostics.engine.sandbox import Isolation
from diagnostics.schema import major_minor

__all__ = ["LOCAL", "local_stacks"]

LOCAL = Isolation(
    "local",
    None,
    network=True,
    filesystem="the user's own, in their working directory",
    reason="local mode: the user's own machine, no sandbox",
)
TENSORFLOW_DISTRIBUTIONS = ("tensorflow", "tensorflow-cpu", "tensorflow-macos", "tf-nightly")


def _version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def local_stacks() -> dict[str, str | None]:
    """{stack: None if it can run here, else why not, in one plain clause}."""
    tf = next((v for v in map(_version, TENSORFLOW_DISTRIBUTIONS) if v), None)
    if tf is None:
        missing = "TensorFlow is not installed in this environment"
        return {"keras3": missing, "keras2": missing}
    if major_minor(tf) < (2, 16):  # tf.keras is Keras 2, and Keras 3 cannot run beside it
        return {
            "keras3": f"TensorFlow {tf} ships Keras 2 only (tf.keras); Keras 3 needs "
            "TensorFlow 2.16 or newer",
            "keras2": None,
        }
    keras = _version("keras")
    return {
        "keras3": None
        if keras and major_minor(keras) >= (3, 0)
        else "Keras 3 (the `keras` package) is not installed in this environment",
        "keras2": None
        if _version("tf-keras") or _version("tf_keras")
        else f"Keras 2 (`tf_keras`) is not installed in this environment "
        f"(pip install tf_keras=={'.'.join(tf.split('.')[:2])}.*)",
    }
