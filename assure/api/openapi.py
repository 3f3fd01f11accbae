"""The OpenAPI document, completed with every error each operation can answer (API.md).

Ninja describes the success bodies from the routers' schemas. This module adds, per operation,
each problem+json answer with its status and the exact list of its `code` values (an enum, so
that a client generator and the schema checks in the tests both see them), the 429 of the
throttle with its Retry-After header, and the two security schemes.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

PROBLEM_CONTENT_TYPE = "application/problem+json"
COMMITTED_DOCUMENT = Path(__file__).resolve().parent.parent.parent / "docs" / "openapi.json"

# Every operation lists its codes by status. Three are added where they apply: 400
# validation_error (any operation with parameters or a body), 401 unauthenticated (any operation
# behind the member token), 429 throttled (every operation).
PROBLEM_CODES: dict[str, dict[int, list[str]]] = {
    "auth_signup": {},
    "auth_forgot_code": {},
    "auth_account_check": {},
    "auth_login": {401: ["invalid_credentials", "superseded_code"], 423: ["locked"]},
    "auth_second_factor": {401: ["invalid_code"]},
    "auth_secret_code": {400: ["weak_secret_code"], 401: ["invalid_token"]},
    "auth_refresh": {401: ["invalid_token"]},
    "auth_logout": {},
    "me_get": {},
    "me_address_update": {},
    "me_phone_update": {},
    "me_email_change": {},
    "me_bank_account_change": {
        401: ["second_factor_required", "invalid_code"],
        403: ["second_factor_unavailable"],
    },
    "me_changes_list": {400: ["invalid_cursor"]},
    "me_access_log": {},
    "sessions_list": {},
    "sessions_delete": {404: ["not_found"]},
    "account_terminate": {401: ["invalid_credentials"], 423: ["locked"]},
    "statements_list": {400: ["invalid_cursor"]},
    "statements_get": {404: ["not_found"]},
    "allowances_list": {},
    "deductibles_get": {},
    "certificates_list": {400: ["invalid_cursor"]},
    "certificates_create": {
        400: ["invalid_period", "too_many_payments", "invalid_year", "unknown_beneficiary"],
        409: ["coverage_inactive"],
        503: ["signing_unavailable"],
    },
    "certificates_pdf": {404: ["not_found"]},
    "verify_get": {},
    "messages_subjects": {},
    "threads_list": {400: ["invalid_cursor"]},
    "threads_create": {
        400: [
            "unknown_subject",
            "invalid_body",
            "invalid_reference",
            "too_many_files",
            "attachment_refused",
        ]
    },
    "threads_get": {404: ["not_found"]},
    "threads_reply": {
        400: ["invalid_body", "too_many_files", "attachment_refused"],
        404: ["not_found"],
        409: ["thread_closed"],
    },
    "attachments_get": {404: ["not_found"]},
    "ehic_orders_list": {},
    "ehic_orders_create": {
        400: ["unknown_beneficiary", "invalid_departure_date"],
        409: ["coverage_inactive", "order_already_open"],
    },
    "feeds_members_load": {401: ["invalid_token"], 415: ["unsupported_media_type"]},
    "feeds_statements_load": {401: ["invalid_token"], 415: ["unsupported_media_type"]},
    "feeds_allowances_load": {401: ["invalid_token"], 415: ["unsupported_media_type"]},
}

# Extra members some problems carry, by code (API.md).
PROBLEM_EXTRAS: dict[str, dict[str, Any]] = {
    "locked": {"locked_until": {"type": "string", "format": "date-time"}},
    "throttled": {
        "locked_until": {"type": "string", "format": "date-time"},
        "retry_after": {"type": "integer", "description": "Seconds, as in Retry-After."},
    },
    "superseded_code": {
        "replaced_on": {"type": "string", "format": "date"},
        "channel": {"type": "string", "enum": ["email", "post"]},
    },
    "weak_secret_code": {"rules": {"type": "array", "items": {"type": "string"}}},
    "second_factor_required": {
        "challenge": {"type": "string"},
        "methods": {"type": "array", "items": {"type": "string"}},
    },
    "attachment_refused": {"reason": {"type": "string"}},
}

STATUS_TEXT = {
    400: "Bad request",
    401: "Unauthenticated",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    415: "Unsupported media type",
    423: "Locked",
    429: "Too many requests",
    503: "Service unavailable",
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem document. `code` is stable; `title` is in the "
    "request's language (French by default, `Accept-Language: en` for English).",
    "type": "object",
    "properties": {
        "type": {"type": "string", "description": "A link to this code in the API reference."},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string"},
        "errors": {
            "type": "object",
            "description": "Messages by field, when fields are at fault.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["type", "title", "status", "code"],
}

RETRY_AFTER = {
    "description": "Seconds to wait before trying again.",
    "schema": {"type": "integer", "minimum": 0},
}


def operation_codes(operation_id: str, operation: dict[str, Any]) -> dict[int, list[str]]:
    """The problem codes of one operation by status, the common ones included."""
    codes = {status: list(values) for status, values in PROBLEM_CODES[operation_id].items()}
    body_types = set(operation.get("requestBody", {}).get("content", {}))
    if any(_can_fail(p) for p in operation.get("parameters", [])) or body_types & {
        "application/json",
        "multipart/form-data",
    }:
        codes.setdefault(400, []).insert(0, "validation_error")
    if any("MemberBearer" in req for req in operation.get("security", [])):
        codes.setdefault(401, []).insert(0, "unauthenticated")
    codes.setdefault(429, []).append("throttled")
    return {status: sorted(set(values)) for status, values in sorted(codes.items())}


def _can_fail(parameter: dict[str, Any]) -> bool:
    """Whether a parameter's value can be refused: anything but a free string."""
    schema = parameter.get("schema", {})
    return (
        bool(parameter.get("required") and parameter.get("in") != "path")
        or set(schema)
        - {
            "type",
            "title",
            "description",
        }
        != set()
        or schema.get("type") != "string"
    )


