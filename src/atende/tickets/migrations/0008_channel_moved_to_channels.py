"""Foreign keys to the channel kit's models, which moved from `connectors` to `channels`
(same tables): the state only, nothing changes in the database."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('channels', '0001_initial'),
        ('tickets', '0007_service_index_with_assignee'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.AlterField(
                model_name='message',
                name='channel',
                field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='channels.channel'),
            ),
            migrations.AlterField(
                model_name='slapolicychannel',
                name='channel',
                field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='sla_link', to='channels.channel'),
            ),
            migrations.AlterField(
                model_name='threadreference',
                name='channel',
                field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='channels.channel'),
            ),
            migrations.AlterField(
                model_name='ticket',
                name='channel',
                field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to='channels.channel', verbose_name='origin channel'),
            ),
        ]),
    ]
