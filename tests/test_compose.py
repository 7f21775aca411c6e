"""compose.yaml, checked without a Docker engine (there is none here or in CI).

`docker compose config` would need the Compose CLI; instead the file is validated against
the Compose Specification's own JSON Schema, as vendored (and pinned) by check-jsonschema,
which catches misspelled keys and wrong shapes. The schema cannot know fitprobe, so the
facts the stack depends on (one shared queue and history, the worker command, healthy
dependencies, pinned images, the sandbox's seccomp setting) are asserted here too.
"""

from __future__ import annotations

import copy
import json
import re
import shlex
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest
import yaml

from diagnostics.schema import DEFAULT_TIMEOUT

COMPOSE = Path(__file__).resolve().parent.parent / "compose.yaml"
FITPROBE = ("app", "worker")
BACKING = ("redis", "postgres")
SHARED_ENV = ("FITPROBE_QUEUE_URL", "FITPROBE_DATABASE_URL")


@pytest.fixture(scope="module")
def compose() -> dict:
    # safe_load resolves the `<<: *fitprobe` merge keys, as Compose itself does.
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    text = files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json")
    schema = json.loads(text.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _errors(validator, document) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in validator.iter_errors(document)
    ]


def _seconds(duration: str) -> float:
    """A Compose duration ("90s", "1m30s", "11m") in seconds."""
    parts = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", duration)
    assert parts and duration, f"not a Compose duration: {duration!r}"
    hours, minutes, seconds = (int(p or 0) for p in parts.groups())
    return hours * 3600 + minutes * 60 + seconds


def test_compose_matches_the_compose_specification(compose, validator):
    assert _errors(validator, compose) == []
    assert "version" not in compose  # obsolete in the Compose Specification


def test_the_schema_rejects_what_compose_would(compose, validator):
    # Without this, a schema that accepted anything would pass the test above.
    broken = copy.deepcopy(compose)
    broken["services"]["worker"]["stop_grace_periodd"] = "2m"
    broken["services"]["app"]["depends_on"]["redis"]["condition"] = "service_ready"
    errors = _errors(validator, broken)
    assert any("stop_grace_periodd" in e for e in errors), errors
    # depends_on may be a list or a map, so the error is reported on depends_on as a whole.
    assert any(e.startswith("services/app/depends_on:") for e in errors), errors


def test_app_and_workers_share_one_queue_and_one_history(compose):
    services = compose["services"]
    envs = [services[name].get("environment") for name in FITPROBE]
    assert envs[0] == envs[1]
    for name in SHARED_ENV:
        assert envs[0].get(name), f"{name} is not set for the app and the workers"
    assert envs[0]["FITPROBE_QUEUE_URL"].startswith("redis://redis:")
    assert envs[0]["FITPROBE_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "@postgres:" in envs[0]["FITPROBE_DATABASE_URL"]
    # One image for both, so a worker never runs other code than the app that queued it.
    assert services["app"]["build"] == services["worker"]["build"]
    assert services["app"]["image"] == services["worker"]["image"]


def test_workers_run_the_queue_worker_and_are_scalable(compose):
    worker = compose["services"]["worker"]
    command = worker["command"]
    argv = shlex.split(command) if isinstance(command, str) else command
    assert argv[-3:] == ["-m", "diagnostics", "worker"]
    assert "ports" not in worker  # a published port would stop `--scale worker=N`
    assert "container_name" not in worker  # so would a fixed name
    assert worker["deploy"]["replicas"] >= 2
    # SIGTERM finishes the probe in hand: at least a probe at the default limit must fit.
    assert _seconds(worker["stop_grace_period"]) > DEFAULT_TIMEOUT


def test_the_sandbox_can_start_in_the_app_and_the_workers(compose):
    for name in FITPROBE:
        assert "seccomp=unconfined" in compose["services"][name].get("security_opt", []), name


def test_app_is_published_and_health_checked(compose):
    app = compose["services"]["app"]
    assert "8501:8501" in app["ports"]
    test = " ".join(app["healthcheck"]["test"])
    assert "urllib" in test and "http://localhost:8501/_stcore/health" in test
    assert "curl" not in test and "wget" not in test  # neither is in the slim image


@pytest.mark.parametrize("name", FITPROBE)
def test_fitprobe_waits_for_healthy_backing_services(compose, name):
    depends_on = compose["services"][name]["depends_on"]
    for backing in BACKING:
        assert depends_on[backing]["condition"] == "service_healthy", (name, backing)


@pytest.mark.parametrize("name", BACKING)
def test_backing_services_have_health_checks(compose, name):
    health = compose["services"][name]["healthcheck"]
    probe = {"redis": "redis-cli", "postgres": "pg_isready"}[name]
    assert health["test"][0] in ("CMD", "CMD-SHELL") and probe in health["test"][1]
    assert not health.get("disable", False)


def test_every_image_is_pinned(compose):
    for name, service in compose["services"].items():
        image = service.get("image")
        assert image or "build" in service, f"{name} has neither an image nor a build"
        if not image:
            continue
        _, _, tag = image.rpartition("/")[2].partition(":")
        assert tag and tag != "latest", f"{name}: {image} is not pinned to a tag"
        if "build" not in service:
            # A pulled image names a release (postgres's are major.minor), not a moving major.
            assert re.match(r"\d+\.\d+(\.\d+)?(-|$)", tag), f"{name}: {image} is not a release"


def test_postgres_keeps_the_history_in_a_named_volume(compose):
    postgres = compose["services"]["postgres"]
    env = postgres["environment"]
    assert env["POSTGRES_USER"] == env["POSTGRES_DB"] == "fitprobe" and env["POSTGRES_PASSWORD"]
    # The history URL must name the user, password and database that postgres creates.
    url = compose["services"]["app"]["environment"]["FITPROBE_DATABASE_URL"]
    assert url.endswith(
        f"{env['POSTGRES_USER']}:{env['POSTGRES_PASSWORD']}@postgres:5432/{env['POSTGRES_DB']}"
    )
    volumes = [v.split(":")[0] for v in postgres["volumes"] if isinstance(v, str)]
    assert any(v in (compose.get("volumes") or {}) for v in volumes)
