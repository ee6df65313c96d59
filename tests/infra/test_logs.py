"""Logs: ИИН and phone numbers never appear unmasked, in our lines or the libraries'."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re

import pytest
import structlog

from backend.domain.iin import Sex, is_valid_iin, make_iin
from bot.logs import LogFormat, configure_logging, get_logger

IIN = make_iin(dt.date(1990, 1, 1), Sex.MALE, 1)
PHONE = "+77011234567"
MASKED_IIN = "********" + IIN[-4:]
MASKED_PHONE = "+7 701 *** ** 67"


def _assert_masked(output: str) -> None:
    assert IIN not in output
    assert PHONE not in output
    assert "7011234567" not in output
    assert MASKED_IIN in output
    assert MASKED_PHONE in output


def test_the_example_iin_is_valid() -> None:
    assert is_valid_iin(IIN)


@pytest.mark.parametrize("log_format", ["console", "json"])
def test_structlog_event_and_values_are_masked(
    capsys: pytest.CaptureFixture[str], log_format: LogFormat
) -> None:
    configure_logging(log_format, "INFO")

    get_logger("tests.logs").info(
        f"patient {IIN} asked for a code to {PHONE}",
        iin=IIN,
        phone=PHONE,
        iin_as_int=int(IIN),
        nested={"phones": [PHONE], "who": (IIN,)},
    )

    err = capsys.readouterr().err
    _assert_masked(err)
    assert err.count(MASKED_IIN) >= 4


def test_json_lines_are_json_with_masked_values(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json", "INFO")

    get_logger("tests.logs").warning("sign-in", iin=IIN, phone=PHONE, attempts=2)

    line = json.loads(capsys.readouterr().err.strip())
    assert line["event"] == "sign-in"
    assert line["iin"] == MASKED_IIN
    assert line["phone"] == MASKED_PHONE
    assert line["attempts"] == 2
    assert line["level"] == "warning"
    assert line["logger"] == "tests.logs"
    assert line["timestamp"].endswith("Z")


@pytest.mark.parametrize("log_format", ["console", "json"])
def test_stdlib_records_are_masked(
    capsys: pytest.CaptureFixture[str], log_format: LogFormat
) -> None:
    configure_logging(log_format, "INFO")

    logging.getLogger("aiohttp.server").warning("from %s at %s", IIN, PHONE)
    logging.getLogger("sqlalchemy.pool").error(f"row {IIN} / {PHONE}")

    err = capsys.readouterr().err
    _assert_masked(err)
    assert "aiohttp.server" in err


@pytest.mark.parametrize("log_format", ["console", "json"])
def test_exceptions_are_masked(capsys: pytest.CaptureFixture[str], log_format: LogFormat) -> None:
    configure_logging(log_format, "INFO")
    error = ValueError(f'duplicate key: Key (iin)=({IIN}) phone "{PHONE}"')

    try:
        raise error
    except ValueError:
        get_logger("tests.logs").exception("insert failed")
        logging.getLogger("sqlalchemy.engine").exception("stdlib insert failed")

    err = capsys.readouterr().err
    _assert_masked(err)
    assert err.count("ValueError") == 2


def test_level_filters_and_context_is_merged(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json", "WARNING")
    log = get_logger("tests.logs")

    log.info("hidden")
    with structlog.contextvars.bound_contextvars(request_id="r-1", phone=PHONE):
        log.warning("shown")

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [line["event"] for line in lines] == ["shown"]
    assert lines[0]["request_id"] == "r-1"
    assert lines[0]["phone"] == MASKED_PHONE


def test_reconfiguring_keeps_one_handler(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("console", "INFO")
    configure_logging("json", "INFO")

    get_logger("tests.logs").info("once")

    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0])["event"] == "once"


@pytest.mark.parametrize("log_format", ["console", "json"])
def test_control_characters_from_a_sender_are_logged_escaped(
    capsys: pytest.CaptureFixture[str], log_format: LogFormat
) -> None:
    configure_logging(log_format, "INFO")

    get_logger("tests.logs").warning(
        "sms_in \x1b[31mred\u202e",
        sender="\x00\u202eevil\nforged line",
        nested={"who": ["\x07\u2066x"]},
    )
    logging.getLogger("aiohttp.server").warning("from %s", "\x00\u202e")

    err = capsys.readouterr().err
    for raw in ("\x00", "\u202e", "\u2066", "\x07", "\x1b"):
        assert raw not in err
    # Escaped, readable (the console renderer may double the backslash of a quoted value).
    assert re.search(r"\\+x00\\+u202eevil\\+x0aforged line", err), err
    assert re.search(r"\\+x1b\[31mred\\+u202e", err), err
    assert err.count("\n") == 2  # one line per record: the sender forged none


def test_a_traceback_keeps_its_lines(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("console", "INFO")

    try:
        raise ValueError("bad \x00 input")
    except ValueError:
        get_logger("tests.logs").exception("failed")

    err = capsys.readouterr().err
    assert "Traceback" in err
    assert err.count("\n") > 3
    assert "\x00" not in err
