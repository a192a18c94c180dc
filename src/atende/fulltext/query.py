"""Full-text conditions and ranks on querysets, the same call on both profiles.

`mode="all"` needs every term (a search box), `mode="any"` ranks rows by the terms they
share with a longer text (suggestions while typing, articles for a ticket).

The condition is an `id IN (SELECT ...)` of its own: it stays right when Django aliases the
table of a queryset used as a subquery. The rank names the table, so a ranked queryset is
evaluated as it is, never nested.
"""

from __future__ import annotations

from typing import Literal, cast

from django.db import connections
from django.db.models import FloatField, Model, QuerySet
from django.db.models.expressions import RawSQL

from atende.fulltext.indexes import FtsIndex
from atende.fulltext.text import Terms

Mode = Literal["all", "any"]
TSQUERY = "to_tsquery('pg_catalog.portuguese'::regconfig, %s)"
# PostgreSQL ranks at most this many matches of a query, the organisation's newest: ts_rank
# rebuilds each row's tsvector, and a common word matches a large share of a big desk.
RANK_CANDIDATES = 1000


def _tsquery(terms: Terms, mode: Mode) -> str:
    return (" & " if mode == "all" else " | ").join(terms.words)


def _fts5_query(terms: Terms, mode: Mode) -> str:
    return (" AND " if mode == "all" else " OR ").join(f'"{s}"' for s in terms.stems)


def matching[M: Model](qs: QuerySet[M], index: FtsIndex, terms: Terms,
                       organization_id: int, mode: Mode = "all",
                       rank: bool = True) -> QuerySet[M]:
    """`qs` (rows of `index.table`) narrowed to the organisation's rows matching `terms`,
    annotated with `rank` (higher is better) unless `rank=False`. No terms, no rows."""
    if not terms:
        return qs.none()
    # Table and column names come from the FtsIndex definitions, never from a request.
    if connections[qs.db].vendor == "postgresql":
        tsquery = _tsquery(terms, mode)
        newest = f" ORDER BY id DESC LIMIT {RANK_CANDIDATES}" if rank else ""
        qs = qs.filter(pk__in=RawSQL(  # noqa: S611
            f"SELECT id FROM {index.table} WHERE organization_id = %s "  # noqa: S608
            f"AND {index.pg_vector(qualify=False)} @@ {TSQUERY}{newest}",
            [organization_id, tsquery]))
        if rank:
            qs = cast("QuerySet[M]", qs.annotate(rank=RawSQL(  # noqa: S611
                f"ts_rank({index.pg_vector()}, {TSQUERY})", [tsquery],
                output_field=FloatField())))
        return qs
    fts, match = index.fts_table, _fts5_query(terms, mode)
    if rank:
        # Joined, so that FTS5 evaluates the MATCH once and hands over bm25 per row (lower
        # is better); a subquery per row would run the MATCH again for every candidate.
        return qs.extra(  # noqa: S610
            tables=[fts], where=[f'{fts}.rowid = "{index.table}"."id"', f"{fts} MATCH %s"],
            params=[match], select={"rank": f"-{index.bm25()}"})
    return qs.filter(pk__in=RawSQL(  # noqa: S611
        f"SELECT rowid FROM {fts} WHERE {fts} MATCH %s",  # noqa: S608
        [match]))
