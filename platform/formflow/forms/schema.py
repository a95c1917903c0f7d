"""Compiled JSON Schema validators and `$ref` resolution for pack documents.

Forms reference shared definitions relatively, as the files lie on disk
(`../../common/types.json#/$defs/money`): every form gets the base URI of its
file under `BASE_URI`, and every common file is registered under its own, so
the same reference works in an editor and here, offline.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

from formflow.forms.formats import FORMAT_CHECKER
from formflow.text.catalogue import _

BASE_URI = "https://formflow.local/schemas/"


def form_uri(pack: str, matter: str) -> str:
    return f"{BASE_URI}{pack}/{matter}/form.schema.json"


def common_uri(filename: str) -> str:
    return f"{BASE_URI}common/{filename}"


def meta_uri(kind: str) -> str:
    return f"{BASE_URI}meta/{kind}.schema.json"


def registry_of(documents: Mapping[str, Any]) -> Registry:
    """A registry holding `documents` by URI (draft 2020-12 unless they say otherwise)."""
    resources = [
        (uri, Resource.from_contents(doc, default_specification=DRAFT202012))
        for uri, doc in documents.items()
    ]
    return Registry().with_resources(resources)


def validator_for(schema: Any, registry: Registry, *, formats: bool = True) -> Draft202012Validator:
    """A validator of `schema` resolving `$ref`s through `registry`."""
    checker = FORMAT_CHECKER if formats else None
    return Draft202012Validator(schema, registry=registry, format_checker=checker)


def iter_errors(validator: Draft202012Validator, instance: Any) -> list[ValidationError]:
    """All errors, or one error naming the unresolvable `$ref` instead of a crash."""
    try:
        return list(validator.iter_errors(instance))
    except Unresolvable as exc:
        return [ValidationError(_("Unresolvable $ref: %(error)s", error=exc), validator="$ref", path=())]


_COMPILED: dict[str, Draft202012Validator] = {}


def cached_validator(key: str, schema: Any, documents: Mapping[str, Any]) -> Draft202012Validator:
    """A validator compiled once per content hash `key` (pinned versions never change)."""
    found = _COMPILED.get(key)
    if found is None:
        found = _COMPILED[key] = validator_for(schema, registry_of(documents))
    return found
