"""`make run` on a fresh copy installs and then answers /healthz; a second `make run` starts in
seconds without reinstalling.

The copy is the working tree as `git ls-files -co --exclude-standard` lists it (tracked and
untracked, not ignored: no .venv, no var/), so uncommitted work is tested too. The first run
creates a venv and pip-installs the service, not the dev tools (pip's cache helps). Set
DARIGER_E2E=0 to skip.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from bot.config import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
FIRST_RUN_SECONDS = 300.0
SECOND_RUN_SECONDS = 60.0
STOP_SECONDS = 30.0
# Variables that would leak the outer `make test` (or a developer's settings) into the copy.
_LEAKY_ENV = {"MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES", "VIRTUAL_ENV"}
_SETTINGS_ENV = {name.upper() for name in Settings.model_fields}

pytestmark = [
    pytest.mark.skipif(os.environ.get("DARIGER_E2E") == "0", reason="DARIGER_E2E=0"),
    pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed"),
    pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed"),
    pytest.mark.skipif(
        not (REPO_ROOT / "backend" / "services" / "demo.py").exists(),
        reason="backend/services/demo.py is not written yet: `make run` needs `dariger demo-data`",
    ),
]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _copy_working_tree(destination: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],  # noqa: S607
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO_ROOT / name
        if not source.is_file():  # deleted in the working tree, or a submodule
            continue
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def _environment() -> dict[str, str]:
    # A developer's PATH may start with this repo's activated venv: drop it, so that the copy
    # builds its own venv from the system python3.
    venv_bin = str(REPO_ROOT / ".venv" / "bin")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _LEAKY_ENV and key not in _SETTINGS_ENV
    }
    env["PATH"] = os.pathsep.join(
        part for part in env.get("PATH", "").split(os.pathsep) if part != venv_bin
    )
    return env


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the whole group (make and the service it started); SIGKILL what is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    while time.monotonic() < deadline and (process.poll() is None or _group_alive(process.pid)):
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=STOP_SECONDS)


def _make_run(clone: Path, log_path: Path, timeout: float) -> tuple[float, str]:
    """Run `make run` until /healthz answers; return the seconds it took and make's output."""
    port = _free_port()
    started = time.monotonic()
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - a fixed command
            ["make", "run", f"PORT={port}"],  # noqa: S607
            cwd=clone,
            env=_environment(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            while not _healthy(port):
                output = log_path.read_text("utf-8", "replace")
                assert process.poll() is None, f"make run exited early:\n{output[-5000:]}"
                assert time.monotonic() - started < timeout, (
                    f"no /healthz within {timeout:.0f}s:\n{output[-5000:]}"
                )
                time.sleep(0.5)
            elapsed = time.monotonic() - started
        finally:
            _stop(process)
    return elapsed, log_path.read_text("utf-8", "replace")


def test_make_run_installs_then_serves_and_a_second_run_starts_fast(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    _copy_working_tree(clone)
    assert not (clone / ".venv").exists()

    first_seconds, first = _make_run(clone, tmp_path / "first.log", FIRST_RUN_SECONDS)
    second_seconds, second = _make_run(clone, tmp_path / "second.log", SECOND_RUN_SECONDS)

    assert "pip install" in first  # the first run built the venv
    assert (clone / ".venv" / ".installed-run").exists()
    # `make run` installs the service only, not the dev tools (`make test` adds those).
    assert not (clone / ".venv" / ".installed").exists()
    assert not (clone / ".venv" / "bin" / "mypy").exists()
    assert "Telegram is off" in first
    assert "pip install" not in second, second  # the stamp kept the venv
    assert "-m venv" not in second, second
    assert second_seconds < SECOND_RUN_SECONDS
    print(f"first make run: {first_seconds:.0f}s, second: {second_seconds:.1f}s")  # noqa: T201
