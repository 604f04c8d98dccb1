"""Naming a thing by ``id`` or by ``ref`` (seed 000: "id and ref work for
identification in queries and mutations"): exactly one of the two, and a ref
checked as REST checks its id-or-ref path parameter (intake.fields.Ref: at most
200 characters, no control character, no lone surrogate)."""

from __future__ import annotations

import uuid

from pydantic import TypeAdapter, ValidationError

from rollcall.domain.bounds import echo
from rollcall.domain.errors import Invalid
from rollcall.intake.fields import Ref

_REF: TypeAdapter[str] = TypeAdapter(Ref)


def checked_ref(value: str, *, name: str) -> str:
    """``value`` if REST would take it as an id or ref; raises VALIDATION_ERROR."""
    try:
        return _REF.validate_python(value)
    except ValidationError as exc:
        problem = exc.errors()[0]
        raise Invalid(
            f"{name}: {problem.get('msg', 'invalid')}",
            errors=[{"loc": [name], "msg": str(problem.get("msg", "")), "type": problem["type"]}],
            value=echo(value),
        ) from None


def id_or_ref(id: uuid.UUID | None, ref: str | None, *, id_name: str = "id") -> str:
    """What the domain's ``get_*(id_or_ref=...)`` takes. Raises VALIDATION_ERROR
    unless exactly one is given, or if the ref is not one REST would take."""
    ref_name = id_name[:-2] + "Ref" if id_name.endswith("Id") else "ref"
    if (id is None) == (ref is None):
        raise Invalid(f"give {id_name} or {ref_name}, exactly one", fields=[id_name, ref_name])
    return str(id) if id is not None else checked_ref(str(ref), name=ref_name)
