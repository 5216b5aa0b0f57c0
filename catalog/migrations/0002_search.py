"""Full-text search: generated tsvector columns and trigram indexes on PostgreSQL, FTS5 tables
kept by triggers on SQLite (see catalog.search, whose SPECS name the columns)."""

from django.db import migrations

from catalog.search import SPECS, postgres_statements, sqlite_statements


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        statements = [s for spec in SPECS.values() for s in postgres_statements(spec)]
    elif vendor == "sqlite":
        statements = [s for spec in SPECS.values() for s in sqlite_statements(spec)]
    else:
        statements = []
    for statement in statements:
        schema_editor.execute(statement)


def uninstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for spec in SPECS.values():
        if vendor == "postgresql":
            for column in spec.trigram:
                schema_editor.execute(f"DROP INDEX IF EXISTS {spec.table}_{column}_trgm_idx")
            schema_editor.execute(f"DROP INDEX IF EXISTS {spec.table}_search_idx")
            schema_editor.execute(f"ALTER TABLE {spec.table} DROP COLUMN IF EXISTS search_vector")
        elif vendor == "sqlite":
            for suffix in ("insert", "delete", "update"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {spec.table}_fts_{suffix}")
            schema_editor.execute(f"DROP TABLE IF EXISTS {spec.fts_table}")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(install, uninstall)]
