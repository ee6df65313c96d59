"""The SMS sender port, and the console sender that is the embedded (development) default."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import structlog

from backend.domain.phone import mask_phone


@dataclass(frozen=True, slots=True)
class SentSms:
    """What the gateway said about an accepted message."""

    provider_id: str  # Twilio's MessageSid, or the console sender's own id
    status: str  # e.g. "queued", "accepted"; "printed" for the console sender


class SmsSendError(Exception):
    """The gateway did not accept the message; `reason` is short, safe to log, has no body."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SmsSender(Protocol):
    async def send(self, to: str, body: str) -> SentSms:
        """Send `body` to the E.164 number `to`; raise SmsSendError when it is not accepted."""
        ...


class ConsoleSmsSender:
    """Development only: prints each SMS to the log, code included, and keeps an outbox file.

    No SMS leaves the machine. The outbox (`dariger outbox`, `read_console_outbox`) keeps the
    last `keep` messages as JSON lines so a developer can sign in without a phone.
    """

    def __init__(self, path: str | Path, *, keep: int = 200, logger: Any | None = None) -> None:
        if keep < 1:
            raise ValueError("keep must be at least 1")
        self.path = Path(path)
        self.keep = keep
        self._log = logger if logger is not None else structlog.get_logger("otp.console_sms")
        self._lock = asyncio.Lock()

    async def send(self, to: str, body: str) -> SentSms:
        entry = {
            "id": f"console-{secrets.token_hex(8)}",
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "to": to,
            "body": body,
        }
        # The full text, code included, on purpose: this sender exists only for development.
        self._log.warning(
            "console_sms",
            note="DEV ONLY: SMS not sent; printed here in full, code included",
            to=mask_phone(to),
            body=body,
        )
        async with self._lock:
            try:
                await asyncio.to_thread(_append_keeping_last, self.path, entry, self.keep)
            except OSError as exc:
                raise SmsSendError(f"console outbox not writable: {type(exc).__name__}") from None
        return SentSms(provider_id=str(entry["id"]), status="printed")


def _append_keeping_last(path: Path, entry: dict[str, str], keep: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    lines.append(json.dumps(entry, ensure_ascii=False))
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(lines[-keep:]) + "\n", encoding="utf-8")
    tmp.replace(path)


def read_console_outbox(path: str | Path, limit: int = 20) -> list[dict[str, Any]]:
    """The last `limit` messages of the console outbox, oldest first; [] when there are none."""
    file = Path(path)
    if limit < 1 or not file.exists():
        return []
    entries: list[dict[str, Any]] = []
    for line in file.read_text(encoding="utf-8").splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict):
            entries.append(item)
    return entries[-limit:]
