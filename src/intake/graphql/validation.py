"""GraphQL input checked by REST's own request models (intake.schemas and
friends), so that both edges accept and refuse the same values; a refusal is
VALIDATION_ERROR naming the GraphQL field (camelCase)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from rollcall.domain.bounds import echo
from rollcall.domain.errors import Invalid

M = TypeVar("M", bound=BaseModel)

#: REST's field names that GraphQL (seed 000) calls otherwise.
GRAPHQL_NAMES = {
    "name": "title",
    "registration_end": "closingDate",
    "starts_at": "startDate",
    "ends_at": "endDate",
}


def graphql_name(part: Any, names: Mapping[str, str] = GRAPHQL_NAMES) -> str:
    if isinstance(part, int):
        return str(part)
    text = str(part)
    if text in names:
        return names[text]
    head, *rest = text.split("_")
    return head + "".join(word.capitalize() for word in rest)


def valid(model: type[M], data: dict[str, Any], names: Mapping[str, str] = GRAPHQL_NAMES) -> M:
    """``data`` (REST's snake_case names) as ``model``; raises VALIDATION_ERROR.
    ``names``: the REST names GraphQL calls otherwise (an attendee's ``name``
    stays ``name``)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems: list[dict[str, Any]] = [
            {
                "loc": [echo(graphql_name(part, names)) for part in problem.get("loc", ())],
                "msg": str(problem.get("msg", "")),
                "type": str(problem.get("type", "")),
            }
            for problem in exc.errors()
        ]
        first = problems[0]
        where = ".".join(first["loc"])
        message = f"{where}: {first['msg']}" if where else first["msg"]
        raise Invalid(message, errors=problems) from None
