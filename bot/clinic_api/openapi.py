"""The OpenAPI 3.1 document of the Clinic API, served at /api/clinic/v1/openapi.json.

The schemas are generated from the pydantic models (so they cannot drift from what the API
validates and answers); the paths come from the same `ROUTES` table the sub-application is
built from, with the hand-written words (summaries, errors) beside them.
"""

from __future__ import annotations

import functools
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from bot.clinic_api import models
from bot.clinic_api.api import NUMBER_PATTERN, PREFIX, ROUTES, Route

REF = "#/components/schemas/{model}"
_ERRORS: dict[str, str] = {
    "400": "The body is not valid JSON",
    "401": "No key, an unknown key or a revoked key",
    "404": "No such application at this clinic (another clinic's is not found either)",
    "409": "The application's status or service does not allow this (revoke: no signed document)",
    "413": "The body is too large",
    "415": "The body is not JSON",
    "422": "A field is missing, of the wrong type, unknown, or not accepted by the rules",
    "503": "The service is unavailable (database down): try again later",
}
_GET_ERRORS = ("401", "404", "422", "503")


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": _ref(models.ErrorOut)}},
    }


def _query_parameters() -> list[dict[str, Any]]:
    schema = models.ListQuery.model_json_schema(ref_template=REF)
    return [
        {"name": name, "in": "query", "required": False, "schema": prop}
        for name, prop in schema["properties"].items()
    ]


def _operation(route: Route) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": route.name, "summary": route.summary}
    parameters: list[dict[str, Any]] = []
    if "{number}" in route.path:
        parameters.append(
            {
                "name": "number",
                "in": "path",
                "required": True,
                "description": "the application number, e.g. K7QF-3M9P",
                "schema": {"type": "string", "pattern": f"^{NUMBER_PATTERN}$"},
            }
        )
    if route.name == "list_applications":
        parameters.extend(_query_parameters())
    if parameters:
        op["parameters"] = parameters
    if route.body is not None:
        op["requestBody"] = {
            "required": route.body is not models.ActionIn,
            "content": {"application/json": {"schema": _ref(route.body)}},
        }
    answer: dict[str, Any] = {"description": "OK"}
    if route.answer is not None:
        answer["content"] = {"application/json": {"schema": _ref(route.answer)}}
    elif route.public:
        answer["content"] = {"application/json": {"schema": {"type": "object"}}}
    op["responses"] = {str(route.status): answer}
    if route.public:
        op["security"] = []
    else:
        codes = _GET_ERRORS if route.method == "GET" else tuple(_ERRORS)
        op["responses"].update({code: _error(_ERRORS[code]) for code in codes})
    return op


@functools.cache
def document() -> dict[str, Any]:
    mode: dict[str, JsonSchemaMode] = {}
    for route in ROUTES:
        if route.body is not None:
            mode[route.body.__name__] = "validation"
        if route.answer is not None:
            mode[route.answer.__name__] = "serialization"
    mode[models.ErrorOut.__name__] = "serialization"
    wanted: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = []
    for route in ROUTES:
        for model in (route.body, route.answer):
            if model is not None and (model, mode[model.__name__]) not in wanted:
                wanted.append((model, mode[model.__name__]))
    wanted.append((models.ErrorOut, "serialization"))
    _, schemas = models_json_schema(wanted, ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(PREFIX + route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Dariger Clinic API",
            "version": "1.0.0",
            "description": (
                "Clinic information systems act on the applications of their own clinic: "
                "list, read, take into work, complete, refuse on a legal ground, assign home "
                "visits, record attendance, post finished documents and revoke the documents "
                "Dariger signed for them. See docs/clinic-api.md."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"clinicKey": []}],
        "paths": paths,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {
                "clinicKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a clinic API key from `dariger clinic-key add CLINIC`",
                }
            },
        },
    }
