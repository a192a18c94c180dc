"""Foreign keys to the channel kit's models, which moved from `connectors` to `channels`
(same tables): the state only, nothing changes in the database."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('channels', '0001_initial'),
        ('whatsapp', '0004_bot_answer_timeout'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.AlterField(
                model_name='botconversation',
                name='channel',
                field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='channels.channel'),
            ),
            migrations.AlterField(
                model_name='botentry',
                name='event',
                field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='channels.inboundevent'),
            ),
            migrations.AlterField(
                model_name='sentpart',
                name='channel',
                field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='channels.channel'),
            ),
        ]),
    ]
