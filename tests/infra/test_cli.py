"""The `dariger` command line: migrate, demo-data, import, and `serve` as a real process."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from backend.adapters import orm
from backend.bootstrap import Backend, bootstrap
from backend.services.demo import load_demo_data
from bot.cli import TELEGRAM_OFF, main

DARIGER = Path(sys.executable).parent / "dariger"
SERVE_START_SECONDS = 60  # aiogram alone takes seconds to import on a loaded machine
SERVE_STOP_SECONDS = 10.0


def _tables(db_path: Path) -> set[str]:
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in rows}


@pytest.fixture
def sqlite_env(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """DATABASE_URL set to a fresh SQLite file; returns the file's path."""
    db_path = clean_env / "var" / "dariger.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{db_path}")
    return db_path


def test_migrate_creates_the_schema(sqlite_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["migrate"])

    assert code == 0
    assert {"patients", "clinics", "slots", "appointments", "alembic_version"} <= _tables(
        sqlite_env
    )
    assert "latest schema" in capsys.readouterr().out
    assert main(["migrate"]) == 0  # and again: nothing to do


def test_demo_data_loads_once_and_tops_up_after(
    sqlite_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0
    capsys.readouterr()

    first = main(["demo-data"])
    first_out = capsys.readouterr().out
    second = main(["demo-data"])
    second_out = capsys.readouterr().out

    assert (first, second) == (0, 0)
    assert first_out.startswith("Demo data loaded")
    assert second_out.startswith("Demo data already present")


async def _load_demo_a_week_ago(url: str) -> int:
    """The demo city as loaded seven (Almaty) days ago; returns the number of slots."""
    backend = bootstrap(url)
    try:
        today = dt.datetime.now(ZoneInfo("Asia/Almaty")).date()
        await load_demo_data(backend, today=today - dt.timedelta(days=7))
        return await _count_slots_with(backend)
    finally:
        await backend.close()


async def _count_slots(url: str) -> int:
    backend = bootstrap(url)
    try:
        return await _count_slots_with(backend)
    finally:
        await backend.close()


async def _count_slots_with(backend: Backend) -> int:
    async with backend.uow() as uow:
        stmt = select(func.count()).select_from(orm.slots)
        return int((await uow.session.execute(stmt)).scalar_one())


def test_top_up_slots_adds_the_days_that_came_into_the_horizon(
    clean_env: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    before = asyncio.run(_load_demo_a_week_ago(database_url))

    first = main(["top-up-slots"])
    first_out = capsys.readouterr().out
    after = asyncio.run(_count_slots(database_url))
    second = main(["top-up-slots"])
    second_out = capsys.readouterr().out

    assert (first, second) == (0, 0)
    assert after > before
    assert first_out.startswith(f"Slots topped up: {after - before} new (next 14 days")
    assert second_out.startswith("Slots topped up: 0 new")
    assert asyncio.run(_count_slots(database_url)) == after


def test_top_up_slots_days_and_failures(
    sqlite_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["top-up-slots", "--days", "0"]) == 2
    assert "--days" in capsys.readouterr().err

    code = main(["top-up-slots"])  # not migrated yet

    err = capsys.readouterr().err
    assert code == 1
    assert "cannot top up slots (run `dariger migrate` first?)" in err
    assert "Traceback" not in err
    assert main(["migrate"]) == 0
    capsys.readouterr()
    assert main(["top-up-slots", "--days", "30"]) == 0
    assert capsys.readouterr().out.startswith("Slots topped up: 0 new (next 30 days")


def test_import_reports_a_bad_file_clearly(
    sqlite_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0
    bad = sqlite_env.parent.parent / "register.json"
    bad.write_text('{"patients": [{"iin": "900101300126", "surname": ', "utf-8")
    capsys.readouterr()

    code = main(["import", str(bad)])

    err = capsys.readouterr().err
    assert code == 1
    assert f"import of {bad} failed" in err
    assert "Traceback" not in err
    assert "900101300126" not in err


def test_import_of_a_missing_path_fails_clearly(
    sqlite_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["import", str(sqlite_env.parent / "nothing-here")])

    assert code == 1
    assert "does not exist" in capsys.readouterr().err


def test_migrate_of_an_unreachable_database_fails_without_traceback(
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    free_port: int,
) -> None:
    monkeypatch.setenv(
        "DATABASE_URL", f"postgresql://postgres:hunter2@127.0.0.1:{free_port}/postgres"
    )

    code = main(["migrate"])

    err = capsys.readouterr().err
    assert code == 1
    assert "cannot migrate postgresql+asyncpg://postgres:***@127.0.0.1" in err
    assert "hunter2" not in err
    assert "Traceback" not in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["no-such-command"]) == 2
    assert "usage: dariger" in capsys.readouterr().err


def test_help_from_the_installed_script(subprocess_env: dict[str, str]) -> None:
    result = subprocess.run(  # noqa: S603 - our own entry point
        [str(DARIGER), "--help"],
        capture_output=True,
        text=True,
        env=subprocess_env,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0
    for command in ("serve", "migrate", "demo-data", "import", "top-up-slots"):
        assert command in result.stdout


def test_python_dash_m_bot_is_the_same_cli(subprocess_env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "import", "--help"],
        capture_output=True,
        text=True,
        env=subprocess_env,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0
    assert "PATH" in result.stdout


def _get_json(url: str) -> tuple[int, dict[str, str]] | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own server
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
    except OSError:
        return None  # not listening yet


def test_serve_answers_healthz_and_stops_cleanly_on_sigterm(
    tmp_path: Path, free_port: int, subprocess_env: dict[str, str]
) -> None:
    env = {
        **subprocess_env,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'var' / 'dariger.db'}",
        "PORT": str(free_port),
        "LOG_FORMAT": "json",
    }
    process = subprocess.Popen(  # noqa: S603 - our own entry point
        [str(DARIGER), "serve"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{free_port}"
    try:
        deadline = time.monotonic() + SERVE_START_SECONDS
        health = None
        while health is None and time.monotonic() < deadline and process.poll() is None:
            health = _get_json(f"{base}/healthz")
            if health is None:
                time.sleep(0.2)
        assert health == (200, {"status": "ok"}), "serve did not answer /healthz in time"
        assert _get_json(f"{base}/readyz") == (
            200,
            {"status": "ready", "database": "ok", "redis": "not configured"},
        )

        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=SERVE_STOP_SECONDS)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()

    assert process.returncode == 0, output
    assert f"Dariger is serving on {base}" in output
    assert TELEGRAM_OFF in output
    assert "Dariger stopped" in output
    assert "patients" in _tables(tmp_path / "var" / "dariger.db")  # migrated on start


def test_serve_on_a_busy_port_fails_clearly(
    sqlite_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        monkeypatch.setenv("PORT", str(busy.getsockname()[1]))

        code = main(["serve"])

    err = capsys.readouterr().err
    assert code == 1
    assert "cannot listen on 127.0.0.1:" in err
    assert "Traceback" not in err


def test_outbox_lists_the_console_senders_messages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    from otp import ConsoleSmsSender

    outbox = tmp_path / "sms.jsonl"
    asyncio.run(ConsoleSmsSender(outbox).send("+77011234567", "Dariger code: 123 456"))
    monkeypatch.setenv("CONSOLE_SMS_PATH", str(outbox))

    assert main(["outbox"]) == 0

    out = capsys.readouterr().out
    assert "Dariger code: 123 456" in out
    assert "+77011234567" not in out  # the phone is shown masked


def test_outbox_when_empty_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONSOLE_SMS_PATH", str(tmp_path / "none.jsonl"))

    assert main(["outbox"]) == 0

    assert "no SMS yet" in capsys.readouterr().out
