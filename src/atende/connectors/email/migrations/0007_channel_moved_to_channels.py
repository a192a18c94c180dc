"""Foreign keys to the channel kit's models, which moved from `connectors` to `channels`
(same tables): the state only, nothing changes in the database."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('channels', '0001_initial'),
        ('email_channel', '0006_mailbox_lease_idle_status'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.AlterField(
                model_name='automailcount',
                name='channel',
                field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='channels.channel'),
            ),
            migrations.AlterField(
                model_name='mailboxlease',
                name='channel',
                field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='channels.channel'),
            ),
            migrations.AlterField(
                model_name='mailboxstate',
                name='channel',
                field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='channels.channel'),
            ),
            migrations.AlterField(
                model_name='notificationtemplate',
                name='channel',
                field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='channels.channel'),
            ),
            migrations.AlterField(
                model_name='pop3seen',
                name='channel',
                field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='channels.channel'),
            ),
            migrations.AlterField(
                model_name='processingrule',
                name='channel',
                field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='channels.channel'),
            ),
            migrations.AlterField(
                model_name='signatureimage',
                name='channel',
                field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='channels.channel'),
            ),
        ]),
    ]
