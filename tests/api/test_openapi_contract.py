"""The committed docs/openapi.json is the contract: the generated document may not drift from it.

A removal (path, method, property, enum value, response status, security scheme) or a change of
type is a breaking change and fails with the list of what broke. An addition fails too until the
document is regenerated and committed, with a message that says so.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from assure.api import openapi
from assure.api.api import api

REGENERATE = "run `make openapi` (or `assure openapi`) and commit docs/openapi.json"


def _generated() -> dict[str, Any]:
    return json.loads(openapi.dumps(api.get_openapi_schema(path_prefix="/api/v1/")))


def _committed() -> dict[str, Any]:
    return json.loads(openapi.COMMITTED_DOCUMENT.read_text(encoding="utf-8"))


def _resolve(document: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        node = document["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _types(node: dict[str, Any]) -> set[str]:
    found = set()
    if "type" in node:
        found |= set(node["type"]) if isinstance(node["type"], list) else {node["type"]}
    for key in ("anyOf", "oneOf"):
        for option in node.get(key, []):
            found |= _types(option) or {"ref"}
    return found


def schema_breaks(old_doc, old, new_doc, new, where: str, seen=None) -> list[str]:
    """What a client written against `old` would find broken in `new`."""
    seen = seen if seen is not None else set()
    old, new = _resolve(old_doc, old), _resolve(new_doc, new)
    if not isinstance(old, dict) or not isinstance(new, dict):
        return []
    key = (id(old), id(new))
    if key in seen:
        return []
    seen.add(key)
    breaks = []
    old_types, new_types = _types(old), _types(new)
    if old_types and new_types and old_types != new_types:
        breaks.append(f"{where}: type {sorted(old_types)} became {sorted(new_types)}")
    if old.get("format") != new.get("format") and "format" in old:
        breaks.append(f"{where}: format {old.get('format')} became {new.get('format')}")
    removed = set(old.get("enum", [])) - set(new.get("enum", old.get("enum", [])))
    if removed:
        breaks.append(f"{where}: enum values removed {sorted(map(str, removed))}")
    for name, sub in old.get("properties", {}).items():
        if name not in new.get("properties", {}):
            breaks.append(f"{where}: property {name!r} removed")
        else:
            breaks += schema_breaks(
                old_doc, sub, new_doc, new["properties"][name], f"{where}.{name}", seen
            )
    newly_required = set(new.get("required", [])) - set(old.get("required", []))
    if newly_required and where.endswith("(request)"):
        breaks.append(f"{where}: newly required {sorted(newly_required)}")
    if "items" in old and "items" in new:
        breaks += schema_breaks(old_doc, old["items"], new_doc, new["items"], f"{where}[]", seen)
    for key in ("allOf", "anyOf", "oneOf"):
        for i, (a, b) in enumerate(zip(old.get(key, []), new.get(key, []), strict=False)):
            breaks += schema_breaks(old_doc, a, new_doc, b, f"{where}<{key}{i}>", seen)
    return breaks


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    breaks = []
    for scheme in old.get("components", {}).get("securitySchemes", {}):
        if scheme not in new.get("components", {}).get("securitySchemes", {}):
            breaks.append(f"security scheme {scheme} removed")
    for path, item in old["paths"].items():
        if path not in new["paths"]:
            breaks.append(f"path {path} removed")
            continue
        for method, op in item.items():
            where = f"{method.upper()} {path}"
            new_op = new["paths"][path].get(method)
            if new_op is None:
                breaks.append(f"{where} removed")
                continue
            if op.get("security") != new_op.get("security"):
                breaks.append(f"{where}: security {op.get('security')} -> {new_op.get('security')}")
            old_params = {(p["in"], p["name"]): p for p in op.get("parameters", [])}
            new_params = {(p["in"], p["name"]): p for p in new_op.get("parameters", [])}
            for key, param in old_params.items():
                if key not in new_params:
                    breaks.append(f"{where}: parameter {key[1]} ({key[0]}) removed")
                else:
                    breaks += schema_breaks(
                        old,
                        param.get("schema"),
                        new,
                        new_params[key].get("schema"),
                        f"{where} {key[1]} (request)",
                    )
            for key, param in new_params.items():
                if key not in old_params and param.get("required"):
                    breaks.append(f"{where}: new required parameter {key[1]}")
            old_body = op.get("requestBody", {}).get("content", {})
            new_body = new_op.get("requestBody", {}).get("content", {})
            for media, content in old_body.items():
                if media not in new_body:
                    breaks.append(f"{where}: request body {media} removed")
                else:
                    breaks += schema_breaks(
                        old,
                        content.get("schema"),
                        new,
                        new_body[media].get("schema"),
                        f"{where} body (request)",
                    )
            for status, response in op.get("responses", {}).items():
                new_response = new_op.get("responses", {}).get(status)
                if new_response is None:
                    breaks.append(f"{where}: response {status} removed")
                    continue
                for media, content in response.get("content", {}).items():
                    new_content = new_response.get("content", {}).get(media)
                    if new_content is None:
                        breaks.append(f"{where}: response {status} {media} removed")
                        continue
                    breaks += schema_breaks(
                        old,
                        content.get("schema"),
                        new,
                        new_content.get("schema"),
                        f"{where} {status}",
                    )
    return breaks


def test_the_committed_document_is_the_generated_one():
    committed, generated = _committed(), _generated()
    if committed == generated:
        return
    breaks = breaking_changes(committed, generated)
    if breaks:
        pytest.fail(
            "BREAKING changes to the API contract (docs/openapi.json):\n  - "
            + "\n  - ".join(breaks)
            + "\nRestore what was removed or changed; a breaking change needs a new API version."
        )
    pytest.fail(f"The API gained additions that docs/openapi.json lacks: {REGENERATE}.")


def test_the_served_document_is_the_committed_one(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json() == _committed()


def _with(document, change):
    copy = json.loads(json.dumps(document))
    change(copy)
    return copy


def test_removals_and_type_changes_are_breaking():
    doc = _committed()
    login = ("paths", "/api/v1/auth/login", "post")

    def op(d):
        return d[login[0]][login[1]][login[2]]

    def drop_path(d):
        d["paths"].pop("/api/v1/me")

    def drop_status(d):
        op(d)["responses"].pop("423")

    def drop_property(d):
        d["components"]["schemas"]["StatementOut"]["properties"].pop("paid_on")

    def retype(d):
        d["components"]["schemas"]["StatementOut"]["properties"]["rate"]["type"] = "string"

    def drop_enum(d):
        d["components"]["schemas"]["SignupIn"]["properties"]["channel"]["enum"].remove("post")

    def drop_code(d):
        schema = op(d)["responses"]["401"]["content"]["application/problem+json"]["schema"]
        schema["allOf"][1]["properties"]["code"]["enum"].remove("superseded_code")

    for change, expected in [
        (drop_path, "path /api/v1/me removed"),
        (drop_status, "response 423 removed"),
        (drop_property, "property 'paid_on' removed"),
        (retype, "type ['integer'] became ['string']"),
        (drop_enum, "enum values removed ['post']"),
        (drop_code, "enum values removed ['superseded_code']"),
    ]:
        breaks = breaking_changes(doc, _with(doc, change))
        assert any(expected in b for b in breaks), (expected, breaks)


def test_additions_are_not_breaking():
    doc = _committed()

    def add(d):
        d["components"]["schemas"]["StatementOut"]["properties"]["new_field"] = {"type": "string"}
        d["paths"]["/api/v1/new"] = {"get": {"operationId": "new", "responses": {}}}

    assert breaking_changes(doc, _with(doc, add)) == []
    assert breaking_changes(doc, doc) == []
