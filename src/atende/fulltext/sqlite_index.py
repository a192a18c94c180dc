"""SQLite: every connection gets `atende_stems(text)`, which the FTS5 triggers call.

A write to an indexed table from outside Atende (the `sqlite3` shell) fails with "no such
function: atende_stems": the index cannot go stale behind the application's back.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.signals import connection_created

from atende.fulltext.text import stems


def register(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function("atende_stems", 1, stems, deterministic=True)


def install() -> None:
    connection_created.connect(register, dispatch_uid="atende.fulltext.sqlite")
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        if conn.connection is not None:
            register(None, conn)
