"""Completing a resolved page from plain values, without a resolver per field.

graphql-core completes an object field by field: for each one it builds a
resolve info, calls the (default) resolver, checks for an awaitable and
recurses, which costs far more than the read behind it when a field returns
many small objects (a calendar page is 50 nodes of ~20 fields, their times and
CTAs: four fifths of its request time). A resolver whose result is plain data
may return it as ``Projected``: the executor below then completes it by
walking the query's own selection (fields collected by graphql-core itself, so
aliases, fragments, ``@skip``/``@include`` and ``__typename`` are honoured) over
dicts keyed by the fields' Python names (the names the strawberry types give
their attributes, which are REST's), each leaf serialised by its scalar as
graphql-core would. Anything the walk does not handle (a ``@defer``, a missing
key, a null in a non-null field) falls back to the normal completion of the
typed value ``typed()`` returns, so the answer (errors included) is the one
the schema's types give.

The walk is compiled once per selection into nested completers, and kept
across requests: strawberry's ParserCache hands every request of the same
document the same syntax nodes, so a selection is known by its type and the
identity of its field nodes (held by the cache, so no other node can take
their ids). A selection under a directive (``@skip(if: $v)``: it depends on the
request's variables) is compiled for its request only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLString,
    InlineFragmentNode,
    SelectionSetNode,
    is_leaf_type,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter


class Projected:
    """A resolver's result given as plain data (``value``: dicts keyed by the
    fields' Python names, lists, and leaf values their scalars serialise), with
    the typed value that says the same (``typed``) for the normal completion."""

    __slots__ = ("typed", "value")

    def __init__(self, value: Mapping[str, Any], typed: Callable[[], Any]) -> None:
        self.value = value
        self.typed = typed


class _Fallback(Exception):
    """The walk met something it leaves to graphql-core's own completion."""


#: Completes one non-null value of a type under a selection.
Completer = Callable[[Any], Any]
#: (type, the selection's field node ids) -> (the field details, which hold
#: those nodes, and the completer).
_Key = tuple[Any, tuple[int, ...]]
_SHARED: dict[_Key, tuple[Any, Completer]] = {}
_SHARED_MAX = 512
_SHARED_LOCK = threading.Lock()


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
        nonnull = isinstance(kind, GraphQLNonNull)
        if value is None:
            if nonnull:
                raise _Fallback()
            return None
        return self._completer(kind.of_type if nonnull else kind, details)(value)  # type: ignore[union-attr]

    def _completer(self, kind: Any, details: Any) -> Completer:
        key = (kind, tuple(id(detail.node) for detail in details))
        shared = _SHARED.get(key)
        if shared is not None:
            return shared[1]
        own: dict[_Key, Completer] = self.__dict__.setdefault("_own_completers", {})
        if key in own:
            return own[key]
        completer, shareable = self._compile(kind, details)
        if shareable:
            with _SHARED_LOCK:
                if len(_SHARED) >= _SHARED_MAX:
                    del _SHARED[next(iter(_SHARED))]  # the oldest
                _SHARED[key] = (details, completer)
        else:
            own[key] = completer
        return completer

    def _compile(self, kind: Any, details: Any) -> tuple[Completer, bool]:
        """The completer of a nullable ``kind``, and whether it holds for every
        request of this document (no directive decided its selection)."""
        if isinstance(kind, GraphQLList):
            return self._compile_list(kind.of_type, details)
        if is_leaf_type(kind):
            return kind.serialize, True
        if not isinstance(kind, GraphQLObjectType):
            return _refuse, True  # interfaces and unions: graphql-core resolves the type
        return self._compile_object(kind, details)

    def _compile_list(self, item_kind: Any, details: Any) -> tuple[Completer, bool]:
        nonnull = isinstance(item_kind, GraphQLNonNull)
        inner, shareable = self._compile(item_kind.of_type if nonnull else item_kind, details)

        def complete_list(value: Any) -> list[Any]:
            if not isinstance(value, list | tuple):
                raise _Fallback()
            out = []
            for item in value:
                if item is not None:
                    out.append(inner(item))
                elif nonnull:
                    raise _Fallback()
                else:
                    out.append(None)
            return out

        return complete_list, shareable

    def _compile_object(self, kind: GraphQLObjectType, details: Any) -> tuple[Completer, bool]:
        collected = self.collect_subfields(kind, details)
        if collected.new_defer_usages:
            raise _Fallback()
        shareable = not _directed(details, self.fragments)
        typename = kind.name
        steps: list[_Step] = []
        for key, field_details in collected.grouped_field_set.items():
            name = field_details[0].node.name.value
            if name == "__typename":
                steps.append((key, None, False, None, None, None))
                continue
            field = kind.fields[name]
            field_kind = field.type
            nonnull = isinstance(field_kind, GraphQLNonNull)
            bare = field_kind.of_type if nonnull else field_kind
            definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
            source = getattr(definition, "python_name", None) or name
            if is_leaf_type(bare):
                steps.append((key, source, nonnull, _PLAIN.get(bare), bare.serialize, None))  # type: ignore[union-attr]
                continue
            child, child_shareable = self._compile(bare, field_details)
            shareable = shareable and child_shareable
            steps.append((key, source, nonnull, None, None, child))

        def complete_object(value: Any) -> dict[str, Any]:
            if not isinstance(value, Mapping):
                raise _Fallback()
            out: dict[str, Any] = {}
            for key, source, nonnull, plain, serialize, child in steps:
                if source is None:
                    out[key] = typename
                    continue
                try:
                    item = value[source]
                except KeyError:
                    raise _Fallback() from None
                if item is None:
                    if nonnull:
                        raise _Fallback()
                    out[key] = None
                elif type(item) is plain:
                    out[key] = item  # a str as a String, a bool as a Boolean: as is
                elif serialize is not None:
                    out[key] = serialize(item)  # a leaf: no call per field beyond its scalar
                else:
                    out[key] = child(item)  # type: ignore[misc]
            return out

        return complete_object, shareable


def _refuse(_value: Any) -> Any:
    raise _Fallback()


def _directed(details: Any, fragments: Mapping[str, Any]) -> bool:
    """Whether a directive sits in the selection of these fields (this level,
    through its fragments): then which fields it has depends on the request."""

    def in_set(selection_set: SelectionSetNode | None, seen: set[str]) -> bool:
        if selection_set is None:
            return False
        for selection in selection_set.selections:
            if selection.directives:
                return True
            if isinstance(selection, InlineFragmentNode):
                if in_set(selection.selection_set, seen):
                    return True
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                # graphql-core 3.3 keeps a fragment's definition in its details
                fragment = getattr(fragments.get(name), "definition", None)
                if name not in seen and fragment is not None:
                    seen.add(name)
                    if fragment.directives or in_set(fragment.selection_set, seen):
                        return True
        return False

    nodes: list[FieldNode] = [detail.node for detail in details]
    return any(in_set(node.selection_set, set()) for node in nodes)


#: (response key, Python name or None for __typename, non-null, the Python type
#: a leaf's scalar answers unchanged, the leaf's serialize, an object's or a
#: list's completer).
_Step = tuple[str, str | None, bool, type | None, Completer | None, Completer | None]
#: graphql-core's own String and Boolean serialise a str and a bool as themselves.
_PLAIN: dict[Any, type] = {GraphQLString: str, GraphQLBoolean: bool}
