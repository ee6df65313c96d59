"""The sign-in policy (every number is a setting) and the clock port.

The defaults follow domain/anchors.md §3.5, which traces each number to NIST SP 800-63B
§5.1.3 and OWASP ASVS V2.7 / 6.5: 6 random digits (≈20 bits), ≤10 min lifetime, single use,
5 wrong codes per ИИН and phone, escalating waits of 30 s up to 1 h, resends rate-limited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol


class Clock(Protocol):
    """Where time comes from; structurally the same as `backend.ports.Clock`."""

    def now(self) -> dt.datetime:
        """The current moment, timezone-aware."""
        ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


# NIST SP 800-63B §5.1.3.2 and ASVS 2.7.2 / 6.5.5: out-of-band secrets expire within 10 minutes.
MAX_CODE_LIFETIME = dt.timedelta(minutes=10)
# NIST SP 800-63B §5.1.3.2, ASVS 6.5.4: at least 20 bits of entropy, i.e. 6 random digits.
MIN_CODE_DIGITS = 6


@dataclass(frozen=True, slots=True)
class OtpPolicy:
    code_digits: int = 6
    code_lifetime: dt.timedelta = dt.timedelta(minutes=5)
    # Wrong codes per (ИИН, phone), counted across resends; then the request dies and a lock
    # starts. A success clears the count and the escalation.
    max_wrong_codes: int = 5
    # Successive locks wait 30 s, 2 min, 10 min, then 1 h for every further lock.
    lock_waits: tuple[dt.timedelta, ...] = (
        dt.timedelta(seconds=30),
        dt.timedelta(minutes=2),
        dt.timedelta(minutes=10),
        dt.timedelta(hours=1),
    )
    # How long wrong-code counts and the lock escalation are remembered without activity.
    failure_memory: dt.timedelta = dt.timedelta(hours=24)
    resend_cooldown: dt.timedelta = dt.timedelta(seconds=60)
    max_sends_per_phone: int = 5
    phone_send_window: dt.timedelta = dt.timedelta(minutes=10)
    max_sends_per_iin: int = 10
    iin_send_window: dt.timedelta = dt.timedelta(hours=24)
    # Per requester (an SMS sender's phone, a Telegram account; issue 9 §1): nobody can make
    # the service text codes to many patients. Decoys count too (they must look like sends).
    max_sends_per_requester: int = 10
    requester_send_window: dt.timedelta = dt.timedelta(hours=24)
    # How long a channel remembers which ИИН it asked a code for (so "resend" needs no ИИН).
    request_memory: dt.timedelta = dt.timedelta(hours=1)
    session_idle: dt.timedelta = dt.timedelta(days=7)
    session_absolute: dt.timedelta = dt.timedelta(days=30)

    def __post_init__(self) -> None:
        if not MIN_CODE_DIGITS <= self.code_digits <= 10:
            raise ValueError("code_digits must be 6..10 (NIST: at least 20 bits)")
        if not dt.timedelta(0) < self.code_lifetime <= MAX_CODE_LIFETIME:
            raise ValueError("code_lifetime must be positive and at most 10 minutes (NIST)")
        if self.max_wrong_codes < 1:
            raise ValueError("max_wrong_codes must be at least 1")
        if not self.lock_waits or any(w <= dt.timedelta(0) for w in self.lock_waits):
            raise ValueError("lock_waits must be a non-empty list of positive waits")
        if min(self.max_sends_per_phone, self.max_sends_per_iin, self.max_sends_per_requester) < 1:
            raise ValueError("send caps must be at least 1")
        if min(
            self.phone_send_window, self.iin_send_window, self.requester_send_window
        ) <= dt.timedelta(0):
            raise ValueError("send windows must be positive")
        if self.session_idle <= dt.timedelta(0) or self.session_absolute <= dt.timedelta(0):
            raise ValueError("session lifetimes must be positive")

    def lock_wait(self, level: int) -> dt.timedelta:
        """The wait of the `level`-th lock (0 = first); the last wait is the cap."""
        return self.lock_waits[min(max(level, 0), len(self.lock_waits) - 1)]
