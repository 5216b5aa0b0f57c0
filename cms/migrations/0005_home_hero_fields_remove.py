from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("cms", "0004_home_blocks_and_moderation")]

    operations = [
        migrations.RemoveField(
            model_name='homepage',
            name='commission_cta',
        ),
        migrations.RemoveField(
            model_name='homepage',
            name='hero_text',
        ),
        migrations.RemoveField(
            model_name='homepage',
            name='hero_title',
        ),
        migrations.RemoveField(
            model_name='homepage',
            name='listen_cta',
        ),    ]
