"""Sign-in by ИИН and an SMS one-time code; sessions bound to channel identities.

The package knows no channel: the SMS gateway, the patient register and the stores are ports.
"""

from otp.audit import AuditEvent, AuditSink, InMemoryAuditSink, StructlogAuditSink
from otp.policy import Clock, OtpPolicy, SystemClock
from otp.sender import ConsoleSmsSender, SentSms, SmsSender, SmsSendError, read_console_outbox
from otp.service import (
    OtpService,
    PatientDirectory,
    StartResult,
    StartStatus,
    VerifyResult,
    VerifyStatus,
    contact_matches,
)
from otp.sessions import (
    InMemorySessionStore,
    RedisSessionStore,
    Session,
    SessionService,
    SessionStore,
)
from otp.storage import InMemoryOtpStore, OtpStore, RedisOtpStore

__all__ = [
    "AuditEvent",
    "AuditSink",
    "Clock",
    "ConsoleSmsSender",
    "InMemoryAuditSink",
    "InMemoryOtpStore",
    "InMemorySessionStore",
    "OtpPolicy",
    "OtpService",
    "OtpStore",
    "PatientDirectory",
    "RedisOtpStore",
    "RedisSessionStore",
    "SentSms",
    "Session",
    "SessionService",
    "SessionStore",
    "SmsSendError",
    "SmsSender",
    "StartResult",
    "StartStatus",
    "StructlogAuditSink",
    "SystemClock",
    "VerifyResult",
    "VerifyStatus",
    "contact_matches",
    "read_console_outbox",
]
