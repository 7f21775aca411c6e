"""Shared helpers: probing is expensive (real TensorFlow), so each input is probed once."""

from __future__ import annotations

import atexit
import functools
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

import pytest

# Tests never write the developer's history: every store they open (the app's too) lives
# in a scratch data directory, set before anything opens one.
os.environ["FITPROBE_DATA_DIR"] = tempfile.mkdtemp(prefix="fitprobe-test-data-")
atexit.register(shutil.rmtree, os.environ["FITPROBE_DATA_DIR"], True)

from diagnostics import probe  # noqa: E402
from sample_generators import samples  # noqa: E402

pytest_plugins = ["tests.servers"]  # PostgreSQL and Redis, for the tests that use them

TESTS = Path(__file__).parent
SITUATIONS = TESTS / "situations"
FIXTURES = TESTS / "fixtures"


def load_expected() -> dict:
    spec = importlib.util.spec_from_file_location("situations_expected", SITUATIONS / "expected.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.EXPECTED


@functools.cache
def probed(path: str, **options) -> dict:
    """The report for `path` probed on both stacks (cached for the session)."""
    return probe(path, keras="both", **options)


def sample_options(name: str, variant: str) -> dict:
    """How a gallery sample's variant is probed (the gallery tests and the fidelity test)."""
    sample = next(s for s in samples() if s.name == name)
    return {
        "keras": "both",
        "script_args": [variant],
        "max_steps": 200,
        "timeout": sample.probe_timeout or 120,
    }


@functools.cache
def probed_sample(name: str, variant: str) -> dict:
    """The report for one variant ("broken" | "fixed") of the gallery sample `name`,
    probed once per session."""
    sample = next(s for s in samples() if s.name == name)
    return probe(sample.path, **sample_options(name, variant))


def in_ci() -> bool:
    """CI=true or CI=1: what must hold there fails, never skips."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def require(ok: bool, why: str) -> None:
    """Skip a test that this machine cannot run (a developer's laptop without bubblewrap,
    say), but fail it in CI, where everything it needs is installed."""
    if ok:
        return
    if in_ci():
        pytest.fail(f"{why}: CI must run this test (.ci/run installs what it needs)")
    pytest.skip(why)


def situation(stem: str) -> str:
    return str(SITUATIONS / f"{stem}.py")


def runs_of(report: dict, stack: str) -> list[dict]:
    return [r for r in report["runs"] if r["stack"] == stack]


def stack_record(report: dict, stack: str) -> dict:
    return next(s for s in report["stacks"] if s["stack"] == stack)


@pytest.fixture(scope="session")
def expected() -> dict:
    return load_expected()
