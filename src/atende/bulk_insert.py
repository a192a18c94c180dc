"""`QuerySet.bulk_create` as one plain statement, for the hot inserts of batched ingest.

Django's `bulk_create` passes every value through its insert compiler (`prepare_value`,
`field_as_sql`, `modify_insert_params`, the placeholder assembly) several times per value,
the largest share of the e-mail ingest's CPU after the MIME parse. Here
each column is converted once per row with the field's own `pre_save` (only for fields
that override it: `auto_now`, files) and `get_db_prep_save`, and the rows go out as one
`INSERT … VALUES (…), (…) RETURNING` on SQLite (chunked by its variable limit, as Django
does) or one `INSERT … SELECT * FROM unnest(arrays) RETURNING` on PostgreSQL (Django's own
plan there). The rows written and the instances afterwards are those of `bulk_create`:
related ids taken from saved related objects, defaults, `auto_now`, JSON through the field's
encoder, timezones by the backend's adapter, primary keys set, `_state` stored (see
tests/test_bulk_insert.py, which compares both on every model switched to this). Anything
this does not handle (an expression or database default as a value, a primary key already
set, inheritance, `order_with_respect_to`, generic relations, a field type the backend
cannot unnest) goes through Django's `bulk_create`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connections, models, router, transaction
from django.db.models import AutoField, Field, Model

_BASE_PRE_SAVE = Field.pre_save


class _Fallback(Exception):
    """A value this helper does not write: Django's `bulk_create` instead."""


def bulk_insert(objs: Sequence[Model], *, ignore_conflicts: bool = False) -> None:
    """Insert the new instances `objs` (all of one model, none saved) as `bulk_create`
    would (with `ignore_conflicts`, rows clashing with a unique constraint are skipped and
    no primary key is set, as there)."""
    if not objs:
        return
    model = type(objs[0])
    meta = model._meta
    pk = meta.pk
    if (meta.parents or meta.order_with_respect_to or meta.private_fields
            or not isinstance(pk, AutoField) or any(type(o) is not model for o in objs)
            or any(o.pk is not None for o in objs)):
        model._default_manager.bulk_create(objs, ignore_conflicts=ignore_conflicts)
        return
    alias = router.db_for_write(model)
    connection = connections[alias]
    fields = [f for f in meta.concrete_fields if not f.generated and f is not pk]
    postgres = connection.vendor == "postgresql"
    try:
        if any(hasattr(f, "get_placeholder_sql") for f in fields) or (postgres and any(
                (f.target_field if f.is_relation else f).get_internal_type()  # type: ignore[attr-defined]
                not in connection.data_types for f in fields)):
            raise _Fallback
        _link_related(objs, meta.concrete_fields)
        columns = [_column(f, objs, connection) for f in fields]
    except _Fallback:
        model._default_manager.bulk_create(objs, ignore_conflicts=ignore_conflicts)
        return
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    names = ", ".join(quote(str(f.column)) for f in fields)
    returning_fields = [] if ignore_conflicts else list(meta.db_returning_fields)
    returning = (" RETURNING " + ", ".join(
        f"{table}.{quote(str(f.column))}" for f in returning_fields)) if returning_fields else ""
    if ignore_conflicts:
        head = "INSERT OR IGNORE INTO" if connection.vendor == "sqlite" else "INSERT INTO"
        tail = " ON CONFLICT DO NOTHING" if postgres else ""
    else:
        head, tail = "INSERT INTO", ""
    statements: list[tuple[str, list[Any]]] = []
    if postgres:
        # Without the type's parameters (varchar, not varchar(50)), as Django does.
        types = [f.db_type(connection).split("(")[0] for f in fields]  # type: ignore[union-attr]
        arrays = ", ".join(f"(%s)::{t}[]" for t in types)
        statements.append((f"{head} {table} ({names}) SELECT * FROM UNNEST({arrays})"  # noqa: S608
                           f"{tail}{returning}", columns))
    else:
        rows = list(zip(*columns, strict=True))
        per_chunk = max(connection.ops.bulk_batch_size(fields, objs), 1)
        row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
        for start in range(0, len(rows), per_chunk):
            chunk = rows[start:start + per_chunk]
            values = ", ".join([row_sql] * len(chunk))
            statements.append((f"{head} {table} ({names}) VALUES {values}{tail}"
                               f"{returning}", [v for row in chunk for v in row]))
    returned: list[Any] = []
    with (transaction.atomic(using=alias, savepoint=False) if len(statements) > 1
          else nullcontext()), connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
            if returning_fields:
                returned.extend(cursor.fetchall())
    if returning_fields:
        assert len(returned) == len(objs)
        converters = [_converter(f, connection) for f in returning_fields]
        for obj, row in zip(objs, returned, strict=True):
            for field, value, convert in zip(returning_fields, row, converters, strict=True):
                setattr(obj, field.attname, convert(value) if convert else value)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = alias


