"""Sign-in by ИИН + SMS code: the OTP policy, on the in-memory store and on real Redis."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Mapping

import pytest
from structlog.testing import capture_logs

from backend.domain.iin import mask_iin
from backend.domain.phone import mask_phone
from otp import messages
from otp.audit import AuditEvent, StructlogAuditSink
from otp.codes import format_code, generate, normalize_code
from otp.messages import ParamValue
from otp.policy import OtpPolicy
from otp.sender import SmsSendError
from otp.service import StartResult, StartStatus, VerifyResult, VerifyStatus, contact_matches
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
    FakeSmsSender,
    wrong_code,
)

GENERIC = StartResult(StartStatus.SENT, messages.CODE_SENT, {"minutes": 5})


async def fail_five_times(env: Env, code: str, user: str = "100") -> None:
    for _ in range(5):
        await env.verify(wrong_code(code), user=user)


class TestSignIn:
    async def test_known_iin_gets_a_grouped_code_and_signs_in(self, env: Env) -> None:
        started = await env.start()

        assert started == GENERIC
        assert started.masked_phone is None
        [(to, body)] = env.sender.sent
        assert to == KNOWN_PHONE
        code = env.sender.last_code()
        assert format_code(code) in body
        verified = await env.verify(code)
        assert verified.status is VerifyStatus.SIGNED_IN
        assert verified.message == messages.SIGNED_IN
        assert verified.masked_phone == "+7 701 *** ** 67"
        assert verified.session is not None
        assert verified.session.patient_id == 1
        assert verified.session.phone_key == env.sessions.phone_key(KNOWN_PHONE)
        assert verified.session.channel == "telegram"
        assert verified.session.channel_user_id == "100"

    @pytest.mark.parametrize("typed", ["{a} {b}", " {a}-{b} ", "{a}{b}\n", "{a}\u00a0{b}"])
    async def test_code_is_accepted_with_spaces_or_dashes(self, env: Env, typed: str) -> None:
        await env.start()
        code = env.sender.last_code()

        verified = await env.verify(typed.format(a=code[:3], b=code[3:]))

        assert verified.signed_in

    async def test_registered_phone_is_normalised_before_sending(self, env: Env) -> None:
        await env.start(OTHER)

        assert env.sender.sent[-1][0] == "+77057654321"

    async def test_code_is_bound_to_the_channel_identity_that_asked(self, env: Env) -> None:
        await env.start(user="100")
        code = env.sender.last_code()

        other_user = await env.verify(code, user="200")
        other_channel = await env.verify(code, channel="sms", user="100")

        assert other_user.status is VerifyStatus.NO_REQUEST
        assert other_channel.status is VerifyStatus.NO_REQUEST
        assert (await env.verify(code, user="100")).signed_in

    async def test_sms_text_renderer_gets_the_message_id_params_and_locale(
        self, make_env: EnvFactory
    ) -> None:
        seen: list[tuple[str, Mapping[str, ParamValue], str | None]] = []

        def render(message_id: str, params: Mapping[str, ParamValue], locale: str | None) -> str:
            seen.append((message_id, params, locale))
            return f"[{locale}] {params['code']}"

        env = make_env(sms_text=render)
        await env.service.start(KNOWN, "telegram", "100", locale="kk")

        [(message_id, params, locale)] = seen
        assert (message_id, locale, params["minutes"]) == (messages.SMS_CODE, "kk", 5)
        assert env.sender.sent[-1][1] == f"[kk] {params['code']}"


class TestExpiryAndSingleUse:
    async def test_code_works_until_its_lifetime_ends(self, env: Env) -> None:
        await env.start()
        env.clock.advance(minutes=4, seconds=59)

        assert (await env.verify(env.sender.last_code())).signed_in

    async def test_code_expires_after_five_minutes(self, env: Env) -> None:
        await env.start()
        env.clock.advance(minutes=5)

        verified = await env.verify(env.sender.last_code())

        assert verified.status is VerifyStatus.EXPIRED
        assert verified.message == messages.CODE_EXPIRED
        assert verified.session is None

    async def test_code_is_single_use(self, env: Env) -> None:
        await env.start()
        code = env.sender.last_code()
        assert (await env.verify(code)).signed_in

        again = await env.verify(code)

        assert not again.signed_in
        assert again.status is VerifyStatus.NO_REQUEST

    async def test_new_code_invalidates_the_previous_one(self, env: Env) -> None:
        await env.start()
        first = env.sender.last_code()
        env.clock.advance(seconds=61)
        assert await env.service.resend("telegram", "100") == GENERIC
        second = env.sender.last_code()
        if first == second:  # one chance in a million
            pytest.skip("the two random codes happened to be equal")

        old = await env.verify(first)
        new = await env.verify(second)

        assert old.status is VerifyStatus.WRONG_CODE
        assert new.signed_in

    async def test_code_from_another_channel_supersedes_this_one(self, env: Env) -> None:
        await env.start(channel="telegram", user="100")
        telegram_code = env.sender.last_code()
        env.clock.advance(seconds=61)
        await env.start(channel="sms", user=KNOWN_PHONE)

        verified = await env.verify(telegram_code, channel="telegram", user="100")

        assert verified.status is VerifyStatus.EXPIRED
        assert (await env.verify(env.sender.last_code(), "sms", KNOWN_PHONE)).signed_in

    async def test_forget_drops_the_pending_sign_in(self, env: Env) -> None:
        await env.start()
        code = env.sender.last_code()

        await env.service.forget("telegram", "100")

        assert (await env.verify(code)).status is VerifyStatus.NO_REQUEST

    async def test_verify_without_a_request(self, env: Env) -> None:
        verified = await env.verify("123456")

        assert verified.status is VerifyStatus.NO_REQUEST
        assert verified.message == messages.NO_REQUEST


class TestWrongCodesAndLocks:
    async def test_wrong_code_tells_attempts_left(self, env: Env) -> None:
        await env.start()
        code = env.sender.last_code()

        results = [await env.verify(wrong_code(code)) for _ in range(4)]

        assert [r.attempts_left for r in results] == [4, 3, 2, 1]
        assert {r.status for r in results} == {VerifyStatus.WRONG_CODE}
        assert results[0].message == messages.CODE_WRONG
        assert results[0].params == {"attempts_left": 4}

    async def test_sixth_attempt_is_refused_even_with_the_right_code(self, env: Env) -> None:
        await env.start()
        code = env.sender.last_code()

        await fail_five_times(env, code)
        sixth = await env.verify(code)

        assert sixth.status is VerifyStatus.LOCKED
        assert sixth.session is None
        assert await env.sessions.current("telegram", "100") is None

    async def test_lock_tells_the_wait_and_kills_the_code(self, env: Env) -> None:
        await env.start()
        code = env.sender.last_code()
        for _ in range(4):
            await env.verify(wrong_code(code))

        fifth = await env.verify(wrong_code(code))

        assert fifth.status is VerifyStatus.LOCKED
        assert fifth.retry_after == 30
        assert fifth.message == messages.LOCKED_SECONDS
        assert fifth.params == {"seconds": 30, "minutes": 1}
        env.clock.advance(seconds=10)
        assert (await env.verify(code)).retry_after == 20
        env.clock.advance(seconds=21)
        assert (await env.verify(code)).status is VerifyStatus.EXPIRED

    async def test_start_is_refused_while_locked(self, env: Env) -> None:
        await env.start()
        await fail_five_times(env, env.sender.last_code())
        env.clock.advance(seconds=20)

        again = await env.start()

        assert again.status is StartStatus.LOCKED
        assert again.retry_after == 10
        assert len(env.sender.sent) == 1

    async def test_lock_waits_escalate_up_to_one_hour(self, env: Env) -> None:
        waits: list[int | None] = []
        for _ in range(5):
            assert await env.start() == GENERIC
            code = env.sender.last_code()
            for _ in range(4):
                await env.verify(wrong_code(code))
            locked = await env.verify(wrong_code(code))
            waits.append(locked.retry_after)
            env.clock.advance(seconds=(locked.retry_after or 0) + 61)

        assert waits == [30, 120, 600, 3600, 3600]

    async def test_long_lock_is_told_in_minutes(self, env: Env) -> None:
        await env.start()
        await fail_five_times(env, env.sender.last_code())
        env.clock.advance(seconds=91)
        await env.start()

        await fail_five_times(env, env.sender.last_code())
        locked = await env.verify("000000")

        assert locked.message == messages.LOCKED_MINUTES
        assert locked.params["minutes"] == 2

    async def test_resend_does_not_reset_the_wrong_code_count(self, env: Env) -> None:
        await env.start()
        for _ in range(3):
            await env.verify(wrong_code(env.sender.last_code()))
        env.clock.advance(seconds=61)
        await env.service.resend("telegram", "100")
        code = env.sender.last_code()

        fourth = await env.verify(wrong_code(code))
        fifth = await env.verify(wrong_code(code))

        assert fourth.attempts_left == 1
        assert fifth.status is VerifyStatus.LOCKED

    async def test_new_channel_identity_does_not_reset_the_count(self, env: Env) -> None:
        await env.start(user="100")
        for _ in range(4):
            await env.verify(wrong_code(env.sender.last_code()), user="100")
        env.clock.advance(seconds=61)
        await env.start(user="200")

        fifth = await env.verify(wrong_code(env.sender.last_code()), user="200")

        assert fifth.status is VerifyStatus.LOCKED

    async def test_success_clears_the_count_and_the_escalation(self, env: Env) -> None:
        await env.start()
        await fail_five_times(env, env.sender.last_code())
        env.clock.advance(seconds=61)
        await env.start()
        for _ in range(4):
            await env.verify(wrong_code(env.sender.last_code()))
        assert (await env.verify(env.sender.last_code())).signed_in
        env.clock.advance(seconds=61)
        await env.start()

        results = [await env.verify(wrong_code(env.sender.last_code())) for _ in range(5)]

        assert results[3].attempts_left == 1
        assert results[4].retry_after == 30

    async def test_text_that_cannot_be_a_code_costs_no_attempt(self, env: Env) -> None:
        # Issue 9 §1 / issue 15: words, a 12-digit ИИН, the wrong length get a hint instead.
        await env.start()
        not_codes = ["12345", "abcdef", "١٢٣٤٥٦", "", "x" * 999, "hello", KNOWN, "1234567"]

        results = [await env.verify(text) for text in not_codes]

        assert {r.status for r in results} == {VerifyStatus.NOT_A_CODE}
        assert {r.message for r in results} == {messages.NOT_A_CODE}
        assert results[0].params == {"digits": 6}
        assert all(r.attempts_left is None for r in results)
        assert "code_failed" not in env.audit.names()
        # All 5 attempts are left: the first wrong code leaves 4, and the right one still works.
        wrong = await env.verify(wrong_code(env.sender.last_code()))
        assert wrong.attempts_left == 4
        assert (await env.verify(env.sender.last_code())).signed_in


class TestSendLimits:
    async def test_resend_cooldown(self, env: Env) -> None:
        await env.start()
        env.clock.advance(seconds=10)

        early = await env.service.resend("telegram", "100")
        env.clock.advance(seconds=50)
        on_time = await env.service.resend("telegram", "100")

        assert early.status is StartStatus.TOO_EARLY
        assert early.retry_after == 50
        assert early.message == messages.RESEND_TOO_EARLY
        assert early.params == {"seconds": 50, "minutes": 1}
        assert on_time == GENERIC
        assert len(env.sender.sent) == 2

    async def test_cooldown_also_applies_to_a_repeated_start(self, env: Env) -> None:
        await env.start()

        again = await env.start(user="999")

        assert again.status is StartStatus.TOO_EARLY
        assert len(env.sender.sent) == 1

    async def test_resend_without_a_request(self, env: Env) -> None:
        result = await env.service.resend("telegram", "100")

        assert result.status is StartStatus.NO_REQUEST
        assert result.message == messages.NO_REQUEST

    async def test_at_most_five_sends_per_phone_in_ten_minutes(self, env: Env) -> None:
        for _ in range(5):
            assert await env.start() == GENERIC
            env.clock.advance(seconds=61)

        sixth = await env.start()

        assert sixth.status is StartStatus.SEND_LIMIT
        assert sixth.retry_after == 600 - 5 * 61
        assert sixth.message == messages.SEND_LIMIT_MINUTES
        assert len(env.sender.sent) == 5
        env.clock.advance(seconds=sixth.retry_after)
        assert await env.start() == GENERIC

    async def test_daily_cap_per_iin(self, env: Env) -> None:
        for _ in range(10):
            assert await env.start() == GENERIC
            env.clock.advance(minutes=11)

        eleventh = await env.start()

        assert eleventh.status is StartStatus.SEND_LIMIT
        assert eleventh.retry_after == 24 * 3600 - 10 * 11 * 60
        assert len(env.sender.sent) == 10

    async def test_daily_cap_is_a_setting(self, make_env: EnvFactory) -> None:
        env = make_env(policy=OtpPolicy(max_sends_per_iin=2))
        for _ in range(2):
            await env.start()
            env.clock.advance(minutes=11)

        assert (await env.start()).status is StartStatus.SEND_LIMIT

    async def test_send_failure_is_reported_and_leaves_no_code(self, make_env: EnvFactory) -> None:
        env = make_env(sender=FakeSmsSender(fail_with=SmsSendError("twilio_http_500_code_500")))

        started = await env.start()
        verified = await env.verify("123456")

        assert started.status is StartStatus.SEND_FAILED
        assert started.message == messages.SEND_FAILED
        assert "1414" in started.message
        assert verified.status is VerifyStatus.EXPIRED
        [event] = [e for e in env.audit.events if e.name == "send_failed"]
        assert event.details["reason"] == "twilio_http_500_code_500"

    async def test_unexpected_sender_error_is_a_send_failure(self, make_env: EnvFactory) -> None:
        env = make_env(sender=FakeSmsSender(fail_with=RuntimeError("bug in an adapter")))

        started = await env.start()

        assert started.status is StartStatus.SEND_FAILED


class TestEnumeration:
    @pytest.mark.parametrize("iin", [UNKNOWN, NO_PHONE, FOREIGN, LANDLINE])
    async def test_reply_is_identical_and_nothing_is_sent(self, env: Env, iin: str) -> None:
        known = await env.start(KNOWN, user="1")

        other = await env.start(iin, user="2")

        assert other == known == GENERIC
        assert dataclasses.asdict(other) == dataclasses.asdict(known)
        assert [to for to, _ in env.sender.sent] == [KNOWN_PHONE]

    async def test_the_same_lookup_and_storage_work_is_done(self, env: Env) -> None:
        await env.start(UNKNOWN, user="2")

        assert env.directory.lookups == [UNKNOWN]
        assert (await env.verify("123456", user="2")).attempts_left == 4

    @pytest.mark.parametrize("iin", [UNKNOWN, FOREIGN])
    async def test_later_replies_are_identical_too(self, env: Env, iin: str) -> None:
        await env.start(KNOWN, user="1")
        await env.start(iin, user="2")
        known_code = env.sender.last_code()

        def shape(results: list[VerifyResult]) -> list[tuple[object, ...]]:
            return [
                (r.status, r.message, r.params, r.attempts_left, r.retry_after) for r in results
            ]

        known = [await env.verify(wrong_code(known_code), user="1") for _ in range(6)]
        other = [await env.verify(wrong_code(known_code), user="2") for _ in range(6)]
        env.clock.advance(seconds=61)
        known_again = await env.service.resend("telegram", "1")
        other_again = await env.service.resend("telegram", "2")

        assert shape(other) == shape(known)
        assert other_again == known_again == GENERIC

    async def test_the_decoy_never_signs_in(self, make_env: EnvFactory) -> None:
        env = make_env(generate_code=lambda digits: "123456")

        await env.start(UNKNOWN)

        assert (await env.verify("123456")).status is VerifyStatus.WRONG_CODE

    async def test_decoy_takes_about_as_long_as_a_real_send(self, make_env: EnvFactory) -> None:
        env = make_env(sender=FakeSmsSender(delay=0.05))
        await env.start(KNOWN, user="1")

        began = time.monotonic()
        await env.start(UNKNOWN, user="2")

        assert time.monotonic() - began >= 0.04

    async def test_audit_says_why_nothing_was_sent(self, env: Env) -> None:
        for user, iin in enumerate([UNKNOWN, NO_PHONE, FOREIGN, LANDLINE]):
            await env.start(iin, user=str(user))

        reasons = [e.details["reason"] for e in env.audit.events if e.name == "code_withheld"]
        assert reasons == ["unknown_iin", "no_phone", "not_kz_mobile", "not_kz_mobile"]
        assert env.sender.sent == []


class TestInvalidIin:
    @pytest.mark.parametrize(
        ("text", "message", "reason"),
        [
            ("12345", messages.INVALID_IIN_LENGTH, "not_12_digits"),
            ("abcdefghijkl", messages.INVALID_IIN_LENGTH, "not_12_digits"),
            (
                KNOWN[:11] + str((int(KNOWN[11]) + 1) % 10),
                messages.INVALID_IIN_CHECK,
                "bad_checksum",
            ),
            ("901301300123", messages.INVALID_IIN_CHECK, "bad_date"),
        ],
    )
    async def test_invalid_iin_is_explained_and_nothing_is_sent(
        self, env: Env, text: str, message: str, reason: str
    ) -> None:
        result = await env.start(text)

        assert result.status is StartStatus.INVALID_IIN
        assert result.message == message
        assert result.params == {"reason": reason}
        assert env.sender.sent == []
        assert env.directory.lookups == []

    async def test_iin_may_be_typed_with_spaces(self, env: Env) -> None:
        spaced = f"{KNOWN[:6]} {KNOWN[6:]}"

        assert await env.start(spaced) == GENERIC


class TestAudit:
    async def test_events_hold_masked_values_only(self, make_env: EnvFactory) -> None:
        env = make_env(generate_code=lambda digits: "482915")
        await env.start(KNOWN, channel="sms", user=KNOWN_PHONE)
        for _ in range(5):
            await env.verify("000000", channel="sms", user=KNOWN_PHONE)
        env.clock.advance(seconds=91)
        await env.service.resend("sms", KNOWN_PHONE)
        await env.verify("482915", channel="sms", user=KNOWN_PHONE)
        await env.start(UNKNOWN, user="7")

        names = env.audit.names()
        assert names[:1] == ["code_sent"]
        assert {"code_failed", "locked", "code_verified", "code_withheld"} <= set(names)
        text = repr(env.audit.events)
        for secret in (KNOWN, KNOWN_PHONE, KNOWN_PHONE[1:], "482915", "482 915", UNKNOWN):
            assert secret not in text
        sent = env.audit.events[0]
        assert sent.iin == mask_iin(KNOWN)
        assert sent.phone == mask_phone(KNOWN_PHONE)
        assert sent.channel_user_id == mask_phone(KNOWN_PHONE)
        locked = next(e for e in env.audit.events if e.name == "locked")
        assert locked.details["wait_seconds"] == 30

    def test_structlog_sink_writes_one_masked_line(self) -> None:
        at = dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC)
        event = AuditEvent.create(
            "code_sent", at=at, iin=KNOWN, phone=KNOWN_PHONE, channel="telegram", attempt=1
        )

        with capture_logs() as logs:
            StructlogAuditSink().record(event)

        [line] = logs
        assert line["event"] == "code_sent"
        assert line["audit"] is True
        assert (line["iin"], line["phone"]) == (mask_iin(KNOWN), "+7 701 *** ** 67")
        assert line["attempt"] == 1
        assert KNOWN not in repr(line)


class TestContactCheck:
    @pytest.mark.parametrize(
        ("patient", "contact", "contact_user", "sender", "expected"),
        [
            ("+77011234567", "77011234567", 42, 42, True),
            ("8 701 123 45 67", "+7 (701) 123-45-67", 42, 42, True),
            ("+77011234567", "+77011234567", 43, 42, False),  # someone else's contact
            ("+77011234567", "+77011234567", None, 42, False),  # contact without a user
            ("+77011234567", "+77011234568", 42, 42, False),
            ("+77011234567", "+4915112345678", 42, 42, False),
            (None, "+77011234567", 42, 42, False),
            ("+77011234567", "not a phone", 42, 42, False),
        ],
    )
    def test_contact_matches(
        self,
        patient: str | None,
        contact: str,
        contact_user: int | None,
        sender: int,
        expected: bool,
    ) -> None:
        assert contact_matches(patient, contact, contact_user, sender) is expected


class TestCodesAndPolicy:
    def test_generated_codes_are_six_digits(self) -> None:
        codes = {generate() for _ in range(200)}

        assert all(len(c) == 6 and c.isdigit() for c in codes)
        assert len(codes) > 190

    def test_format_and_normalise(self) -> None:
        assert format_code("123456") == "123 456"
        assert normalize_code(" 123 456 ") == "123456"
        assert normalize_code("123-456") == "123456"
        assert normalize_code("１２３４５６") is None
        assert normalize_code("1234567") is None

    @pytest.mark.parametrize(
        "bad",
        [
            {"code_lifetime": dt.timedelta(minutes=11)},
            {"code_lifetime": dt.timedelta(0)},
            {"code_digits": 4},
            {"max_wrong_codes": 0},
            {"lock_waits": ()},
        ],
    )
    def test_policy_refuses_unsafe_settings(self, bad: dict[str, object]) -> None:
        with pytest.raises(ValueError):
            OtpPolicy(**bad)  # type: ignore[arg-type]

    def test_policy_is_frozen(self) -> None:
        with pytest.raises(dataclasses.FrozenInstanceError):
            OtpPolicy().max_wrong_codes = 100  # type: ignore[misc]

    def test_short_pepper_is_refused(self, make_env: EnvFactory) -> None:
        with pytest.raises(ValueError, match="pepper"):
            make_env(pepper=b"short")
