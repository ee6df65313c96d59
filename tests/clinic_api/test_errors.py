"""Bad input always gets a 4xx JSON error naming what is wrong, never a 5xx; an outage is 503."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_aiohttp import AiohttpClient

from backend.bootstrap import bootstrap
from bot.app import SLOT_TOP_UP_KEY, create_app
from bot.sms.channel import SMS_WORKER_KEY
from tests.clinic_api.conftest import API, ClinicClient
from tests.sms.harness import sms_settings


async def test_bad_json_gets_400(api: ClinicClient) -> None:
    number = await api.certificate()
    for data in ('{"ground": ', "not json", "\ufeff{}", '{"ground": "unreliable_data"'):
        response = await api.post(
            f"/applications/{number}/refuse",
            data=data,
            headers={"Content-Type": "application/json"},
        )
        error = await api.error(response, 400)
        assert error["code"] == "bad_json"
    response = await api.post(
        f"/applications/{number}/refuse",
        data=b"\xff\xfe{}",
        headers={"Content-Type": "application/json"},
    )
    assert (await api.error(response, 400))["code"] == "bad_json"


async def test_a_body_that_is_not_json_gets_415(api: ClinicClient) -> None:
    number = await api.certificate()
    response = await api.post(
        f"/applications/{number}/refuse",
        data="ground=unreliable_data",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (await api.error(response, 415))["code"] == "unsupported_media_type"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"ground": 1}, "ground"),
        ({"ground": ["unreliable_data"]}, "ground"),
        ({"ground": "unreliable_data", "note": 5}, "note"),
        ({"ground": "unreliable_data", "note": "x" * 301}, "note"),
        ({"ground": "unreliable_data", "by": "me"}, "by"),  # unknown field
        ([], "body"),
        ("unreliable_data", "body"),
        (None, "body"),
    ],
)
async def test_wrong_types_and_unknown_fields_get_422(
    api: ClinicClient, body: Any, field: str
) -> None:
    number = await api.certificate()
    response = await api.post(
        f"/applications/{number}/refuse",
        data=json.dumps(body),
        headers={"Content-Type": "application/json"},
    )
    error = await api.error(response, 422)
    assert error["code"] == "validation_error"
    assert field in error["fields"], error


async def test_an_action_without_a_body_is_fine_but_not_with_a_wrong_one(
    api: ClinicClient,
) -> None:
    number = await api.certificate()
    await api.ok(await api.post(f"/applications/{number}/take", data=b""))
    error = await api.error(await api.post(f"/applications/{number}/complete", {"x": 1}), 422)
    assert "x" in error["fields"]


async def test_a_huge_body_gets_413(api: ClinicClient) -> None:
    number = await api.certificate()
    body = {"ground": "unreliable_data", "note": "x" * (100 * 1024)}
    error = await api.error(await api.post(f"/applications/{number}/refuse", body), 413)
    assert error["code"] == "body_too_large"

    async def chunks() -> Any:  # no Content-Length: the limit holds while reading
        for _ in range(100):
            yield b" " * 1024

    response = await api.client.post(
        f"{API}/applications/{number}/refuse",
        data=chunks(),
        headers={**api.headers(api.key_a), "Content-Type": "application/json"},
    )
    assert (await api.error(response, 413))["code"] == "body_too_large"


async def test_unknown_paths_and_methods(api: ClinicClient) -> None:
    error = await api.error(await api.get("/nothing/here"), 404)
    assert error["code"] == "no_such_endpoint"
    error = await api.error(await api.get("/applications/ABCD-EFGH/take"), 405)
    assert error["code"] == "method_not_allowed"
    response = await api.client.delete(
        f"{API}/applications/ABCD-EFGH", headers=api.headers(api.key_a)
    )
    assert (await api.error(response, 405))["code"] == "method_not_allowed"
    assert response.headers["Allow"] == "GET"
    # an application number with characters no number has: no such endpoint either
    error = await api.error(await api.get("/applications/ABCD%20EFGH"), 404)
    assert error["code"] == "no_such_endpoint"


async def test_a_database_outage_is_503(aiohttp_client: AiohttpClient, free_port: int) -> None:
    down = bootstrap(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port}/nowhere")
    app = create_app(sms_settings(), down)
    app[SMS_WORKER_KEY] = False
    app[SLOT_TOP_UP_KEY] = False
    client = await aiohttp_client(app)
    response = await client.get(
        f"{API}/applications", headers={"Authorization": "Bearer dcl_000000000000_" + "A" * 43}
    )
    assert response.status == 503, await response.text()
    body = await response.json()
    assert body["error"]["code"] == "unavailable"


@pytest.fixture
def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = st.sampled_from(
    ["ground", "note", "doctor_code", "window_start", "window_end", "attended", "filename",
     "content_base64"]
)  # fmt: skip
VALUES = JSON | st.sampled_from(
    ["unreliable_data", "not_attached_here", "2026-11-24T10:00:00+05:00", "A-T1", "JVBERi0x",
     "2026-11-24T25:00:00+05:00", "9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00-12:00"]
)  # fmt: skip
BODIES = JSON | st.dictionaries(FIELDS, VALUES, max_size=4)
ACTIONS = st.sampled_from(["take", "complete", "refuse", "home-visit", "attendance", "documents"])


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_fuzzed_bodies_never_get_a_5xx(api: ClinicClient) -> None:
    numbers = [await api.certificate(), await api.home_visit(), await api.appointment()]
    seen: set[int] = set()

    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
    )
    @given(body=BODIES, action=ACTIONS, which=st.integers(0, 2))
    def run(body: Any, action: str, which: int) -> None:
        examples.append((body, action, which))

    examples: list[tuple[Any, str, int]] = []
    run()
    for body, action, which in examples:
        response = await api.post(
            f"/applications/{numbers[which]}/{action}",
            data=json.dumps(body),
            headers={"Content-Type": "application/json"},
        )
        text = await response.text()
        assert response.status < 500, (body, action, response.status, text)
        seen.add(response.status)
        if response.status >= 400:
            assert json.loads(text)["error"]["code"]
    assert 422 in seen


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("0001-01-01T00:00:00+14:00", "0001-01-01T02:00:00+14:00"),
        ("9999-12-31T22:00:00-12:00", "9999-12-31T23:59:59-12:00"),
        ("9999-12-31T10:00:00+05:00", "9999-12-31T12:00:00+05:00"),
        ("2026-11-24T10:00:00+05:00", "2026-11-24T10:00:00.000001+05:00"),
    ],
)
async def test_extreme_home_visit_windows_get_a_4xx(
    api: ClinicClient, start: str, end: str
) -> None:
    number = await api.home_visit()
    body = {"doctor_code": "A-T1", "window_start": start, "window_end": end}
    response = await api.post(f"/applications/{number}/home-visit", body)
    assert 400 <= response.status < 500, await response.text()
