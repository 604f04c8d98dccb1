"""Naming a thing by ``id`` or by ``ref`` (seed 000: "id and ref work for
identification in queries and mutations"): exactly one of the two."""

from __future__ import annotations

import uuid

from rollcall.domain.errors import Invalid


def id_or_ref(id: uuid.UUID | None, ref: str | None, *, id_name: str = "id") -> str:
    """What the domain's ``get_*(id_or_ref=...)`` takes. Raises VALIDATION_ERROR
    unless exactly one is given."""
    ref_name = id_name[:-2] + "Ref" if id_name.endswith("Id") else "ref"
    if (id is None) == (ref is None):
        raise Invalid(f"give {id_name} or {ref_name}, exactly one", fields=[id_name, ref_name])
    return str(id) if id is not None else str(ref)
