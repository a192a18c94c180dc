"""The indexed tables, and the SQL that builds each index on either profile.

An index covers one or two text columns of a table (the first weighs more in the ranking).
On PostgreSQL it is a GIN index on the organisation and the columns' `tsvector`; on SQLite
an FTS5 table of the columns' stems (rowid = the row's id), kept by triggers, so that rows
written in bulk (the ingest pipeline's batches) are indexed in the same transaction too.
"""

from __future__ import annotations

from dataclasses import dataclass

# PostgreSQL's ts_rank weighs A 1.0 and B 0.4; bm25 gets the same ratio on SQLite.
BM25_WEIGHTS = ("1.0", "0.4")


@dataclass(frozen=True)
class FtsIndex:
    name: str
    table: str
    columns: tuple[str, ...]

    @property
    def fts_table(self) -> str:
        return f"fulltext_{self.name}"

    def pg_vector(self, qualify: bool = True) -> str:
        """The tsvector expression; the query must spell it as the index does."""
        parts = []
        for column, weight in zip(self.columns, "AB", strict=False):
            ref = f'"{self.table}"."{column}"' if qualify else f'"{column}"'
            parts.append(f"setweight(atende_fts({ref}), '{weight}')")
        return "(" + " || ".join(parts) + ")"

    def bm25(self) -> str:
        weights = ", ".join(BM25_WEIGHTS[: len(self.columns)])
        return f"bm25({self.fts_table}, {weights})"


MESSAGE = FtsIndex("message", "tickets_message", ("text",))
TICKET = FtsIndex("ticket", "tickets_ticket", ("subject", "description"))
CONTACT = FtsIndex("contact", "contacts_contact", ("name",))


def create_sql(index: FtsIndex, vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [f"CREATE INDEX IF NOT EXISTS {index.fts_table}_gin ON {index.table} "
                f"USING gin (organization_id, {index.pg_vector(qualify=False)})"]
    if vendor != "sqlite":
        return []
    t, cols = index.fts_table, index.columns
    names = ", ".join(cols)
    new = ", ".join(f"atende_stems(new.{c})" for c in cols)
    old = ", ".join(f"atende_stems(old.{c})" for c in cols)
    changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in cols)
    delete = f"INSERT INTO {t}({t}, rowid, {names}) VALUES ('delete', old.id, {old});"  # noqa: S608
    insert = f"INSERT INTO {t}(rowid, {names}) VALUES (new.id, {new});"  # noqa: S608
    # Names from the FtsIndex definitions above, never from input.
    return [
        f"CREATE VIRTUAL TABLE {t} USING fts5({names}, content='', "
        "tokenize='unicode61 remove_diacritics 2')",
        f"INSERT INTO {t}(rowid, {names}) SELECT id, "  # noqa: S608
        + ", ".join(f"atende_stems({c})" for c in cols) + f" FROM {index.table}",
        f"CREATE TRIGGER {t}_insert AFTER INSERT ON {index.table} BEGIN {insert} END",
        f"CREATE TRIGGER {t}_delete AFTER DELETE ON {index.table} BEGIN {delete} END",
        # Django's save() writes every column: re-index only when the text changed.
        f"CREATE TRIGGER {t}_update AFTER UPDATE OF {names} ON {index.table} "
        f"WHEN {changed} BEGIN {delete} {insert} END",
    ]


def drop_sql(index: FtsIndex, vendor: str) -> list[str]:
    t = index.fts_table
    if vendor == "postgresql":
        return [f"DROP INDEX IF EXISTS {t}_gin"]
    if vendor != "sqlite":
        return []
    return [f"DROP TRIGGER IF EXISTS {t}_{when}" for when in ("insert", "delete", "update")] \
        + [f"DROP TABLE IF EXISTS {t}"]


# `atende_fold` is text.fold in SQL: lower case, unaccent, the unaccented endings restored.
# `unaccent` is only STABLE (its dictionary could change); the wrapper names the dictionary
# and is declared IMMUTABLE so that indexes may use it.
POSTGRES_FUNCTIONS = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "CREATE EXTENSION IF NOT EXISTS btree_gin",
    """CREATE OR REPLACE FUNCTION atende_fold(text) RETURNS text
       LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
       SELECT regexp_replace(regexp_replace(regexp_replace(
           public.unaccent('public.unaccent'::regdictionary, lower($1)),
           'c(ao|oes)\\M', 'ção', 'g'), 'oes\\M', 'ão', 'g'), '(\\w\\w)ao\\M', '\\1ão', 'g')
       $$""",
    """CREATE OR REPLACE FUNCTION atende_fts(text) RETURNS tsvector
       LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
       SELECT to_tsvector('pg_catalog.portuguese'::regconfig,
                          atende_fold(left(coalesce($1, ''), 20000)))
       $$""",
]
POSTGRES_DROP_FUNCTIONS = ["DROP FUNCTION IF EXISTS atende_fts(text)",
                           "DROP FUNCTION IF EXISTS atende_fold(text)"]
