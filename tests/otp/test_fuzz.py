"""Arbitrary text as an ИИН, a code or a channel id: never an exception, always a typed result."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.domain.iin import Sex, make_iin, normalize
from otp import messages
from otp.codes import normalize_code
from otp.service import (
    OtpService,
    StartResult,
    StartStatus,
    VerifyResult,
    VerifyStatus,
)
from otp.sessions import InMemorySessionStore, SessionService
from otp.storage import InMemoryOtpStore
from tests.otp.conftest import KNOWN, PEPPER, FakeClock, FakeSmsSender, default_directory

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Text near the real shapes (digits, spaces, dashes, other scripts' digits) and anything at all.
codeish = st.one_of(
    st.text(),
    st.from_regex(r"\A[0-9 \-]{0,16}\Z"),
    st.text(alphabet="0123456789٠١٢٣٤٥٦٧٨٩０１２３ -\u00a0\t", max_size=16),
)

valid_iins = st.builds(
    make_iin,
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2025, 12, 31)),
    st.sampled_from(Sex),
    st.integers(0, 9999),
)
iinish = st.one_of(codeish, valid_iins, st.sampled_from([KNOWN, f" {KNOWN[:6]} {KNOWN[6:]} "]))


def service() -> tuple[OtpService, FakeSmsSender]:
    clock = FakeClock()
    directory = default_directory()
    sender = FakeSmsSender()
    return (
        OtpService(
            directory=directory,
            store=InMemoryOtpStore(clock),
            sender=sender,
            sessions=SessionService(InMemorySessionStore(clock), directory, clock=clock),
            pepper=PEPPER,
            clock=clock,
        ),
        sender,
    )


@FUZZ
@given(text=codeish)
def test_normalize_code_never_raises(text: str) -> None:
    value = normalize_code(text)

    assert value is None or (len(value) == 6 and value.isascii() and value.isdigit())


@FUZZ
@given(iin_text=iinish, user=st.text(max_size=40))
async def test_any_iin_text_gives_a_typed_start_result(iin_text: str, user: str) -> None:
    otp, sender = service()

    result = await otp.start(iin_text, "telegram", user)

    assert isinstance(result, StartResult)
    assert result.status in {StartStatus.SENT, StartStatus.INVALID_IIN}
    assert result.masked_phone is None
    assert result.message.format(**result.params)
    if result.status is StartStatus.INVALID_IIN:
        assert sender.sent == []
    else:  # the same reply whether or not the ИИН is registered; only KNOWN gets an SMS
        assert result == StartResult(StartStatus.SENT, messages.CODE_SENT, {"minutes": 5})
        assert len(sender.sent) == (1 if normalize(iin_text) == KNOWN else 0)


@FUZZ
@given(codes=st.lists(codeish, min_size=1, max_size=7))
async def test_any_code_text_gives_a_typed_verify_result(codes: list[str]) -> None:
    otp, sender = service()
    await otp.start(KNOWN, "sms", "+77011234567")
    real = sender.last_code()

    results = [await otp.verify("sms", "+77011234567", text) for text in codes]

    for result in results:
        assert isinstance(result, VerifyResult)
        assert isinstance(result.status, VerifyStatus)
        assert result.message.format(**result.params)
    signed_in = [r for r in results if r.signed_in]
    typed_right = [text for text in codes if normalize_code(text) == real]
    assert len(signed_in) <= 1
    if signed_in:
        assert typed_right
