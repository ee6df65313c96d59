"""`dariger operator …` and `dariger clinic-staff add`: accounts from the command line, with
passwords never in argv and never stored in clear."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from backend.bootstrap import bootstrap
from backend.services import staff
from bot.cli import main
from bot.config import Settings


def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "var" / "dariger.db"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{db}")
    assert main(["migrate"]) == 0
    assert main(["demo-data"]) == 0
    return db


def sign_in(login: str, password: str) -> staff.NewSession | None:
    async def run() -> staff.NewSession | None:
        backend = bootstrap(Settings().database_url)
        try:
            return await staff.sign_in(backend.uow(), login, password, now=backend.clock.now())
        finally:
            await backend.close()

    return asyncio.run(run())


def test_operator_add_prints_a_one_time_password_and_keeps_only_its_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = cli_db(tmp_path, monkeypatch)
    capsys.readouterr()

    assert main(["operator", "add", "Anna", "--role", "supervisor", "--name", "Anna K"]) == 0
    out = capsys.readouterr().out
    password = out.strip().splitlines()[-1]
    assert "anna (supervisor)" in out
    assert len(password) >= staff.MIN_PASSWORD
    assert password.encode() not in db.read_bytes()
    made = sign_in("anna", password)
    assert made is not None
    assert made.session.account.must_change_password

    assert main(["operator", "add", "anna"]) == 1  # taken
    assert "taken" in capsys.readouterr().err


def test_reset_reads_the_password_from_stdin_and_remove_disables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cli_db(tmp_path, monkeypatch)
    assert main(["operator", "add", "anna"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("a chosen long password\n"))
    assert main(["operator", "reset", "anna", "--password-stdin"]) == 0
    out = capsys.readouterr().out
    assert "a chosen long password" not in out
    assert sign_in("anna", "a chosen long password") is not None

    assert main(["operator", "remove", "anna"]) == 0
    assert sign_in("anna", "a chosen long password") is None
    assert main(["operator", "reset", "nobody"]) == 1


def test_clinic_staff_need_a_known_clinic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cli_db(tmp_path, monkeypatch)
    capsys.readouterr()

    assert main(["clinic-staff", "add", "nurse", "--clinic", "NOPE"]) == 1
    assert "no clinic" in capsys.readouterr().err
    assert main(["clinic-staff", "add", "nurse", "--clinic", "DEMO-AST-05"]) == 0
    assert "nurse (clinic_staff, clinic DEMO-AST-05)" in capsys.readouterr().out
    assert main(["operator", "list"]) == 0
    assert "nurse\tclinic_staff DEMO-AST-05\tactive" in capsys.readouterr().out
