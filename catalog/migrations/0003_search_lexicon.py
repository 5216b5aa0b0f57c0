"""Spelling correction for search on PostgreSQL: the table of every word the catalog's search
vectors hold, kept by triggers (see catalog.search). SQLite has no typo tolerance."""

from django.db import migrations

from catalog.search import postgres_lexicon_drop_statements, postgres_lexicon_statements


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in postgres_lexicon_statements():
            schema_editor.execute(statement)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in postgres_lexicon_drop_statements():
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_search")]

    operations = [migrations.RunPython(install, uninstall)]
