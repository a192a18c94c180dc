"""The database a benchmark runs on: SQLite in its data directory, or a PostgreSQL database
made for the run and dropped after it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")


@contextmanager
def throwaway_database(postgres: bool, prefix: str) -> Iterator[None]:
    """Point DATABASE_URL at a new PostgreSQL database named `<prefix>_<random>` (dropped on
    the way out, connections and all), or unset it for SQLite."""
    if not postgres:
        os.environ.pop("DATABASE_URL", None)
        yield
        return
    import psycopg

    db_name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db_name}"')
    os.environ["DATABASE_URL"] = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + db_name
    try:
        yield
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
