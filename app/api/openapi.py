"""Describe dotted query parameters in the OpenAPI document, from the pydantic models.

GET routes read the scenario from the raw query string (names like `workload.horizon_months`
are not Python identifiers), so FastAPI cannot list them itself; this lists them for /docs
and for clients generated from the schema.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


def _schema_for(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any] | None:
    if "$ref" in prop:
        return None
    if "anyOf" in prop:
        options = [o for o in prop["anyOf"] if o.get("type") != "null"]
        if len(options) == 1 and "$ref" in options[0]:
            return None
        if len(options) == 1:
            merged = {k: v for k, v in options[0].items()}
            return merged
        return {"anyOf": options}
    return {k: v for k, v in prop.items() if k not in ("title", "description", "default")}


def dotted_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema()
    defs: dict[str, Any] = schema.get("$defs", {})
    params: list[dict[str, Any]] = []

    def walk(node: dict[str, Any], prefix: str) -> None:
        for name, prop in node.get("properties", {}).items():
            ref = prop.get("$ref") or next(
                (o["$ref"] for o in prop.get("anyOf", []) if "$ref" in o), None
            )
            if ref:
                walk(defs[ref.split("/")[-1]], f"{prefix}{name}.")
                continue
            sub = _schema_for(prop, defs)
            if sub is None:
                continue
            if "default" in prop and prop["default"] is not None:
                sub["default"] = prop["default"]
            params.append(
                {
                    "name": f"{prefix}{name}",
                    "in": "query",
                    "required": False,
                    "description": prop.get("description", ""),
                    "schema": sub,
                }
            )

    walk(schema, "")
    return params