def _problem_response(status: int, codes: list[str]) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "status": {"type": "integer", "enum": [status]},
        "code": {"type": "string", "enum": codes},
    }
    for code in codes:
        properties.update(PROBLEM_EXTRAS.get(code, {}))
    response: dict[str, Any] = {
        "description": f"{STATUS_TEXT.get(status, 'Error')}: "
        + ", ".join(f"`{code}`" for code in codes),
        "content": {
            PROBLEM_CONTENT_TYPE: {
                "schema": {
                    "allOf": [
                        {"$ref": "#/components/schemas/Problem"},
                        {"type": "object", "properties": properties},
                    ]
                }
            }
        },
    }
    if status == 429:
        response["headers"] = {"Retry-After": RETRY_AFTER}
    return response


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[-1]} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node)) if node else set()
    return set()


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """Replaces the routers' error answers by the problem answers with their codes."""
    document = copy.deepcopy(document)
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            responses = {
                str(key): value
                for key, value in operation.get("responses", {}).items()
                if int(key) < 400
            }
            codes = operation_codes(operation["operationId"], operation)
            for status, values in codes.items():
                responses[str(status)] = _problem_response(status, values)
            operation["responses"] = dict(sorted(responses.items()))
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    # The routers' own error schemas are replaced: keep only what is still referenced.
    used = _refs(document["paths"])
    while True:
        more = set().union(*(_refs(schemas[n]) for n in used if n in schemas)) - used
        if not more:
            break
        used |= more
    components = document["components"]
    components["schemas"] = {name: schemas[name] for name in sorted(schemas) if name in used}
    return document


CODE_MEANINGS: dict[str, str] = {
    "validation_error": "A parameter or a field of the body is missing or malformed; `errors` "
    "lists the messages by field.",
    "unauthenticated": "No access token, or one that is unknown, expired or revoked.",
    "throttled": "Too many requests: wait for the seconds in `Retry-After`.",
    "not_found": "No such object, or not the caller's: both answer alike.",
    "invalid_credentials": "Unknown NIR or wrong secret code (the same answer for both).",
    "superseded_code": "A provisional code that a newer one replaced (`replaced_on`, `channel`).",
    "locked": "Too many failed tries: login is blocked until `locked_until`.",
    "invalid_code": "The second-factor code is wrong or expired.",
    "weak_secret_code": "The new secret code breaks the rules listed in `rules`.",
    "invalid_token": "The challenge, refresh token or feed token is not valid (a refresh token "
    "used twice also revokes its whole family).",
    "invalid_cursor": "The `cursor` was not given by this list.",
    "second_factor_required": "Send the same body again with `challenge` and the `code` received.",
    "second_factor_unavailable": "The member has no second-factor method to change bank details.",
    "invalid_period": "The period is not valid for this certificate.",
    "too_many_payments": "The period holds too many payments for one certificate.",
    "invalid_year": "No certificate for this year.",
    "unknown_beneficiary": "The person is not one of the member's beneficiaries.",
    "coverage_inactive": "The member's coverage is not active.",
    "signing_unavailable": "The signing service is unavailable: try again later.",
    "unknown_subject": "The subject is not one of messages/subjects.",
    "invalid_body": "The message is empty or too long.",
    "invalid_reference": "The reference is not valid.",
    "too_many_files": "At most 3 files a message.",
    "attachment_refused": "A file was refused; `reason` says why.",
    "thread_closed": "The thread is closed.",
    "invalid_departure_date": "The departure date is in the past or too far ahead.",
    "order_already_open": "An order for this person is already under way.",
    "unsupported_media_type": "Feeds take `application/x-ndjson` only.",
}


def operations_for_page(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The operations in the document's order, flattened for the reference page."""
    found = []
    for path, path_item in document.get("paths", {}).items():
        for method, operation in path_item.items():
            found.append(
                {
                    "id": operation["operationId"],
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "auth": ", ".join(k for req in operation.get("security", []) for k in req)
                    or "none",
                    "parameters": [
                        {
                            "name": p["name"],
                            "in": p["in"],
                            "required": p.get("required", False),
                            "schema": _pretty(p.get("schema", {})),
                        }
                        for p in operation.get("parameters", [])
                    ],
                    "body": [
                        (media, _pretty(content.get("schema", {})))
                        for media, content in operation.get("requestBody", {})
                        .get("content", {})
                        .items()
                    ],
                    "responses": [
                        {
                            "status": status,
                            "description": response.get("description", ""),
                            "content": [
                                (media, _pretty(content.get("schema", {})))
                                for media, content in response.get("content", {}).items()
                            ],
                        }
                        for status, response in operation.get("responses", {}).items()
                    ],
                }
            )
    return found


def _pretty(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False)


def schemas_for_page(document: dict[str, Any]) -> list[tuple[str, str]]:
    schemas = document.get("components", {}).get("schemas", {})
    return [(name, _pretty(schema)) for name, schema in schemas.items()]


def codes_for_page(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every problem code of the document with its statuses and meaning."""
    statuses: dict[str, set[int]] = {}
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            for status, response in operation.get("responses", {}).items():
                for media in response.get("content", {}).values():
                    for part in media.get("schema", {}).get("allOf", []):
                        for code in part.get("properties", {}).get("code", {}).get("enum", []):
                            statuses.setdefault(code, set()).add(int(status))
    return [
        {"code": code, "statuses": sorted(statuses[code]), "meaning": CODE_MEANINGS.get(code, "")}
        for code in sorted(statuses)
    ]


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
