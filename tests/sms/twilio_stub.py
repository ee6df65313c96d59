"""A local stand-in for Twilio's Messages API (no network), for the real `TwilioSmsSender`."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

ACCOUNT = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "stub-auth-token"
SERVICE = "MG" + "0" * 31 + "2"


@dataclass(frozen=True)
class Recorded:
    path: str
    headers: dict[str, str]
    form: dict[str, list[str]]


@dataclass
class TwilioStub:
    url: str = ""
    status: int = 201  # what the API answers now: 201 accepts, 500/503 is Twilio down
    error_code: int = 20500
    body: str = ""  # a raw answer instead of the JSON one (an HTML error page, say)
    accepted: list[tuple[str, str, str]] = field(default_factory=list)  # (sid, to, body)
    requests: list[Recorded] = field(default_factory=list)
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    _sids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def bodies_to(self, to: str) -> list[str]:
        return [body for _, number, body in self.accepted if number == to]


@contextmanager
def twilio_stub() -> Iterator[TwilioStub]:
    state = TwilioStub()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = parse_qs(self.rfile.read(length).decode())
            to, body = form.get("To", [""])[0], form.get("Body", [""])[0]
            with state.lock:
                state.requests.append(Recorded(self.path, dict(self.headers), form))
                status = state.status
                if status == 201:
                    sid = f"SM{next(state._sids):032x}"
                    state.accepted.append((sid, to, body))
                    payload: dict[str, object] = {
                        "sid": sid,
                        "status": "queued",
                        "to": to,
                        "account_sid": ACCOUNT,
                    }
                else:
                    state.refused += 1
                    payload = {"code": state.error_code, "message": "stub", "status": status}
            data = (state.body or json.dumps(payload)).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
