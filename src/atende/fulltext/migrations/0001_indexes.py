"""PostgreSQL: `unaccent`, the immutable wrappers and GIN indexes on tickets, messages and
contacts. SQLite: their FTS5 tables, filled from the existing rows, and the triggers that
keep them. Not atomic: on PostgreSQL the indexes are built CONCURRENTLY (a live desk keeps
taking messages while a large table is indexed)."""

from django.db import migrations

from atende.fulltext import indexes

TABLES = (indexes.MESSAGE, indexes.TICKET, indexes.CONTACT)


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = list(indexes.POSTGRES_FUNCTIONS) if vendor == "postgresql" else []
    for index in TABLES:
        statements += [s.replace("CREATE INDEX", "CREATE INDEX CONCURRENTLY", 1)
                       for s in indexes.create_sql(index, vendor)]
    for statement in statements:
        schema_editor.execute(statement)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for index in TABLES:
        for statement in indexes.drop_sql(index, vendor):
            schema_editor.execute(statement)
    if vendor == "postgresql":
        for statement in indexes.POSTGRES_DROP_FUNCTIONS:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    atomic = False
    dependencies = [
        ("tickets", "0008_channel_moved_to_channels"),
        ("contacts", "0004_companies_notes_audit"),
    ]
    operations = [migrations.RunPython(forward, backward)]
