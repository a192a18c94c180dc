"""Writing attributes of many stored rows in one statement."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.db.models import Field, Model

CHUNK = 500  # rows per statement: (2 x fields + 1) parameters each


def update_rows(rows: Sequence[Model], fields: Sequence[str]) -> None:
    """Write these fields of stored rows of one model, as `bulk_update` does (no signals,
    no `auto_now`), in one UPDATE per 500 rows: `UPDATE t SET f = CASE id WHEN .. THEN ..
    END, .. WHERE id IN (..)`. Built as text with every value a parameter, because
    `bulk_update`'s Case/When expression per row and field costs ~0.5 ms of CPU per row."""
    if not rows:
        return
    meta, quote = type(rows[0])._meta, connection.ops.quote_name
    pk = quote(str(meta.pk.column))
    columns: list[tuple[Field, str]] = []
    for name in fields:
        field = meta.get_field(name)
        assert isinstance(field, Field) and field.column
        columns.append((field, quote(field.column)))
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        assignments, params = [], []
        for field, column in columns:
            whens = []
            for row in chunk:
                whens.append("WHEN %s THEN %s")
                params += [row.pk, field.get_db_prep_save(getattr(row, field.attname),
                                                          connection)]
            value = f"CASE {pk} {' '.join(whens)} END"
            if connection.vendor == "postgresql":  # a CASE of NULLs alone would be text
                value = f"CAST({value} AS {field.db_type(connection)})"
            assignments.append(f"{column} = {value}")
        params += [row.pk for row in chunk]
        # Names are the model's, quoted; every value is a parameter.
        sql = (f"UPDATE {quote(meta.db_table)} SET {', '.join(assignments)} "  # noqa: S608
               f"WHERE {pk} IN ({', '.join(['%s'] * len(chunk))})")
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
