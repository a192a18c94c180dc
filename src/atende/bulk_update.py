"""`QuerySet.bulk_update` as one plain statement.

Django's `bulk_update` builds a `CASE WHEN pk = … THEN …` expression per row and field
through the ORM's expression machinery, in Python for every row and field: that was
the largest share of a WhatsApp drain's CPU. Here the rows' values are sent as they are:
on PostgreSQL one `UPDATE … FROM unnest(arrays)`, on SQLite one `executemany`. Same
effect as Django's (the attributes' current values, no `pre_save`, no signals); fields
this does not handle (JSON) go through Django's.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connections, router
from django.db.models import Field, Model


def bulk_update(objs: Sequence[Model], fields: Sequence[str]) -> int:
    """Write `fields` of the stored objects `objs` (all of one model); returns the rows
    updated."""
    if not objs or not fields:
        return 0
    model = type(objs[0])
    meta = model._meta
    found = [meta.get_field(name) for name in fields]
    concrete = [f for f in found if isinstance(f, Field) and f.concrete and not f.primary_key
                and f.get_internal_type() != "JSONField"]
    if len(concrete) != len(found):
        return model._default_manager.bulk_update(objs, fields)
    connection = connections[router.db_for_write(model)]
    pk = meta.pk
    assert pk is not None
    quote = connection.ops.quote_name
    columns = [quote(str(f.column)) for f in concrete]
    pks = [pk.get_db_prep_save(obj.pk, connection) for obj in objs]
    values = [[f.get_db_prep_save(getattr(obj, f.attname), connection) for obj in objs]
              for f in concrete]
    table = quote(meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The column types are the model's, not user input; the values are parameters.
            types = [pk.cast_db_type(connection), *(f.cast_db_type(connection)
                                                    for f in concrete)]
            arrays = ", ".join(f"%s::{t}[]" for t in types)
            names = ", ".join(f"v{i}" for i in range(len(types)))
            sets = ", ".join(f"{c} = v.v{i + 1}" for i, c in enumerate(columns))
            cursor.execute(
                f"UPDATE {table} SET {sets} FROM unnest({arrays}) AS v({names}) "  # noqa: S608
                f"WHERE {table}.{quote(str(pk.column))} = v.v0", [pks, *values])
            return int(cursor.rowcount)
        sets = ", ".join(f"{c} = %s" for c in columns)
        rows = [[*row, key] for *row, key in zip(*values, pks, strict=True)]
        cursor.executemany(
            f"UPDATE {table} SET {sets} WHERE {quote(str(pk.column))} = %s", rows)  # noqa: S608
        return int(cursor.rowcount)
