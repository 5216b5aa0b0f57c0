"""On PostgreSQL, a deferred constraint trigger checks at commit that every ledger transaction's
entries sum to zero per currency (the service checks it first; this is the database's word).
Other databases rely on the service's check."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION billing_ledger_transaction_balanced() RETURNS trigger AS $$
DECLARE
    txn uuid;
    unbalanced record;
BEGIN
    IF TG_OP = 'DELETE' THEN
        txn := OLD.transaction_id;
    ELSE
        txn := NEW.transaction_id;
    END IF;
    SELECT currency, SUM(amount) AS total INTO unbalanced
      FROM billing_ledgerentry
     WHERE transaction_id = txn
     GROUP BY currency
    HAVING SUM(amount) <> 0
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction % does not sum to zero in % (%)',
            txn, unbalanced.currency, unbalanced.total
            USING ERRCODE = '23514';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS billing_ledgerentry_balanced ON billing_ledgerentry;
CREATE CONSTRAINT TRIGGER billing_ledgerentry_balanced
    AFTER INSERT OR UPDATE OR DELETE ON billing_ledgerentry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION billing_ledger_transaction_balanced();
"""

DROP = """
DROP TRIGGER IF EXISTS billing_ledgerentry_balanced ON billing_ledgerentry;
DROP FUNCTION IF EXISTS billing_ledger_transaction_balanced();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
