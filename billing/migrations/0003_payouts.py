"""Payouts made by the beat after the hold period: one payout account per musician, payout
statuses that say where the money is, and what retries need (attempts, the next attempt, the
provider's idempotency key)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# The transfers used to be created on hold at the provider and released there later.
OLD_TO_NEW_STATUS = {"on_hold": "processing", "released": "paid"}


def keep_the_newest_account(apps, schema_editor):
    """A musician could have one payout account per provider; now they have one."""
    PayoutAccount = apps.get_model("billing", "PayoutAccount")
    seen = set()
    for account in PayoutAccount.objects.order_by("user_id", "-created_at", "-pk"):
        if account.user_id in seen:
            account.delete()
        else:
            seen.add(account.user_id)


def rename_statuses(apps, schema_editor):
    Payout = apps.get_model("billing", "Payout")
    for old, new in OLD_TO_NEW_STATUS.items():
        Payout.objects.filter(status=old).update(status=new)


def restore_statuses(apps, schema_editor):
    Payout = apps.get_model("billing", "Payout")
    for old, new in OLD_TO_NEW_STATUS.items():
        Payout.objects.filter(status=new).update(status=old)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0002_ledger_balanced_trigger"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(keep_the_newest_account, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name="payoutaccount",
            name="billing_payoutaccount_one_per_provider",
        ),
        migrations.AlterField(
            model_name="payoutaccount",
            name="user",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="payout_account",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="payoutaccount",
            name="updated_at",
            field=models.DateTimeField(auto_now=True),
        ),
        migrations.RenameField(model_name="payout", old_name="released_at", new_name="paid_at"),
        migrations.RemoveField(model_name="payout", name="source_payment"),
        migrations.AddField(
            model_name="payout",
            name="attempts",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="payout",
            name="next_attempt_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="payout",
            name="failed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="payout",
            name="period",
            field=models.DateField(blank=True, help_text="The payout run's day (UTC).", null=True),
        ),
        migrations.AddField(
            model_name="payout",
            name="transfer_key",
            field=models.CharField(blank=True, max_length=40),
        ),
        migrations.AlterField(
            model_name="payout",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("processing", "On its way"),
                    ("paid", "Paid"),
                    ("failed", "Failed"),
                    ("reversed", "Reversed"),
                ],
                default="pending",
                max_length=16,
            ),
        ),
        migrations.AddIndex(
            model_name="payout",
            index=models.Index(fields=["status", "next_attempt_at"], name="billing_payout_due_idx"),
        ),
        migrations.AddIndex(
            model_name="payout",
            index=models.Index(
                fields=["musician", "-created_at"], name="billing_payout_musician_idx"
            ),
        ),
        migrations.AddConstraint(
            model_name="payout",
            constraint=models.UniqueConstraint(
                condition=models.Q(("period__isnull", False)),
                fields=("musician", "currency", "period"),
                name="billing_payout_once_per_period",
            ),
        ),
        # Last: rows changed before an ALTER TABLE of the same table could leave pending
        # trigger events on PostgreSQL.
        migrations.RunPython(rename_statuses, restore_statuses),
    ]
