"""Every limit of `OtpPolicy` at its edge, with the message that names it.

The numbers are the legal/security floor (otp/policy.py cites NIST SP 800-63B §5.1.3 and
OWASP ASVS V2.7): they are written out here, not read from the implementation.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from otp.policy import MAX_CODE_LIFETIME, MIN_CODE_DIGITS, OtpPolicy, SystemClock

_MICRO = dt.timedelta(microseconds=1)
_ZERO = dt.timedelta(0)

DIGITS = "code_digits must be 6..10 (NIST: at least 20 bits)"
LIFETIME = "code_lifetime must be positive and at most 10 minutes (NIST)"
WRONG = "max_wrong_codes must be at least 1"
LOCKS = "lock_waits must be a non-empty list of positive waits"
CAPS = "send caps must be at least 1"
WINDOWS = "send windows must be positive"
SESSIONS = "session lifetimes must be positive"


def refused(message: str, **change: object) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        OtpPolicy(**change)  # type: ignore[arg-type]


def test_the_floors_are_nist_s() -> None:
    assert MIN_CODE_DIGITS == 6
    assert dt.timedelta(minutes=10) == MAX_CODE_LIFETIME


def test_the_defaults() -> None:
    """domain/anchors.md §3.5: 6 digits, 5 min, 5 wrong codes, 30 s → 2 min → 10 min → 1 h."""
    policy = OtpPolicy()
    assert policy.code_digits == 6
    assert policy.code_lifetime == dt.timedelta(minutes=5)
    assert policy.max_wrong_codes == 5
    assert policy.lock_waits == (
        dt.timedelta(seconds=30),
        dt.timedelta(minutes=2),
        dt.timedelta(minutes=10),
        dt.timedelta(hours=1),
    )
    assert policy.failure_memory == dt.timedelta(hours=24)
    assert policy.resend_cooldown == dt.timedelta(seconds=60)
    assert policy.max_sends_per_phone == 5
    assert policy.phone_send_window == dt.timedelta(minutes=10)
    assert policy.max_sends_per_iin == 10
    assert policy.iin_send_window == dt.timedelta(hours=24)
    assert policy.max_sends_per_requester == 10
    assert policy.requester_send_window == dt.timedelta(hours=24)
    assert policy.request_memory == dt.timedelta(hours=1)
    assert policy.session_idle == dt.timedelta(days=7)
    assert policy.session_absolute == dt.timedelta(days=30)


@pytest.mark.parametrize("digits", [6, 7, 10])
def test_code_lengths_6_to_10_are_allowed(digits: int) -> None:
    assert OtpPolicy(code_digits=digits).code_digits == digits


@pytest.mark.parametrize("digits", [-6, 0, 4, 5, 11, 12])
def test_code_lengths_outside_6_to_10_are_refused(digits: int) -> None:
    refused(DIGITS, code_digits=digits)


@pytest.mark.parametrize("lifetime", [_MICRO, dt.timedelta(minutes=1), MAX_CODE_LIFETIME])
def test_code_lifetimes_up_to_10_minutes_are_allowed(lifetime: dt.timedelta) -> None:
    assert OtpPolicy(code_lifetime=lifetime).code_lifetime == lifetime


@pytest.mark.parametrize(
    "lifetime", [-_MICRO, _ZERO, dt.timedelta(minutes=10) + _MICRO, dt.timedelta(hours=1)]
)
def test_code_lifetimes_of_zero_or_over_10_minutes_are_refused(lifetime: dt.timedelta) -> None:
    refused(LIFETIME, code_lifetime=lifetime)


def test_one_wrong_code_is_the_smallest_allowance() -> None:
    assert OtpPolicy(max_wrong_codes=1).max_wrong_codes == 1
    refused(WRONG, max_wrong_codes=0)
    refused(WRONG, max_wrong_codes=-1)


@pytest.mark.parametrize(
    "waits",
    [(), (_ZERO,), (-_MICRO,), (dt.timedelta(seconds=30), _ZERO), (_ZERO, dt.timedelta(hours=1))],
)
def test_lock_waits_must_be_non_empty_and_positive(waits: tuple[dt.timedelta, ...]) -> None:
    refused(LOCKS, lock_waits=waits)


def test_the_shortest_positive_lock_wait_is_allowed() -> None:
    assert OtpPolicy(lock_waits=(_MICRO,)).lock_waits == (_MICRO,)


@pytest.mark.parametrize(
    "cap", ["max_sends_per_phone", "max_sends_per_iin", "max_sends_per_requester"]
)
def test_each_send_cap_is_at_least_one(cap: str) -> None:
    assert getattr(OtpPolicy(**{cap: 1}), cap) == 1  # type: ignore[arg-type]
    refused(CAPS, **{cap: 0})
    refused(CAPS, **{cap: -1})


@pytest.mark.parametrize(
    "window", ["phone_send_window", "iin_send_window", "requester_send_window"]
)
def test_each_send_window_is_positive(window: str) -> None:
    assert getattr(OtpPolicy(**{window: _MICRO}), window) == _MICRO  # type: ignore[arg-type]
    refused(WINDOWS, **{window: _ZERO})
    refused(WINDOWS, **{window: -_MICRO})


@pytest.mark.parametrize("lifetime", ["session_idle", "session_absolute"])
def test_each_session_lifetime_is_positive(lifetime: str) -> None:
    assert getattr(OtpPolicy(**{lifetime: _MICRO}), lifetime) == _MICRO  # type: ignore[arg-type]
    refused(SESSIONS, **{lifetime: _ZERO})
    refused(SESSIONS, **{lifetime: -_MICRO})


@pytest.mark.parametrize(
    ("level", "wait"),
    [
        (-5, dt.timedelta(seconds=30)),
        (-1, dt.timedelta(seconds=30)),
        (0, dt.timedelta(seconds=30)),
        (1, dt.timedelta(minutes=2)),
        (2, dt.timedelta(minutes=10)),
        (3, dt.timedelta(hours=1)),
        (4, dt.timedelta(hours=1)),
        (100, dt.timedelta(hours=1)),
    ],
)
def test_lock_waits_escalate_then_stay_at_the_cap(level: int, wait: dt.timedelta) -> None:
    assert OtpPolicy().lock_wait(level) == wait


def test_the_system_clock_is_utc_now() -> None:
    before = dt.datetime.now(dt.UTC)
    now = SystemClock().now()
    assert now.utcoffset() == dt.timedelta(0)
    assert before <= now <= dt.datetime.now(dt.UTC)
