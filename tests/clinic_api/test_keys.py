"""Clinic API keys: made by `dariger clinic-key`, shown once, kept hashed, revocable; every
request needs one (401 otherwise), and a key sees only its own clinic."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from sqlalchemy import select
from structlog.testing import capture_logs

from backend.adapters import orm
from backend.services import clinic
from bot.cli import main
from tests.clinic_api.conftest import ClinicClient


async def test_keys_are_hashed_at_rest(api: ClinicClient) -> None:
    async with api.backend.engine.connect() as conn:
        rows = (await conn.execute(select(orm.clinic_api_keys))).all()
    assert len(rows) == 2
    stored = " ".join(str(value) for row in rows for value in row)
    for secret in (api.key_a, api.key_b):
        assert secret not in stored
        assert secret.split("_")[-1] not in stored  # not even the secret part
        assert hashlib.sha256(secret.encode()).hexdigest() in stored


async def test_a_key_reaches_its_clinic_and_is_logged_by_id_only(api: ClinicClient) -> None:
    with capture_logs() as logs:
        body = await api.ok(await api.get("/me"))
    assert body == {"status": "ok", "clinic_id": api.world.clinic_a.id, "key_id": api.key_a_id}
    lines = [entry for entry in logs if entry["event"] == "clinic_api"]
    assert lines and lines[-1]["key_id"] == api.key_a_id and lines[-1]["status"] == 200
    assert api.key_a not in repr(logs)
    keys = await clinic.list_keys(api.backend.uow(), "A")
    assert keys[0].last_used_at == api.clock.now()


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer nonsense",
        "Basic dXNlcjpwYXNz",
        "Bearer dcl_000000000000_" + "A" * 43,  # the right shape, no such key
        "Bearer " + "x" * 5000,
    ],
)
async def test_missing_malformed_or_unknown_keys_get_401(
    api: ClinicClient, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    for path in ("/applications", "/me", "/no/such/thing"):
        response = await api.client.get("/api/clinic/v1" + path, headers=headers)
        error = await api.error(response, 401)
        assert error["code"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_a_forged_secret_with_a_real_prefix_gets_401(api: ClinicClient) -> None:
    forged = api.key_a[:-4] + ("AAAA" if not api.key_a.endswith("AAAA") else "BBBB")
    await api.error(await api.get("/me", key=forged), 401)


async def test_a_revoked_key_gets_401_at_once_and_the_other_keys_still_work(
    api: ClinicClient,
) -> None:
    await api.ok(await api.get("/me"))
    await clinic.revoke_key(api.backend.uow(), api.key_a_id, now=api.clock.now())
    error = await api.error(await api.get("/applications"), 401)
    assert error["code"] == "unauthorized"
    await api.ok(await api.get("/me", key=api.key_b))
    keys = await clinic.list_keys(api.backend.uow(), "A")
    assert keys[0].revoked_at == api.clock.now() and not keys[0].active


def test_the_cli_adds_lists_and_revokes_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "var" / "dariger.db"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{db}")
    assert main(["migrate"]) == 0
    assert main(["demo-data"]) == 0
    capsys.readouterr()

    assert main(["clinic-key", "add", "DEMO-AST-05", "--label", "Damumed"]) == 0
    out = capsys.readouterr().out
    keys = re.findall(r"dcl_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", out)
    assert len(keys) == 1, out
    key = keys[0]
    assert "#1" in out and "shown only now" in out
    raw = db.read_bytes()
    assert key.encode() not in raw  # hashed at rest
    assert hashlib.sha256(key.encode()).hexdigest().encode() in raw

    assert main(["clinic-key", "list", "DEMO-AST-05"]) == 0
    listed = capsys.readouterr().out
    assert "#1" in listed and "active" in listed and "Damumed" in listed
    assert key not in listed and key.split("_")[-1] not in listed

    assert main(["clinic-key", "revoke", "1"]) == 0
    assert "revoked" in capsys.readouterr().out
    assert main(["clinic-key", "list", "DEMO-AST-05"]) == 0
    assert "revoked" in capsys.readouterr().out

    assert main(["clinic-key", "add", "NO-SUCH-CLINIC"]) == 1
    assert "no clinic with the code" in capsys.readouterr().err
    assert main(["clinic-key", "revoke", "99"]) == 1
    assert "no clinic API key with the id 99" in capsys.readouterr().err
    assert main(["clinic-key", "revoke", "one"]) == 2
