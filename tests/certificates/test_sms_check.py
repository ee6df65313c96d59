"""Issue 13: «CHECK <code>» / «ТЕКСЕРУ <code>» / «ПРОВЕРКА <code>» from any phone (no sign-in)
answers valid / revoked / expired / unknown in one segment."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from aiohttp import web

from backend.bootstrap import Backend
from backend.domain.documents import format_code
from backend.domain.statuses import ServiceType
from backend.ports import FixedClock
from backend.services import certificates
from backend.services import documents as service
from backend.services.documents import Documents
from bot.sms.segments import segments
from bot.verify import DOCUMENTS_KEY, STATEMENTS_ENABLED_KEY
from tests.backend.world import World
from tests.sms.conftest import (  # noqa: F401 - the SMS channel's fixtures
    _no_settings_env,
    client,
    gateway,
    phone_of,
    sms_app,
)
from tests.sms.harness import SmsPhone

STRANGER = "+77019998877"  # not a patient of the register, never signed in


@pytest.fixture(autouse=True)
def _documents(sms_app: web.Application, documents: Documents) -> Iterator[None]:  # noqa: F811
    sms_app[STATEMENTS_ENABLED_KEY] = False
    sms_app[DOCUMENTS_KEY].built = documents
    yield


async def test_check_by_sms_from_any_phone_in_one_segment(
    phone_of: object,  # noqa: F811
    *,
    backend: Backend,
    documents: Documents,
    world: World,
    clock: FixedClock,
) -> None:
    summary = await certificates.request_certificate(
        backend.uow(), world.alice.id or 0, ServiceType.STATEMENT_TB, now=clock.now()
    )
    issued = await service.issue_statement(
        backend.uow(), documents, summary.number, now=clock.now()
    )
    assert callable(phone_of)
    stranger: SmsPhone = await phone_of(STRANGER)
    code = format_code(issued.code)
    holder = f"{world.alice.surname} {world.alice.given_name[0]}."

    valid = await stranger.send(f"CHECK {issued.code.lower()}")
    assert code in valid
    assert "03.12.2026" in valid  # valid until: the issue date + 10 days (S17)
    assert holder in valid
    assert world.alice.iin not in valid
    assert segments(valid) == 1

    unknown = await stranger.send("ТЕКСЕРУ ZZZZ-ZZZZ-ZZ")
    assert "ZZZZ-ZZZZ-ZZ" in unknown
    assert holder not in unknown
    assert segments(unknown) == 1

    assert await service.revoke(backend.uow(), issued.code, now=clock.now())
    revoked = await stranger.send(f"ПРОВЕРКА {code}")
    assert code in revoked
    assert revoked != valid
    assert segments(revoked) == 1

    how = await stranger.send("CHECK")
    assert "K7QF-3M9P-XW" in how  # how to type it, with an example code
    assert segments(how) == 1


async def test_check_says_expired_after_valid_until(
    phone_of: object,  # noqa: F811
    *,
    backend: Backend,
    documents: Documents,
    world: World,
    clock: FixedClock,
) -> None:
    summary = await certificates.request_certificate(
        backend.uow(), world.bob.id or 0, ServiceType.STATEMENT_PSYCHIATRY, now=clock.now()
    )
    issued = await service.issue_statement(
        backend.uow(), documents, summary.number, now=clock.now()
    )
    assert callable(phone_of)
    stranger: SmsPhone = await phone_of(STRANGER)
    before = await stranger.send(f"CHECK {issued.code}")

    clock.advance(dt.timedelta(days=11))
    after = await stranger.send(f"CHECK {issued.code}")

    assert after != before
    assert "03.12.2026" in after
    assert segments(after) == 1
