"""The providers' own SDK types, read in tests: a wire body checked against the SDK's published
parameter types, a reply against its response types, and the status values those types allow.

A fake written from the same notes as the client would pass a wrong note; checking both sides
against the provider's SDK (a test dependency, pinned in pyproject's ``dev`` extra) does not.
The SDKs are imported by the modules that use these helpers without any guard: a missing SDK
fails the tests loudly, it never skips them.

Stainless-generated SDKs (Runway, Luma, Replicate, OpenAI) describe a request body as a
``TypedDict`` whose Python names may differ from the wire names (``prompt_text`` is sent as
``promptText``); the wire name sits in the field's ``Annotated`` metadata as ``alias``.
:func:`body_issues` reads those names, refuses keys the type does not have (a plain
``TypeAdapter`` over a ``TypedDict`` would silently ignore them) and validates the values with
pydantic in strict mode, so ``"5"`` is not taken for ``5``.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, NotRequired, Required, Union, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError
from typing_extensions import is_typeddict

__all__ = [
    "body_issues",
    "literal_values",
    "member_for",
    "model_literal",
    "reply_issues",
    "wire_fields",
]


def _members(schema: Any) -> tuple[Any, ...]:
    """The alternatives of a union type alias (``Annotated`` unwrapped), or the type alone."""
    if get_origin(schema) is typing.Annotated:
        schema = get_args(schema)[0]
    if get_origin(schema) in (Union, types.UnionType):
        return tuple(m for s in get_args(schema) for m in _members(s))
    return (schema,)


def _unwrap(annotation: Any) -> tuple[Any, str | None]:
    """A field's type without ``Required``/``NotRequired``/``Annotated``, and its wire alias."""
    alias: str | None = None
    while True:
        origin = get_origin(annotation)
        if origin in (Required, NotRequired):
            annotation = get_args(annotation)[0]
        elif origin is typing.Annotated:
            for meta in annotation.__metadata__:
                name = getattr(meta, "alias", None)
                if isinstance(name, str):
                    alias = name
            annotation = get_args(annotation)[0]
        else:
            return annotation, alias


def wire_fields(params: type) -> dict[str, tuple[str, Any, bool]]:
    """A parameter ``TypedDict``'s fields by wire name: (Python name, type, required)."""
    if not is_typeddict(params):
        raise TypeError(f"{params!r} is not a TypedDict")
    hints = typing.get_type_hints(params, include_extras=True)
    required = params.__required_keys__  # type: ignore[attr-defined]
    fields: dict[str, tuple[str, Any, bool]] = {}
    for name, annotation in hints.items():
        kind, alias = _unwrap(annotation)
        fields[alias or name] = (name, kind, name in required)
    return fields


def literal_values(annotation: Any) -> frozenset[object]:
    """Every value a ``Literal`` (inside ``Optional``/``Union``/``Annotated``) allows."""
    annotation, _ = _unwrap(annotation)
    if get_origin(annotation) is Literal:
        return frozenset(get_args(annotation))
    if get_origin(annotation) in (Union, types.UnionType):
        return frozenset(v for a in get_args(annotation) for v in literal_values(a))
    return frozenset()


def member_for(schema: Any, key: str, value: object) -> type | None:
    """The alternative of a union of ``TypedDict`` s whose ``key`` is the literal ``value``
    (Runway's ``model``), or None when no alternative takes it."""
    for member in _members(schema):
        fields = wire_fields(member)
        if key in fields and value in literal_values(fields[key][1]):
            return member
    return None


def body_issues(
    schema: Any, body: Mapping[str, Any], *, discriminator: str | None = None
) -> list[str]:
    """What is wrong with wire ``body`` for the SDK's parameter type ``schema`` (a
    ``TypedDict``, or a union of them chosen by ``discriminator``); empty when it is valid.

    Unknown keys, missing required keys and values of the wrong type or outside a
    ``Literal`` are each one issue, named by the wire key.
    """
    members = _members(schema)
    params: type | None
    if len(members) == 1:
        params = members[0]
    else:
        if discriminator is None:
            raise TypeError("a union of parameter types needs its discriminator")
        params = member_for(schema, discriminator, body.get(discriminator))
        if params is None:
            return [f"{discriminator}: {body.get(discriminator)!r} is not in the SDK's schema"]
    fields = wire_fields(params)
    issues = [f"{key}: not a parameter of {params.__name__}" for key in body if key not in fields]
    issues += [
        f"{key}: required by {params.__name__}"
        for key, (_, _, required) in fields.items()
        if required and key not in body
    ]
    by_name = {fields[k][0]: v for k, v in body.items() if k in fields}
    try:
        TypeAdapter(params).validate_python(by_name, strict=True)
    except ValidationError as exc:
        wire = {name: key for key, (name, _, _) in fields.items()}
        for error in exc.errors():
            where = ".".join(str(wire.get(str(p), p)) for p in error["loc"][:2])
            issues.append(f"{where}: {error['msg']}")
    return issues


def reply_issues(
    schema: Any, data: Mapping[str, Any], *, discriminator: str | None = None
) -> list[str]:
    """What is wrong with a reply ``data`` for the SDK's response type ``schema`` (a model, or
    a union of models chosen by the literal in ``discriminator``); empty when it is valid."""
    members = _members(schema)
    if discriminator is not None and len(members) > 1:
        chosen = [m for m in members if data.get(discriminator) in model_literal(m, discriminator)]
        if not chosen:
            return [f"{discriminator}: {data.get(discriminator)!r} is not in the SDK's schema"]
        schema = chosen[0]
    try:
        TypeAdapter(schema).validate_python(data)
    except ValidationError as exc:
        return [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
    return []


def model_literal(schema: Any, field: str) -> frozenset[object]:
    """Every value the response type ``schema`` (a model or a union of models) allows in
    ``field`` (its statuses, for instance)."""
    values: set[object] = set()
    for member in _members(schema):
        if isinstance(member, type) and issubclass(member, BaseModel):
            info = member.model_fields.get(field)
            if info is not None:
                values |= literal_values(info.annotation)
    return frozenset(values)
