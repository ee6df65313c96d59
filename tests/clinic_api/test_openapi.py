"""The OpenAPI document: served without a key, generated from the models, and in step with the
routes the app really has (every route documented, every documented route there)."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from bot.clinic_api import OPENAPI_PATH, PREFIX
from tests.clinic_api.conftest import ClinicClient

METHODS = {"get", "post", "put", "patch", "delete"}


def _app_routes(app: web.Application) -> set[tuple[str, str]]:
    """(method, path) of every route of the app and its sub-applications (whose paths carry
    their prefix once mounted), catch-alls aside."""
    found: set[tuple[str, str]] = set()
    for resource in app.router.resources():
        info = resource.get_info()
        if "app" in info:  # a sub-application
            found |= _app_routes(info["app"])
            continue
        path = info.get("path") or info.get("formatter") or ""
        path = re.sub(r"\{(\w+):[^}]*\}", r"{\1}", path)
        for route in resource:
            if route.method not in {"*", "HEAD"}:
                found.add((route.method.lower(), path))
    return found


async def _document(api: ClinicClient) -> dict[str, Any]:
    response = await api.client.get(PREFIX + OPENAPI_PATH)  # no key
    assert response.status == 200, await response.text()
    document: dict[str, Any] = await response.json()
    return document


async def test_every_route_is_documented_and_every_documented_route_exists(
    api: ClinicClient,
) -> None:
    document = await _document(api)
    assert document["openapi"].startswith("3.1")
    documented = {
        (method, path)
        for path, operations in document["paths"].items()
        for method in operations
        if method in METHODS
    }
    served = {(m, p) for m, p in _app_routes(api.app) if p.startswith(PREFIX)}
    assert documented == served
    assert ("post", f"{PREFIX}/applications/{{number}}/take") in served


async def test_every_schema_reference_resolves(api: ClinicClient) -> None:
    document = await _document(api)
    schemas = document["components"]["schemas"]
    text = repr(document)
    refs = set(re.findall(r"#/components/schemas/(\w+)", text))
    assert refs and refs <= set(schemas)
    refuse = schemas["RefuseIn"]
    assert refuse["additionalProperties"] is False
    assert set(refuse["required"]) == {"ground"}
    ground = schemas[refuse["properties"]["ground"]["$ref"].rsplit("/", 1)[-1]]
    assert set(ground["enum"]) == {"unreliable_data", "not_attached_here", "no_subject_consent"}
    list_operation = document["paths"][f"{PREFIX}/applications"]["get"]
    assert {p["name"] for p in list_operation["parameters"]} == {
        "service", "status", "date_from", "date_to", "page", "per_page",
    }  # fmt: skip
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation["operationId"] and operation["summary"], (method, path)
            if path != PREFIX + OPENAPI_PATH:
                assert "401" in operation["responses"], (method, path)
