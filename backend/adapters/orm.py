"""Tables and the imperative mapping of the domain classes (cosmicpython style, SQLAlchemy 2).

The domain model imports nothing from here; `start_mappers()` maps it once per process.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Dialect,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import deferred, registry, relationship
from sqlalchemy.types import TypeDecorator

from backend.domain import model
from backend.domain.iin import Sex
from backend.domain.refusals import RefusalCode
from backend.domain.statuses import Actor, ApplicationStatus, ServiceType

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (naive storage) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored: pass an aware one")
        utc = value.astimezone(dt.UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        # asyncpg reads `timestamptz` as aware UTC datetimes already (its own codec, whatever
        # the session's time zone): no per-value step (issue 16: two per slot on a times
        # screen, about an eighth of reading a day's slots).
        if dialect.name == "postgresql" and dialect.driver == "asyncpg":
            return None
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def _enum(enum_cls: type[Any], name: str) -> Enum:
    # Stored as the enum's value, as VARCHAR with no database enum type: adding a status is a
    # code change, not a migration of a PostgreSQL type.
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda e: [m.value for m in e],
    )


specialties = Table(
    "specialties",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name_kk", String(200), nullable=False),
    Column("name_ru", String(200), nullable=False),
    Column("name_en", String(200), nullable=False),
    # Who the specialty serves by age (children / adults / all); migration 0004.
    Column("audience", _enum(model.Audience, "audience"), nullable=False, server_default="all"),
)

clinics = Table(
    "clinics",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name_kk", String(300), nullable=False),
    Column("name_ru", String(300), nullable=False),
    Column("name_en", String(300), nullable=False),
    Column("address", String(500), nullable=False),
    Column("tz_name", String(64), nullable=False),
    Column("schedule_json", Text, nullable=False),
    Column("phone", String(32)),
    # Issue 15, migration 0013: the address in Latin letters for English screens.
    Column("address_latin", String(500), nullable=False, server_default=""),
)

doctors = Table(
    "doctors",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("clinic_id", ForeignKey("clinics.id"), nullable=False, index=True),
    Column("specialty_id", ForeignKey("specialties.id"), nullable=False, index=True),
    Column("surname", String(100), nullable=False),
    Column("given_name", String(100), nullable=False),
    Column("patronymic", String(100)),
    Column("room", String(32), nullable=False, server_default=""),
    # Issue 15, migration 0013: "Surname Given Patronymic" in Latin letters.
    Column("name_latin", String(300), nullable=False, server_default=""),
)

districts = Table(
    "districts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("clinic_id", ForeignKey("clinics.id"), nullable=False),
    Column("number", String(16), nullable=False),
    Column("doctor_id", ForeignKey("doctors.id")),
    UniqueConstraint("clinic_id", "number", name="uq_districts_clinic_number"),
)

slots = Table(
    "slots",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("doctor_id", ForeignKey("doctors.id"), nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime, nullable=False),
    Column("room", String(32), nullable=False, server_default=""),
    UniqueConstraint("doctor_id", "starts_at", name="uq_slots_doctor_start"),
)

# The doctors' weekly schedules (`dariger import`, the demo city), kept so that slots are topped
# up every day for the booking horizon (backend.services.schedules.top_up_slots). S3 row 5: the
# date and time of an appointment come from the doctor's schedule. Times are the clinic's local
# time; weekday 0 = Monday. `kind` (migration 0004): "reception" rows make bookable slots of
# `slot_minutes`; "home_visits" rows are the doctor's home-visit hours, cut into windows of
# `slot_minutes` with room for `capacity` visits each (S4; never overlapping the reception).
schedule_templates = Table(
    "schedule_templates",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("doctor_id", ForeignKey("doctors.id", ondelete="CASCADE"), nullable=False),
    Column("weekday", Integer, nullable=False),
    Column("start_time", Time, nullable=False),
    Column("end_time", Time, nullable=False),
    Column("slot_minutes", Integer, nullable=False),
    Column("room", String(32), nullable=False, server_default=""),
    Column("kind", String(16), nullable=False, server_default="reception"),
    Column("capacity", Integer, nullable=False, server_default="1"),
    CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
    CheckConstraint("start_time < end_time", name="period"),
    CheckConstraint("slot_minutes BETWEEN 1 AND 240", name="slot_minutes"),
    CheckConstraint("kind IN ('reception', 'home_visits')", name="kind"),
    CheckConstraint("capacity BETWEEN 1 AND 100", name="capacity"),
    UniqueConstraint(
        "doctor_id", "weekday", "start_time", name="uq_schedule_templates_doctor_weekday_start"
    ),
)

patients = Table(
    "patients",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("iin", String(12), nullable=False, unique=True),
    Column("surname", String(100), nullable=False),
    Column("given_name", String(100), nullable=False),
    Column("patronymic", String(100)),
    Column("birth_date", Date, nullable=False),
    Column("sex", _enum(Sex, "sex"), nullable=False),
    Column("phone", String(16), index=True),
    Column("language", _enum(model.Language, "language")),
    Column("address", String(500)),
    Column("representative_id", ForeignKey("patients.id")),
)

attachments = Table(
    "attachments",
    metadata,
    Column("id", Integer, primary_key=True),
    # One current attachment per patient (order ҚР ДСМ-194/2020): a patient is attached to
    # one PHC organisation at a time.
    Column("patient_id", ForeignKey("patients.id"), nullable=False, unique=True),
    Column("clinic_id", ForeignKey("clinics.id"), nullable=False),
    Column("district_id", ForeignKey("districts.id")),
    Column("since", Date, nullable=False),
)

applications = Table(
    "applications",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("number", String(16), nullable=False, unique=True),
    Column("patient_id", ForeignKey("patients.id"), nullable=False, index=True),
    Column("clinic_id", ForeignKey("clinics.id")),
    Column("service", _enum(ServiceType, "service_type"), nullable=False),
    Column("status", _enum(ApplicationStatus, "application_status"), nullable=False),
    Column("refusal", _enum(RefusalCode, "refusal_code")),
    Column("created_at", UtcDateTime, nullable=False),
    Column("deadline", UtcDateTime, nullable=False),
)

status_history = Table(
    "application_status_history",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("application_id", ForeignKey("applications.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("from_status", _enum(ApplicationStatus, "application_status")),
    Column("to_status", _enum(ApplicationStatus, "application_status"), nullable=False),
    Column("actor", _enum(Actor, "actor"), nullable=False),
    Column("reason", _enum(RefusalCode, "refusal_code")),
    Column("note", String(500)),
    UniqueConstraint("application_id", "seq", name="uq_history_application_seq"),
)

appointments = Table(
    "appointments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("application_id", ForeignKey("applications.id"), nullable=False, index=True),
    Column("patient_id", ForeignKey("patients.id"), nullable=False, index=True),
    Column("slot_id", ForeignKey("slots.id"), nullable=False),
    Column("doctor_id", ForeignKey("doctors.id"), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("cancelled_at", UtcDateTime),
    # A slot can never be booked twice: at most one *active* appointment per slot, enforced by
    # the database (a partial unique index, on PostgreSQL and SQLite alike).
    Index(
        "uq_appointments_active_slot",
        "slot_id",
        unique=True,
        postgresql_where=text("active"),
        sqlite_where=text("active"),
    ),
)

home_visits = Table(
    "home_visits",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("application_id", ForeignKey("applications.id"), nullable=False, unique=True),
    Column("patient_id", ForeignKey("patients.id"), nullable=False, index=True),
    Column("clinic_id", ForeignKey("clinics.id"), nullable=False),
    Column("doctor_id", ForeignKey("doctors.id")),
    Column("address", String(500), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("symptoms", String(1000), nullable=False),
    Column("contact_phone", String(16), nullable=False),
    Column("visit_date", Date, nullable=False),
    Column("window_start", UtcDateTime, nullable=False),
    Column("window_end", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # A window's visits are counted per doctor (migration 0004).
    Index("ix_home_visits_doctor_window", "doctor_id", "window_start"),
)

certificate_requests = Table(
    "certificate_requests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("application_id", ForeignKey("applications.id"), nullable=False, unique=True),
    Column("patient_id", ForeignKey("patients.id"), nullable=False, index=True),
    Column("kind", _enum(ServiceType, "service_type"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("valid_until", Date),
)

# Movable holidays and transferred days, kept by the administrator (`dariger import`).
calendar_days = Table(
    "calendar_days",
    metadata,
    Column("day", Date, primary_key=True),
    Column("kind", String(16), nullable=False),  # "day_off" | "working"
    Column("note", String(200)),
)

# Data imported from the external register, kept as received (for audit of imports).
imports = Table(
    "imports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("source", String(300), nullable=False),
    Column("summary", JSON, nullable=False),
)

# The SMS channel (issue 5). Plain tables, used through Core by backend.services.outbox.
# Outgoing messages that are not an immediate reply (OTP codes, notifications): a durable outbox
# that a worker sends with retries. The body of a sensitive message (a code) is erased once the
# message is final; the row stays, so a failed OTP or notification is visible to operators.
sms_outbox = Table(
    "sms_outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("to_phone", String(16), nullable=False),
    Column("body", Text),
    Column("kind", String(32), nullable=False),
    Column("sensitive", Boolean, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("lease_until", UtcDateTime),
    Column("expires_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
    Column("provider_id", String(64), unique=True),
    Column("provider_status", String(32)),
    Column("error", String(200)),
    Index("ix_sms_outbox_due", "status", "next_attempt_at"),
    Index("ix_sms_outbox_to_phone", "to_phone"),
)

# Numbers that sent STOP (or that the carrier reports as unsubscribed): the outbox sends them
# nothing until they send START.
sms_opt_outs = Table(
    "sms_opt_outs",
    metadata,
    Column("phone", String(16), primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("source", String(16), nullable=False),
)

# Inbound messages by Twilio's MessageSid: a retried or duplicated webhook is processed once and
# gets the same reply.
sms_inbound = Table(
    "sms_inbound",
    metadata,
    Column("message_sid", String(64), primary_key=True),
    Column("phone", String(16), nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("state", String(16), nullable=False),
    Column("reply", Text),
)

# The Clinic API (issue 11): clinic systems' keys, kept hashed (SHA-256 of a high-entropy key;
# the key itself is shown once), found by their public prefix, revocable.
clinic_api_keys = Table(
    "clinic_api_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("clinic_id", ForeignKey("clinics.id"), nullable=False, index=True),
    Column("prefix", String(16), nullable=False, unique=True),
    Column("key_hash", String(64), nullable=False),
    Column("label", String(100), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
    Column("last_used_at", UtcDateTime),
)

# Finished documents (PDF) a clinic posted for an application through the Clinic API.
application_documents = Table(
    "application_documents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("application_id", ForeignKey("applications.id"), nullable=False, index=True),
    Column("filename", String(200), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("posted_by_key_id", ForeignKey("clinic_api_keys.id")),
)

# Electronic documents (issue 13): each signed 027/е or S17-S19 statement, by its short code.
# Plain tables, used through Core by backend.services.documents.
issued_documents = Table(
    "issued_documents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(16), nullable=False, unique=True),
    Column("application_id", ForeignKey("applications.id"), nullable=False, index=True),
    Column("document_id", ForeignKey("application_documents.id"), nullable=False),
    Column("patient_id", ForeignKey("patients.id"), nullable=False),
    Column("service", String(32), nullable=False),
    Column("issuer", String(300), nullable=False),
    Column("issued_on", Date, nullable=False),
    Column("valid_until", Date),
    Column("on_register", Boolean),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
    Column("revoke_reason", String(300)),
)

# The dispensary registers behind S17-S19 as the demo city and the importer fill them.
dispensary_registrations = Table(
    "dispensary_registrations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("iin", String(12), nullable=False, index=True),
    Column("register", String(16), nullable=False),  # tb | psychiatry | narcology
    Column("since", Date),
    UniqueConstraint("iin", "register", name="uq_dispensary_registrations_iin_register"),
)

# Notifications (issue 11): where a patient is reached, what is to be sent, and reminders.
# Plain tables, used through Core by backend.services.notifications.
# The patient's channel addresses, recorded at each successful sign-in (sessions live in Redis
# and expire: they are not an address book). A Telegram chat id or an E.164 phone.
patient_channels = Table(
    "patient_channels",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("patient_id", ForeignKey("patients.id", ondelete="CASCADE"), nullable=False),
    Column("channel", String(16), nullable=False),  # "telegram" | "sms"
    Column("address", String(64), nullable=False),
    Column("language", String(8)),
    Column("last_signed_in_at", UtcDateTime, nullable=False),
    Column("blocked_at", UtcDateTime),  # Telegram 403: the patient blocked the bot
    UniqueConstraint("patient_id", "channel", "address", name="uq_patient_channels_address"),
)

# The notification outbox for both channels: message ids and parameters, rendered in the
# patient's language at send time; claimed by workers like sms_outbox. A Telegram message is
# sent by the Telegram worker; an SMS one is handed to sms_outbox (which sends and retries).
notifications = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("patient_id", ForeignKey("patients.id", ondelete="CASCADE"), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("address", String(64), nullable=False),
    Column("kind", String(32), nullable=False),  # the message: "status", "reminder", ...
    Column("params", JSON, nullable=False),
    Column("application_number", String(16)),
    Column("urgent", Boolean, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),  # not before (quiet hours, back-off)
    Column("lease_until", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
    Column("error", String(200)),
    Column("dedupe_key", String(64), unique=True),  # once only (a deadline notice, a reminder)
    Index("ix_notifications_due", "status", "next_attempt_at"),
    Index("ix_notifications_patient_id", "patient_id"),
)

# Appointment reminders: the day before at 18:00 and 2 h before (clinic time); dropped when the
# appointment is cancelled or moved, turned into notifications when due.
reminders = Table(
    "reminders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("appointment_id", ForeignKey("appointments.id", ondelete="CASCADE"), nullable=False),
    Column("patient_id", ForeignKey("patients.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),  # "day_before" | "two_hours"
    Column("due_at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False),  # "pending" | "queued" | "dropped"
    Column("created_at", UtcDateTime, nullable=False),
    Column("confirmed_at", UtcDateTime),
    Index("ix_reminders_due", "status", "due_at"),
    Index("ix_reminders_appointment_id", "appointment_id"),
)

# The 1414 desk (issue 12): one row per escalated conversation. Used through Core by
# backend.services.desk. `user_id` is the engine's channel user id and `address` where replies
# go (the Telegram chat id, the E.164 phone): needed to relay, kept here, never logged. At most one
# open chat (waiting or with an operator) per conversation: the partial unique index.
DESK_OPEN_STATES = ("waiting", "taken")
desk_chats = Table(
    "desk_chats",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("channel", String(16), nullable=False),
    Column("user_id", String(64), nullable=False),
    Column("address", String(64), nullable=False),
    Column("patient_id", Integer),
    Column("state", String(16), nullable=False),  # waiting | taken | returned | closed | left
    Column("operator_id", Integer),  # the console's operator (no foreign key: its table)
    Column("operator_name", String(100)),
    Column("reason", String(32), nullable=False),
    Column("language", String(8), nullable=False),
    Column("snapshot", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("queued_at", UtcDateTime, nullable=False),
    Column("claimed_at", UtcDateTime),
    Column("first_response_at", UtcDateTime),
    Column("last_patient_at", UtcDateTime),
    Column("last_operator_at", UtcDateTime),
    Column("warned_at", UtcDateTime),
    Column("wait_offered_at", UtcDateTime),
    Column("ended_at", UtcDateTime),
    Column("end_reason", String(32)),
    Index("ix_desk_chats_state", "state", "queued_at"),
    Index(
        "uq_desk_chats_open",
        "channel",
        "user_id",
        unique=True,
        sqlite_where=text("state IN ('waiting', 'taken')"),
        postgresql_where=text("state IN ('waiting', 'taken')"),
    ),
)

# The transcript: every message of a desk chat, from the patient, an operator or the system;
# operator and system messages are delivered by the relay (bot/desk/relay.py).
desk_messages = Table(
    "desk_messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("chat_id", ForeignKey("desk_chats.id", ondelete="CASCADE"), nullable=False),
    Column("sender", String(16), nullable=False),  # patient | operator | system
    Column("operator_id", Integer),
    Column("kind", String(32), nullable=False),  # text | handed_back | closed | long_wait ...
    Column("body", Text, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("delivery", String(16), nullable=False),  # none | pending | sent | failed
    Column("delivered_at", UtcDateTime),
    Index("ix_desk_messages_chat", "chat_id", "id"),
    Index("ix_desk_messages_delivery", "delivery"),
)

# Every transition of a desk chat: who (patient, operator id, system), what, when.
desk_events = Table(
    "desk_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("chat_id", ForeignKey("desk_chats.id", ondelete="CASCADE"), nullable=False),
    Column("actor", String(16), nullable=False),
    Column("operator_id", Integer),
    Column("what", String(32), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_desk_events_chat", "chat_id"),
)

# Who looked at which patient's data (a supervisor reads it).
desk_access_log = Table(
    "desk_access_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("operator_id", Integer, nullable=False),
    Column("operator_name", String(100)),
    Column("chat_id", Integer),
    Column("patient_id", Integer),
    Column("what", String(32), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_desk_access_log_patient", "patient_id"),
)

# Messages left for a call back outside the desk's hours; the desk sees them first.
desk_callbacks = Table(
    "desk_callbacks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("channel", String(16), nullable=False),
    Column("address", String(64), nullable=False),
    Column("patient_id", Integer),
    Column("language", String(8), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("done_at", UtcDateTime),
    Column("done_by", Integer),
)

# The two quality questions after a chat (seed 001 §2.7, Annex 3): answer 1..3.
desk_quality = Table(
    "desk_quality",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("chat_id", ForeignKey("desk_chats.id", ondelete="CASCADE"), nullable=False),
    Column("question", Integer, nullable=False),
    Column("answer", Integer, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    UniqueConstraint("chat_id", "question", name="uq_desk_quality_question"),
)

# The desk's weekly hours (issue 12, migration 0012), set by a supervisor in the console: one row
# per weekday (0 = Monday), opens/closes NULL = closed that day. No rows: the default hours
# (backend.services.desk.DEFAULT_DESK_HOURS). Times are Almaty local time.
desk_hours = Table(
    "desk_hours",
    metadata,
    Column("weekday", Integer, primary_key=True, autoincrement=False),
    Column("opens", Time),
    Column("closes", Time),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("updated_by", Integer),  # the supervisor's staff account
    CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
    CheckConstraint(
        "(opens IS NULL AND closes IS NULL) OR (opens IS NOT NULL AND closes IS NOT NULL "
        "AND opens < closes)",
        name="period",
    ),
)

# Dated exceptions to the desk's weekly hours (a holiday: closed; a short day: other hours).
desk_hours_exceptions = Table(
    "desk_hours_exceptions",
    metadata,
    Column("day", Date, primary_key=True),
    Column("opens", Time),
    Column("closes", Time),
    Column("note", String(100), nullable=False, server_default=""),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("updated_by", Integer),
    CheckConstraint(
        "(opens IS NULL AND closes IS NULL) OR (opens IS NOT NULL AND closes IS NOT NULL "
        "AND opens < closes)",
        name="period",
    ),
)

# The staff console (issues 11 and 12): accounts of 1414 operators, supervisors and clinic
# staff (argon2id hashes), their sessions (the token only as a SHA-256 hash) and the audit log.
# Plain tables, used through Core by backend.services.staff.
staff_accounts = Table(
    "staff_accounts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("login", String(64), nullable=False, unique=True),
    Column("display_name", String(100), nullable=False),
    Column("role", String(16), nullable=False),  # "operator" | "supervisor" | "clinic_staff"
    Column("clinic_id", ForeignKey("clinics.id"), index=True),  # clinic staff only
    Column("password_hash", String(200), nullable=False),
    Column("failed_attempts", Integer, nullable=False),
    Column("locked_until", UtcDateTime),
    Column("must_change_password", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("disabled_at", UtcDateTime),
)

staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("id", String(64), primary_key=True),  # SHA-256 of the cookie's token
    Column("account_id", ForeignKey("staff_accounts.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_secret", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),  # the absolute end
    Index("ix_staff_sessions_account_id", "account_id"),
)

staff_audit = Table(
    "staff_audit",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", ForeignKey("staff_accounts.id")),  # None: an unknown login
    Column("login", String(64), nullable=False),
    Column("action", String(40), nullable=False),
    Column("target", String(100), nullable=False),
    Column("detail", String(500), nullable=False),
    Column("remote", String(64)),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_staff_audit_at", "at"),
)

mapper_registry = registry(metadata=metadata)
_started = False


def start_mappers() -> None:
    """Map the domain classes onto the tables (idempotent)."""
    global _started  # noqa: PLW0603 - mapping is process-wide by nature
    if _started:
        return
    _started = True
    m = mapper_registry.map_imperatively
    m(model.Specialty, specialties)
    m(model.Clinic, clinics)
    m(model.Doctor, doctors)
    m(model.District, districts)
    m(model.Slot, slots)
    m(model.Patient, patients)
    m(model.Attachment, attachments)
    history_mapper = m(model.StatusChange, status_history)
    m(
        model.Application,
        applications,
        properties={
            "history": relationship(
                history_mapper,
                order_by=status_history.c.seq,
                lazy="selectin",
                cascade="save-update, merge",
            )
        },
    )
    m(model.Appointment, appointments)
    m(model.HomeVisit, home_visits)
    m(model.CertificateRequest, certificate_requests)
    m(model.ClinicApiKey, clinic_api_keys)
    m(
        model.ApplicationDocument,
        application_documents,
        properties={"content": deferred(application_documents.c.content)},
    )
