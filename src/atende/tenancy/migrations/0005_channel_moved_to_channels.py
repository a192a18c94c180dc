"""Foreign keys to the channel kit's models, which moved from `connectors` to `channels`
(same tables): the state only, nothing changes in the database."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('channels', '0001_initial'),
        ('tenancy', '0004_membership_online_seen'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.AlterField(
                model_name='apikey',
                name='channel',
                field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='api_keys', to='channels.channel', verbose_name='channel'),
            ),
        ]),
    ]
