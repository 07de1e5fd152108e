"""The register's search by trigram indexes on PostgreSQL (pg_trgm): a stored, folded copy of the name
("nemeth" finds "Németh") and the e-mail, phone and TAJ number the staff search also reads, so that a search
reads only the matching rows, not a whole institution's register. SQLite folds in Python and keeps no such
index."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

import medbook.core.text

# unaccent() is only STABLE (its dictionary could change), so a stored column or an index cannot use it;
# the wrapper names the dictionary and is IMMUTABLE. medbook.core.text.Folded calls it by the name of the
# function SQLite's connections are given.
FOLD_FUNCTION = """
CREATE OR REPLACE FUNCTION medbook_fold(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, $1)) $$;
"""
# The columns and expressions exactly as the searches write them (medbook.patients.selectors): the folded
# name, Django's icontains (UPPER(column::text) LIKE UPPER(...)) and startswith (column::text LIKE ...).
INDEXES = {
    "patient_search_name_trgm": "search_name gin_trgm_ops",
    "patient_contact_trgm": (
        "UPPER(email::text) gin_trgm_ops, UPPER(phone::text) gin_trgm_ops, (insurance_id::text) gin_trgm_ops"
    ),
}


def fold_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FOLD_FUNCTION)


def fold_function_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS medbook_fold(text);")


def indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, expressions in INDEXES.items():
            schema_editor.execute(f"CREATE INDEX {name} ON patients_patient USING gin ({expressions});")


def indexes_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name};")


class Migration(migrations.Migration):
    dependencies = [("patients", "0003_unaccent")]
    operations = [
        TrigramExtension(),
        migrations.RunPython(fold_function, fold_function_drop),
        migrations.AddField(
            model_name="patient",
            name="search_name",
            field=models.GeneratedField(
                db_persist=True,
                expression=medbook.core.text.Folded("full_name"),
                output_field=models.TextField(),
            ),
        ),
        migrations.RunPython(indexes, indexes_drop),
    ]
