"""Issue 9 §1 at the service: SMS sign-in bound to the sender, the per-requester send limit,
an ИИН born in the future. (The channel paths are in tests/sms/test_sign_in_binding.py.)"""

from __future__ import annotations

import datetime as dt

import pytest

from backend.domain.iin import Sex, make_iin
from otp import messages
from otp.policy import OtpPolicy
from otp.service import StartStatus, VerifyStatus
from tests.otp.conftest import (
    FOREIGN,
    KNOWN,
    KNOWN_PHONE,
    LANDLINE,
    NO_PHONE,
    OTHER,
    UNKNOWN,
    Env,
    EnvFactory,
)

STRANGER = "+77059876543"


class TestSmsBinding:
    async def test_the_owner_gets_a_code(self, env: Env) -> None:
        result = await env.start(KNOWN, "sms", KNOWN_PHONE)

        assert result.status is StartStatus.SENT
        assert [to for to, _ in env.sender.sent] == [KNOWN_PHONE]
        assert (await env.verify(env.sender.last_code(), "sms", KNOWN_PHONE)).signed_in

    @pytest.mark.parametrize("iin", [KNOWN, OTHER, NO_PHONE, FOREIGN, LANDLINE, UNKNOWN])
    async def test_any_other_iin_gets_one_reply_and_nothing_is_sent_or_kept(
        self, env: Env, iin: str
    ) -> None:
        result = await env.start(iin, "sms", STRANGER)

        assert result.status is StartStatus.NOT_THIS_PHONE
        assert (result.message, result.params) == (messages.NOT_THIS_PHONE, {})
        assert result.retry_after is None
        assert env.sender.sent == []
        # No pending request, no decoy: a resend or a code from this phone finds nothing.
        assert (await env.service.resend("sms", STRANGER)).status is StartStatus.NO_REQUEST
        assert (await env.verify("123456", "sms", STRANGER)).status is VerifyStatus.NO_REQUEST
        assert "code_refused" in env.audit.names()

    async def test_the_refusal_says_nothing_about_a_locked_or_busy_iin(self, env: Env) -> None:
        await env.start(KNOWN, "sms", KNOWN_PHONE)  # the owner's cool-down is running

        result = await env.start(KNOWN, "sms", STRANGER)

        assert result.status is StartStatus.NOT_THIS_PHONE

    async def test_the_same_phone_written_differently_is_the_sender(self, env: Env) -> None:
        env.directory.patients[KNOWN] = (1, "8 (701) 123-45-67")

        result = await env.start(KNOWN, "sms", KNOWN_PHONE)

        assert result.status is StartStatus.SENT

    async def test_a_resend_after_the_phone_changed_is_refused(self, env: Env) -> None:
        await env.start(KNOWN, "sms", KNOWN_PHONE)
        code = env.sender.last_code()
        env.directory.patients[KNOWN] = (1, "+77770000001")
        env.clock.advance(seconds=61)

        resent = await env.service.resend("sms", KNOWN_PHONE)

        assert resent.status is StartStatus.NOT_THIS_PHONE
        assert len(env.sender.sent) == 1
        # The code sent to the old phone is void too.
        assert not (await env.verify(code, "sms", KNOWN_PHONE)).signed_in

    async def test_a_resend_finds_the_phone_by_the_patient(self, env: Env) -> None:
        await env.start(KNOWN, "sms", KNOWN_PHONE)
        env.clock.advance(seconds=61)

        resent = await env.service.resend("sms", KNOWN_PHONE)

        assert resent.status is StartStatus.SENT
        assert [to for to, _ in env.sender.sent] == [KNOWN_PHONE, KNOWN_PHONE]
        assert (await env.verify(env.sender.last_code(), "sms", KNOWN_PHONE)).signed_in

    async def test_telegram_keeps_the_generic_reply(self, env: Env) -> None:
        results = [await env.start(iin, "telegram", "100") for iin in (KNOWN, UNKNOWN)]

        assert [r.status for r in results] == [StartStatus.SENT, StartStatus.SENT]
        assert results[0].message == results[1].message == messages.CODE_SENT


class TestRequesterLimit:
    async def test_one_requester_cannot_text_codes_to_many_patients(
        self, make_env: EnvFactory
    ) -> None:
        env = make_env(policy=OtpPolicy(max_sends_per_requester=3))
        iins = [make_iin(dt.date(1980, 1, 1 + n), Sex.MALE, n) for n in range(3)]
        env.directory.patients.update(
            {iin: (10 + n, f"+7701555000{n}") for n, iin in enumerate(iins)}
        )
        for iin in [*iins[:2], UNKNOWN]:  # decoys count: they must look like sends
            assert (await env.start(iin, "telegram", "100")).status is StartStatus.SENT
            env.clock.advance(seconds=61)

        refused = await env.start(iins[2], "telegram", "100")

        assert refused.status is StartStatus.SEND_LIMIT
        assert refused.message == messages.SEND_LIMIT_MINUTES
        assert refused.retry_after == 24 * 3600 - 3 * 61
        assert len(env.sender.sent) == 2
        # Another requester is not limited; this one is again after the window.
        assert (await env.start(iins[2], "telegram", "200")).status is StartStatus.SENT
        env.clock.advance(hours=24)
        assert (await env.start(KNOWN, "telegram", "100")).status is StartStatus.SENT

    async def test_the_default_allows_ten_sends_a_day(self, env: Env) -> None:
        assert env.policy.max_sends_per_requester == 10
        assert env.policy.requester_send_window == dt.timedelta(hours=24)

    @pytest.mark.parametrize(
        "change",
        [
            {"max_sends_per_requester": 0},
            {"requester_send_window": dt.timedelta(0)},
            {"phone_send_window": dt.timedelta(seconds=-1)},
        ],
    )
    def test_the_policy_refuses_a_limit_that_is_no_limit(self, change: dict[str, object]) -> None:
        with pytest.raises(ValueError, match="send"):
            OtpPolicy(**change)  # type: ignore[arg-type]


class TestBirthDate:
    async def test_an_iin_born_in_the_future_is_invalid(self, env: Env) -> None:
        tomorrow = env.clock.now().date() + dt.timedelta(days=1)
        unborn = make_iin(tomorrow, Sex.FEMALE, 1)
        env.directory.patients[unborn] = (9, KNOWN_PHONE)

        result = await env.start(unborn)

        assert result.status is StartStatus.INVALID_IIN
        assert result.message == messages.INVALID_IIN_FUTURE
        assert result.params == {"reason": "future_date"}
        assert env.sender.sent == []
