"""openapi.yaml, the single source of truth, and the JSON Schemas taken from it.

Response validation uses the schemas under ``components/schemas`` as they are
in the spec (Draft 2020-12, references resolved with ``referencing``), so
there is no second, hand-kept copy of any schema. Each schema names the
requirements it carries in ``x-requirements``; :func:`requirements_of` maps a
validation error back to those IDs.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml
from jsonschema import Draft202012Validator, ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_URI = "urn:ipadlogin-conformance:openapi"


LOGIN_PATH = "/iPadLogin"
"""The one operation of openapi.yaml, relative to the base URL."""


def spec_path() -> Path:
    """Where openapi.yaml is: package data (a link to the top-level file in a clone)."""
    return Path(str(resources.files(__package__).joinpath("openapi.yaml")))


@cache
def spec_bytes() -> bytes:
    return spec_path().read_bytes()


@cache
def load_openapi() -> dict[str, Any]:
    return yaml.safe_load(spec_bytes())


def spec_version() -> str:
    return str(load_openapi()["info"]["version"])


def spec_sha256() -> str:
    return hashlib.sha256(spec_bytes()).hexdigest()


def seed_example_wcid() -> str:
    """The wcId of the page's request example: the account the reference server knows."""
    examples = load_openapi()["paths"]["/iPadLogin"]["post"]["requestBody"]["content"]["application/json"]["examples"]
    return examples["reLogin"]["value"]["wcId"]


@cache
def _registry() -> Registry:
    resource = Resource.from_contents(load_openapi(), default_specification=DRAFT202012)
    return Registry().with_resource(SPEC_URI, resource)


@cache
def validator(component: str) -> Draft202012Validator:
    """A validator for ``components/schemas/<component>``, built once."""
    if component not in load_openapi()["components"]["schemas"]:
        raise KeyError(f"openapi.yaml has no schema {component!r}")
    return Draft202012Validator({"$ref": f"{SPEC_URI}#/components/schemas/{component}"}, registry=_registry())


@cache
def fast_validator(component: str) -> jsonschema_rs.Draft202012Validator:
    """The same schema compiled by jsonschema-rs: a first pass 100 times faster.

    Almost every answer is valid; only an invalid one needs :func:`validator`'s
    errors, with their paths and schemas, to name the broken requirements.
    Formats are annotations here as in :func:`validator` (Draft 2020-12's default).
    """
    validator(component)  # the same check that the component exists
    registry = jsonschema_rs.Registry([(SPEC_URI, load_openapi())])
    return jsonschema_rs.Draft202012Validator(
        {"$ref": f"{SPEC_URI}#/components/schemas/{component}"}, registry=registry, validate_formats=False
    )


def requirements_of(error: ValidationError) -> tuple[str, ...]:
    """The requirement IDs a schema violation breaks, read from the spec.

    A missing property breaks the object's ``x-presence`` requirements when it
    names some (the envelope: ENV-2), else the missing property's own (the
    success payload: DATA-1, DATA-2). Any other violation breaks the
    ``x-requirements`` of the nearest schema that names some.
    """
    if error.validator == "required":
        if error.schema.get("x-presence"):
            return tuple(error.schema["x-presence"])
        properties = error.schema.get("properties", {})
        missing = [name for name in error.validator_value if name not in error.instance]
        return tuple(
            dict.fromkeys(
                rid for name in missing for rid in _resolve(properties.get(name, {})).get("x-requirements", ())
            )
        )
    for schema in _schemas_on_path(error):
        if schema.get("x-requirements"):
            return tuple(schema["x-requirements"])
    return ()


def is_should_clause(error: ValidationError) -> bool:
    """Whether the violated schema carries only a SHOULD clause (``x-clause: should``)."""
    return any(schema.get("x-clause") == "should" for schema in _schemas_on_path(error))


@cache
def requirements_in(component: str) -> tuple[str, ...]:
    """Every requirement ID a component schema (with what it references) carries."""
    found: dict[str, None] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            node = _resolve(node)
            for key in ("x-requirements", "x-presence"):
                found.update(dict.fromkeys(node.get(key, ())))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(load_openapi()["components"]["schemas"][component])
    return tuple(found)


def _schemas_on_path(error: ValidationError):
    """The failing schema, then its ancestors' schemas, innermost first."""
    while error is not None:
        yield error.schema
        error = error.parent


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if not ref:
        return schema
    return _registry().resolver().lookup(f"{SPEC_URI}{ref}").contents
