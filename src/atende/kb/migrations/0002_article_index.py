"""The articles' full-text index (atende.fulltext): GIN on PostgreSQL, FTS5 on SQLite."""

from django.db import migrations

from atende.fulltext.indexes import create_sql, drop_sql
from atende.kb.search import ARTICLE_INDEX


def forward(apps, schema_editor):
    for statement in create_sql(ARTICLE_INDEX, schema_editor.connection.vendor):
        schema_editor.execute(statement)


def backward(apps, schema_editor):
    for statement in drop_sql(ARTICLE_INDEX, schema_editor.connection.vendor):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("kb", "0001_initial"), ("fulltext", "0001_indexes")]
    operations = [migrations.RunPython(forward, backward)]
