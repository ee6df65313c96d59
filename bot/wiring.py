"""The composition root of the dialog layer: OTP, sessions, conversation store, engine.

Production (`dariger serve`) and the tests build the same objects through these functions;
only the ports differ (Redis or in-process stores, Twilio or console or recording SMS sender).
"""

from __future__ import annotations

import hashlib
import hmac

from redis.asyncio import Redis

from backend.bootstrap import Backend
from backend.services import patients
from bot.i18n import Translator
from dialogs.engine.engine import Engine
from dialogs.engine.store import (
    ConversationStore,
    MemoryConversationStore,
    RedisConversationStore,
)
from dialogs.registry import all_steps
from dialogs.services import Services
from otp import (
    AuditSink,
    InMemoryOtpStore,
    InMemorySessionStore,
    OtpPolicy,
    OtpService,
    RedisOtpStore,
    RedisSessionStore,
    SessionService,
    SmsSender,
    StructlogAuditSink,
)
from otp.directory import BackendPatientDirectory


def key_secret(pepper: bytes | str) -> bytes:
    """The secret of the keyed hashes in Redis key names and values (issue 9 §3): derived from
    the OTP pepper, so one setting serves both and every process computes the same names."""
    key = pepper.encode() if isinstance(pepper, str) else pepper
    return hmac.new(key, b"dariger redis identities v1", hashlib.sha256).digest()


def build_services(
    backend: Backend,
    *,
    sender: SmsSender,
    pepper: bytes | str,
    translator: Translator,
    redis: Redis | None = None,
    policy: OtpPolicy | None = None,
    audit: AuditSink | None = None,
    key_prefix: str = "dariger:",
) -> Services:
    directory = BackendPatientDirectory(backend)
    audit = audit or StructlogAuditSink()
    clock = backend.clock
    secret = key_secret(pepper)
    if redis is not None:
        session_store: InMemorySessionStore | RedisSessionStore = RedisSessionStore(
            redis, prefix=f"{key_prefix}session:", secret=secret
        )
        otp_store: InMemoryOtpStore | RedisOtpStore = RedisOtpStore(
            redis, prefix=f"{key_prefix}otp:"
        )
    else:
        session_store = InMemorySessionStore(clock=clock, secret=secret)
        otp_store = InMemoryOtpStore(clock=clock)
    sessions = SessionService(
        session_store, directory, policy=policy, clock=clock, audit=audit, secret=secret
    )

    async def patient_changed(change: patients.PatientChange) -> None:
        await sessions.patient_changed(
            change.patient_id, phone=change.phone, language=change.language
        )

    # Issue 16: the sessions keep the patient's language and phone check; a writer's
    # announcement after its commit updates them (otp/sessions.py).
    patients.watch(backend.engine, patient_changed)
    otp = OtpService(
        directory=directory,
        store=otp_store,
        sender=sender,
        sessions=sessions,
        pepper=pepper,
        policy=policy,
        clock=clock,
        audit=audit,
        sms_text=translator.otp_sms_text,
    )
    return Services(backend=backend, otp=otp, sessions=sessions)


def build_engine(
    services: Services,
    *,
    redis: Redis | None = None,
    key_prefix: str = "dariger:",
    secret: bytes | None = None,
) -> Engine:
    """`secret`: of the keyed hashes in key names (`key_secret(pepper)`); every process that
    shares the Redis needs the same one."""
    store: ConversationStore = (
        RedisConversationStore(redis, prefix=key_prefix, secret=secret)
        if redis is not None
        else MemoryConversationStore(secret=secret)
    )
    return Engine(all_steps(), services=services, store=store, clock=services.backend.clock)
