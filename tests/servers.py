"""Real servers for the tests, started once per session from Debian's packages: a
throwaway PostgreSQL (initdb, pg_ctl) and Redis (redis-server), each on a free port of
127.0.0.1 in a scratch folder. Without the package the tests that need it skip, and in
CI they fail (`.ci/run` installs both)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from .conftest import require


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _binary(name: str) -> str | None:
    found = shutil.which(name) or sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found if isinstance(found, str) else (found[-1] if found else None)


def _as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as its own user, when we are root."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="session")
def postgres_url():
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    require(bool(initdb and pg_ctl), "PostgreSQL is not installed (apt-get install postgresql)")
    if os.geteuid() == 0:
        require(_user_exists("postgres"), "no postgres user to run PostgreSQL as")
    home = tempfile.mkdtemp(prefix="fitprobe-test-pg-")
    if os.geteuid() == 0:
        shutil.chown(home, "postgres")
    data = os.path.join(home, "data")
    port = free_port()
    run = {"check": True, "capture_output": True, "timeout": 120}
    subprocess.run(_as_postgres([initdb, "-D", data, "-A", "trust", "-U", "postgres"]), **run)
    options = f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        _as_postgres([pg_ctl, "-D", data, "-o", options, "-l", f"{home}/log", "-w", "start"]),
        **run,
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_postgres([pg_ctl, "-D", data, "-m", "immediate", "stop"]), **run)
        shutil.rmtree(home, ignore_errors=True)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


@pytest.fixture(scope="session")
def redis_url():
    server = shutil.which("redis-server")
    require(server is not None, "Redis is not installed (apt-get install redis-server)")
    home = tempfile.mkdtemp(prefix="fitprobe-test-redis-")
    port = free_port()
    args = [server, "--port", str(port), "--bind", "127.0.0.1", "--dir", home, "--save", "",
            "--appendonly", "no", "--logfile", os.path.join(home, "log")]  # fmt: skip
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_port(port, process)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(home, ignore_errors=True)


def _wait_for_port(port: int, process, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"redis-server exited at once (code {process.returncode})")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"redis-server did not listen on port {port} within {timeout:g} s")
