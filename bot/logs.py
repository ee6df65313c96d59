"""Logging: structlog over the standard library, one format for our logs and the libraries'.

Every record, ours or aiohttp's, aiogram's, SQLAlchemy's or alembic's, goes through one stdlib
handler whose `ProcessorFormatter` renders it as console text or JSON. The last step before
rendering masks ИИН and phone numbers in the message, in every string value and in rendered
exceptions: they never reach a log unmasked. Then control characters and bidi overrides are
escaped (`\x00`, `\u202e`) in every value, so that what a sender typed can neither forge a
log line nor make one read differently from what it holds; a traceback keeps its line breaks.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Mapping
from typing import Any, Literal, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from backend.pii import mask_pii

LogFormat = Literal["console", "json"]

# C0/C1 controls, DEL, the bidi embeddings/overrides/isolates and the Unicode line separators.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_UNSAFE_BUT_LAYOUT = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
# Rendered tracebacks: their line breaks and indentation are the layout.
_MULTILINE_KEYS = frozenset({"exception", "stack"})

# Records from these libraries are too chatty at INFO for a service log.
_QUIET_LOGGERS = ("aiohttp.access", "asyncio")


def mask_value(value: Any) -> Any:
    """`value` with every ИИН and phone number masked, recursively through containers.

    Numbers that are no ИИН or phone stay numbers; objects of other types become their
    masked `repr`, so that no object can carry an ИИН past this point.
    """
    if isinstance(value, str):
        return mask_pii(value)
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):
        # An ИИН or a phone number may arrive as an int: 900101300128.
        masked = mask_pii(str(value))
        return value if masked == str(value) else masked
    if isinstance(value, Mapping):
        return {key: mask_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [mask_value(item) for item in value]
    return mask_pii(repr(value))


def mask_pii_processor(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Mask ИИН and phone numbers in the event text and in every value."""
    masked: EventDict = {}
    for key, value in event_dict.items():
        if key.startswith("_") or key == "exc_info":
            masked[key] = value  # structlog's own bookkeeping (the stdlib record, the logger)
        elif key == "event" and not isinstance(value, str):
            masked[key] = mask_pii(str(value))
        else:
            masked[key] = mask_value(value)
    return masked


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(value: Any, *, keep_layout: bool = False) -> Any:
    """`value` with control characters and bidi overrides escaped, through containers."""
    if isinstance(value, str):
        return (_UNSAFE_BUT_LAYOUT if keep_layout else _UNSAFE).sub(_escape_char, value)
    if isinstance(value, Mapping):
        return {escape_controls(k): escape_controls(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [escape_controls(item) for item in value]
    return value


def escape_controls_processor(
    _logger: WrappedLogger, _method: str, event_dict: EventDict
) -> EventDict:
    """Escape control characters in every value (after masking, before rendering)."""
    return {
        key: value
        if key.startswith("_")
        else escape_controls(value, keep_layout=key in _MULTILINE_KEYS)
        for key, value in event_dict.items()
    }


def _renderer(log_format: LogFormat, stream: TextIO) -> Processor:
    if log_format == "json":
        return structlog.processors.JSONRenderer(serializer=json.dumps, ensure_ascii=False)
    colors = bool(getattr(stream, "isatty", lambda: False)())
    return structlog.dev.ConsoleRenderer(colors=colors)


class _DarigerHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Our one root handler; reconfiguring replaces it and leaves other handlers alone."""


def configure_logging(
    log_format: LogFormat = "console",
    level: str = "INFO",
    *,
    stream: TextIO | None = None,
) -> None:
    """Configure structlog and the stdlib root logger (idempotent: call once per process,
    or again to change the format; tests do)."""
    out = stream if stream is not None else sys.stderr
    numeric_level = logging.getLevelNamesMapping()[level.upper()]

    # Run on every record, ours and the libraries' ("foreign"), before rendering.
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.UnicodeDecoder(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # Exceptions become text here so that the masking step sees them too: a database
            # error may quote the row it refused, ИИН included.
            structlog.processors.format_exc_info,
            mask_pii_processor,
            escape_controls_processor,
            _renderer(log_format, out),
        ],
    )
    handler = _DarigerHandler(out)
    handler.setFormatter(formatter)

    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _DarigerHandler)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(numeric_level)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(numeric_level, logging.WARNING))


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structlog logger named like a stdlib one (`bot.http`, `bot.cli`)."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger
