"""Local mode's worker environment: the user's own, with fitprobe's needs on top."""

from __future__ import annotations

import os

from diagnostics.engine import isolation


def test_local_mode_keeps_the_users_environment_and_path_first(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", "/home/user/lib")
    monkeypatch.setenv("MY_SETTING", "kept")
    monkeypatch.setenv("TF_USE_LEGACY_KERAS", "1")
    env = isolation.local_env("keras3", "cpu")
    assert env["MY_SETTING"] == "kept"  # unlike the sandbox's cleared environment
    assert env["PYTHONPATH"].split(os.pathsep) == ["/home/user/lib", isolation.PACKAGE_ROOT]
    assert env["FITPROBE_LOCAL"] == "1"
    assert not [k for k in env if "EVENT" in k]  # the event pipe is named nowhere here
    assert "TF_USE_LEGACY_KERAS" not in env  # Keras 3's run never gets Keras 2
    assert env["CUDA_VISIBLE_DEVICES"] == "-1"
    keras2 = isolation.local_env("keras2", "gpu")
    assert keras2.get("TF_USE_LEGACY_KERAS") == ("1" if isolation.LEGACY_KERAS else None)
    assert "CUDA_VISIBLE_DEVICES" not in keras2 or keras2["CUDA_VISIBLE_DEVICES"] != "-1"


def test_the_sandboxed_worker_environment_is_cleared(monkeypatch):
    monkeypatch.setenv("SECRET_TOKEN", "do-not-leak")
    env = isolation.worker_env("keras3", "cpu", "/tmp/home", "/tmp")
    assert "SECRET_TOKEN" not in env and "FITPROBE_LOCAL" not in env
    assert not [k for k in env if k.startswith("FITPROBE")]
    assert env["PYTHONPATH"] == isolation.PACKAGE_ROOT
