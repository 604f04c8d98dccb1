"""Completing a resolved page from plain values, without a resolver per field.

graphql-core completes an object field by field: for each one it builds a
resolve info, calls the (default) resolver, checks for an awaitable and
recurses, which costs far more than the read behind it when a field returns
many small objects (a calendar page is 50 nodes of ~20 fields, their times and
CTAs: four fifths of its request time). A resolver whose result is plain data
may return it as ``Projected``: the executor below then completes it by
walking the query's own selection (fields collected by graphql-core itself, so
aliases, fragments, ``@skip``/``@include`` and ``__typename`` are honoured) over
dicts keyed by the GraphQL field names, each leaf serialised by its scalar as
graphql-core would. Anything the walk does not handle (a ``@defer``, a missing
key, a null in a non-null field) falls back to the normal completion of the
typed value ``typed()`` returns, so the answer (errors included) is the one
the schema's types give.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLString,
    is_leaf_type,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class Projected:
    """A resolver's result given as plain data (``value``: dicts keyed by the
    GraphQL field names, lists, and leaf values its scalars serialise), with
    the typed value that says the same (``typed``) for the normal completion."""

    __slots__ = ("typed", "value")

    def __init__(self, value: Mapping[str, Any], typed: Callable[[], Any]) -> None:
        self.value = value
        self.typed = typed


class _Fallback(Exception):
    """The walk met something it leaves to graphql-core's own completion."""


class ProjectingExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def complete_value(
        self,
        return_type: GraphQLOutputType,
        field_details_list: Any,
        info: GraphQLResolveInfo[Any],
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        if isinstance(result, Projected):
            try:
                return self._project(return_type, field_details_list, result.value)
            except _Fallback:
                result = result.typed()
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _project(self, kind: GraphQLOutputType, details: Any, value: Any) -> Any:
        if isinstance(kind, GraphQLNonNull):
            if value is None:
                raise _Fallback()
            kind = kind.of_type
        if value is None:
            return None
        if isinstance(kind, GraphQLList):
            inner = kind.of_type
            return [self._project(inner, details, item) for item in value]
        if is_leaf_type(kind):
            return kind.serialize(value)  # type: ignore[union-attr]
        if not isinstance(kind, GraphQLObjectType) or not isinstance(value, Mapping):
            raise _Fallback()  # interfaces and unions: graphql-core resolves the type
        out: dict[str, Any] = {}
        for key, name, field_kind, field_details, serialize, plain in self._plan(kind, details):
            if name is None:
                out[key] = kind.name  # __typename
                continue
            try:
                item = value[name]
            except KeyError:
                raise _Fallback() from None
            if plain is not None and type(item) is plain:
                out[key] = item  # a str as a String, a bool as a Boolean: as is
            elif serialize is not None and item is not None:
                out[key] = serialize(item)  # a leaf: no recursion per field
            else:
                out[key] = self._project(field_kind, field_details, item)
        return out

    def _plan(self, kind: GraphQLObjectType, details: Any) -> list[_Step]:
        """The object's selection as steps, made once per selection (as
        graphql-core memoizes collected fields, by the selection's identity)."""
        plans: dict[tuple[Any, int], tuple[Any, list[_Step]]] = self.__dict__.setdefault(
            "_projection_plans", {}
        )
        cached = plans.get((kind, id(details)))
        if cached is not None:
            return cached[1]
        collected = self.collect_subfields(kind, details)
        if collected.new_defer_usages:
            raise _Fallback()
        steps: list[_Step] = []
        for key, field_details in collected.grouped_field_set.items():
            name = field_details[0].node.name.value
            if name == "__typename":
                steps.append((key, None, kind, field_details, None, None))
                continue
            field_kind = kind.fields[name].type
            leaf = field_kind.of_type if isinstance(field_kind, GraphQLNonNull) else field_kind
            serialize = leaf.serialize if is_leaf_type(leaf) else None  # type: ignore[union-attr]
            steps.append((key, name, field_kind, field_details, serialize, _PLAIN.get(leaf)))
        plans[(kind, id(details))] = (details, steps)
        return steps


#: (response key, field name or None for __typename, its type, its field
#: details, its scalar's serialize when a leaf, the Python type that scalar
#: answers unchanged).
_Step = tuple[str, str | None, Any, Any, Callable[[Any], Any] | None, type | None]
#: graphql-core's own String and Boolean serialise a str and a bool as themselves.
_PLAIN: dict[Any, type] = {GraphQLString: str, GraphQLBoolean: bool}