def _link_related(objs: Sequence[Model], fields: Sequence[Field[Any, Any]]) -> None:
    """`Model._prepare_related_fields_for_save`: a foreign key whose related object was
    saved after it was assigned takes its id; an unsaved one refuses the insert."""
    for field in fields:
        if not field.is_relation:
            continue
        name, attname = field.name, field.attname
        cache_name = field.cache_name  # type: ignore[attr-defined]
        target = field.target_field.attname  # type: ignore[attr-defined]
        empty = field.empty_values
        # Through the descriptor only where it does more than set the id (the reverse
        # cache of a one-to-one): the related object is in the cache already.
        descriptor = not field.remote_field.multiple  # type: ignore[union-attr]
        for obj in objs:
            related = obj._state.fields_cache.get(cache_name)
            if not related:
                continue
            if related.pk is None:
                # Django's own error: bulk_create raises it too.
                obj._prepare_related_fields_for_save(  # type: ignore[attr-defined]
                    operation_name="bulk_create")
            value = getattr(related, target)
            current = getattr(obj, attname)
            if current in empty:
                if descriptor:
                    setattr(obj, name, related)
                else:
                    obj.__dict__[attname] = value
            elif value != current:
                field.delete_cached_value(obj)  # type: ignore[attr-defined]


def _column(field: Field[Any, Any], objs: Sequence[Model], connection: Any) -> list[Any]:
    """The column's database values, as the insert compiler makes them."""
    attname = field.attname
    if type(field).pre_save is _BASE_PRE_SAVE or (
            type(field) in (models.DateTimeField, models.DateField)
            and not field.auto_now and not field.auto_now_add):  # type: ignore[attr-defined]
        values = [getattr(obj, attname) for obj in objs]
    else:
        values = [field.pre_save(obj, True) for obj in objs]
    prep = field.get_db_prep_save
    plain = _plain_types(field, connection)
    fast = _sqlite_converter(field, connection)
    out = []
    for value in values:
        if type(value) in plain:  # what get_db_prep_save would give back unchanged
            out.append(value)
            continue
        if fast is not None:
            converted = fast(value)
            if converted is not None:
                out.append(converted)
                continue
        if hasattr(value, "resolve_expression"):
            raise _Fallback
        out.append(prep(value, connection))
    return out


def _sqlite_converter(field: Field[Any, Any], connection: Any) -> Callable[[Any], Any] | None:
    """What get_db_prep_save makes on SQLite of an aware datetime (the text of its naive
    time in the connection's zone) or of a dict or list in a JSON field (its
    `json.dumps` with the field's encoder), without the way through the field's layers;
    None (go the long way) for any other value."""
    if connection.vendor != "sqlite":
        return None
    kind = type(field)
    if kind is models.DateTimeField and settings.USE_TZ:
        zone = connection.timezone

        def as_text(value: Any) -> str | None:
            if type(value) is datetime:
                if value.tzinfo is zone:  # timezone.now()'s, most of them
                    return str(value.replace(tzinfo=None))
                if value.utcoffset() is not None:
                    return str(value.astimezone(zone).replace(tzinfo=None))
            return None

        return as_text
    if kind is models.JSONField:
        encoder = field.encoder  # type: ignore[attr-defined]

        def as_json(value: Any) -> str | None:
            if type(value) is dict or type(value) is list:
                return json.dumps(value, cls=encoder)
            return None

        return as_json
    return None


# Django's own field classes whose get_db_prep_save returns a str (resp. an int, a bool on
# SQLite, whose adapters pass them through; PostgreSQL's wraps ints in sized types) or None
# as it is: `to_python` of a value of that very type is the value.
_TEXT_FIELDS = frozenset({models.CharField, models.TextField, models.SlugField,
                          models.EmailField, models.URLField})
_INT_FIELDS = frozenset({models.IntegerField, models.BigIntegerField, models.SmallIntegerField,
                         models.PositiveIntegerField, models.PositiveBigIntegerField,
                         models.PositiveSmallIntegerField, models.AutoField,
                         models.BigAutoField})
_NONE: frozenset[type] = frozenset({type(None)})


def _plain_types(field: Field[Any, Any], connection: Any) -> frozenset[type]:
    kind = type(field)
    if kind in (models.ForeignKey, models.OneToOneField):
        kind = type(field.target_field)  # type: ignore[attr-defined]
    if kind in _TEXT_FIELDS:
        return _NONE | {str}
    if kind in (models.DateTimeField, models.DateField, models.JSONField):
        return _NONE  # NULL: no adapter turns None into anything else
    if connection.vendor != "sqlite":
        return frozenset()
    if kind in _INT_FIELDS:
        return _NONE | {int}
    if kind is models.BooleanField:
        return _NONE | {bool}
    return frozenset()


def _converter(field: Field[Any, Any], connection: Any) -> Callable[[Any], Any] | None:
    converters = [*connection.ops.get_db_converters(field.get_col(field.model._meta.db_table)),
                  *field.get_db_converters(connection)]
    if not converters:
        return None
    expression = field.get_col(field.model._meta.db_table)

    def convert(value: Any) -> Any:
        for converter in converters:
            value = converter(value, expression, connection)
        return value

    return convert
