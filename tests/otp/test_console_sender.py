"""The development SMS sender: a log line and a JSON-lines outbox, read by `dariger outbox`."""

from __future__ import annotations

import json
from pathlib import Path

from structlog.testing import capture_logs

from otp.audit import InMemoryAuditSink
from otp.policy import OtpPolicy
from otp.sender import ConsoleSmsSender, read_console_outbox
from otp.service import OtpService, StartStatus
from otp.sessions import InMemorySessionStore, SessionService
from otp.storage import InMemoryOtpStore
from tests.otp.conftest import KNOWN, KNOWN_PHONE, PEPPER, FakeClock, default_directory


async def test_send_appends_a_json_line_and_creates_the_directory(tmp_path: Path) -> None:
    outbox = tmp_path / "var" / "console-sms.jsonl"
    sender = ConsoleSmsSender(outbox)

    sent = await sender.send(KNOWN_PHONE, "Dariger code: 123 456.")

    [line] = outbox.read_text(encoding="utf-8").splitlines()
    entry = json.loads(line)
    assert entry["to"] == KNOWN_PHONE
    assert entry["body"] == "Dariger code: 123 456."
    assert entry["id"] == sent.provider_id
    assert sent.status == "printed"


async def test_log_line_shows_the_whole_sms_and_says_it_is_for_development(
    tmp_path: Path,
) -> None:
    sender = ConsoleSmsSender(tmp_path / "outbox.jsonl")

    with capture_logs() as logs:
        await sender.send(KNOWN_PHONE, "Dariger code: 123 456.")

    [log] = logs
    assert log["body"] == "Dariger code: 123 456."
    assert "DEV ONLY" in log["note"]
    assert log["to"] == "+7 701 *** ** 67"


async def test_outbox_keeps_the_last_messages(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.jsonl"
    sender = ConsoleSmsSender(outbox, keep=3)
    for n in range(5):
        await sender.send(KNOWN_PHONE, f"message {n}")

    everything = read_console_outbox(outbox, limit=10)
    last_two = read_console_outbox(outbox, limit=2)

    assert [e["body"] for e in everything] == ["message 2", "message 3", "message 4"]
    assert [e["body"] for e in last_two] == ["message 3", "message 4"]


def test_reading_a_missing_or_damaged_outbox(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.jsonl"
    assert read_console_outbox(outbox) == []
    outbox.write_text('{"body": "ok"}\nnot json\n[1, 2]\n', encoding="utf-8")

    assert read_console_outbox(outbox) == [{"body": "ok"}]
    assert read_console_outbox(outbox, limit=0) == []


async def test_unwritable_outbox_is_a_send_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    clock = FakeClock()
    directory = default_directory()
    service = OtpService(
        directory=directory,
        store=InMemoryOtpStore(clock),
        sender=ConsoleSmsSender(blocker / "outbox.jsonl"),  # parent is a file
        sessions=SessionService(InMemorySessionStore(clock), directory, clock=clock),
        pepper=PEPPER,
        clock=clock,
    )

    started = await service.start(KNOWN, "telegram", "100")

    assert started.status is StartStatus.SEND_FAILED


async def test_a_developer_signs_in_with_the_code_from_the_outbox(tmp_path: Path) -> None:
    outbox = tmp_path / "var" / "console-sms.jsonl"
    clock = FakeClock()
    directory = default_directory()
    audit = InMemoryAuditSink()
    service = OtpService(
        directory=directory,
        store=InMemoryOtpStore(clock),
        sender=ConsoleSmsSender(outbox),
        sessions=SessionService(InMemorySessionStore(clock), directory, clock=clock),
        pepper=PEPPER,
        policy=OtpPolicy(),
        clock=clock,
        audit=audit,
    )
    await service.start(KNOWN, "telegram", "100")

    [entry] = read_console_outbox(outbox)
    code = entry["body"].split("code: ")[1][:7]
    verified = await service.verify("telegram", "100", code)

    assert verified.signed_in
    assert entry["to"] == KNOWN_PHONE
