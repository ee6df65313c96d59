"""`dariger serve` warns at start-up when this or next year's Құрбан айт is unknown (issue 10
part 5): the `holidays` package only estimates it, and an unknown date keeps clinics open on it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from structlog.testing import capture_logs

from backend.bootstrap import Backend, bootstrap
from backend.ports import FixedClock
from backend.services.importer import import_path
from bot import cli
from bot.config import Settings
from bot.runtime import warn_unknown_kurban_ait

ALMATY = ZoneInfo("Asia/Almaty")
JUNE_2027 = dt.datetime(2027, 6, 1, 10, 0, tzinfo=ALMATY)  # 2028 has no known date yet


def _warnings(logs: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [e for e in logs if e["log_level"] == "warning" and "Kurban ait" in str(e["event"])]


async def test_no_warning_while_this_and_next_years_date_is_known(
    backend: Backend, clock: FixedClock
) -> None:
    # Monday 23 November 2026: Құрбан айт 2026 and 2027 are built in.
    with capture_logs() as logs:
        years = await warn_unknown_kurban_ait(backend)

    assert years == []
    assert _warnings(logs) == []


async def test_a_warning_names_the_year_without_a_date_and_how_to_add_it(
    backend: Backend, clock: FixedClock
) -> None:
    clock.current = JUNE_2027

    with capture_logs() as logs:
        years = await warn_unknown_kurban_ait(backend)

    assert years == [2028]
    [warning] = _warnings(logs)
    assert warning["years"] == [2028]
    assert "docs/import.md" in str(warning["event"])
    assert "dariger import" in str(warning["event"])


async def test_a_date_imported_as_a_calendar_day_silences_the_warning_and_closes_clinics(
    backend: Backend, clock: FixedClock, tmp_path: Path
) -> None:
    # What docs/import.md tells the administrator to do.
    path = tmp_path / "kurban-ait-2028.json"
    path.write_text(
        json.dumps(
            {"calendar": [{"date": "2028-05-05", "kind": "day_off", "note": "Құрбан айт"}]}
        ),
        encoding="utf-8",
    )
    await import_path(backend, path)
    clock.current = JUNE_2027

    with capture_logs() as logs:
        years = await warn_unknown_kurban_ait(backend)

    assert years == []
    assert _warnings(logs) == []
    async with backend.uow() as uow:
        holidays = await uow.register.holiday_calendar()
    assert holidays.is_holiday(dt.date(2028, 5, 5))
    assert holidays.kurban_ait_in(2028) == {dt.date(2028, 5, 5)}


async def test_a_calendar_day_off_with_another_note_is_not_taken_for_kurban_ait(
    backend: Backend, clock: FixedClock, tmp_path: Path
) -> None:
    path = tmp_path / "transfer.json"
    path.write_text(
        json.dumps({"calendar": [{"date": "2028-01-03", "kind": "day_off", "note": "transfer"}]}),
        encoding="utf-8",
    )
    await import_path(backend, path)
    clock.current = JUNE_2027

    assert await warn_unknown_kurban_ait(backend) == [2028]


def test_serve_logs_the_warning_at_start_up(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, free_port: int
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{clean_env / 'var' / 'd.db'}")
    monkeypatch.setenv("PORT", str(free_port))
    assert cli.main(["migrate"]) == 0
    settings = Settings()
    monkeypatch.setattr(
        cli, "build_backend", lambda s: bootstrap(s.database_url, clock=FixedClock(JUNE_2027))
    )
    stop = asyncio.Event()
    stop.set()  # stop as soon as the service is up

    with capture_logs() as logs:
        code = asyncio.run(cli.serve(settings, stop=stop))

    assert code == 0
    assert [w["years"] for w in _warnings(logs)] == [[2028]]
