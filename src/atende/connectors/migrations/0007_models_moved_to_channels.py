"""Channel, InboundEvent and RefusedWebhook now belong to `channels` (same tables)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('connectors', '0006_inboundevent_channel_no_own_index'),
        ('email_channel', '0007_channel_moved_to_channels'),
        ('tenancy', '0005_channel_moved_to_channels'),
        ('tickets', '0008_channel_moved_to_channels'),
        ('whatsapp', '0005_channel_moved_to_channels'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.RemoveIndex(
                model_name='channel',
                name='channel_org_kind',
            ),
            migrations.RemoveIndex(
                model_name='inboundevent',
                name='inbound_channel_recent',
            ),
            migrations.RemoveIndex(
                model_name='inboundevent',
                name='inbound_channel_status',
            ),
            migrations.RemoveConstraint(
                model_name='inboundevent',
                name='uniq_inbound_event',
            ),
            migrations.RemoveIndex(
                model_name='refusedwebhook',
                name='refused_webhook_recent',
            ),
            migrations.RemoveField(
                model_name='channel',
                name='business_calendar',
            ),
            migrations.RemoveField(
                model_name='channel',
                name='organization',
            ),
            migrations.RemoveField(
                model_name='channel',
                name='service',
            ),
            migrations.RemoveField(
                model_name='refusedwebhook',
                name='channel',
            ),
            migrations.RemoveField(
                model_name='refusedwebhook',
                name='organization',
            ),
            migrations.DeleteModel(
                name='InboundEvent',
            ),
            migrations.DeleteModel(
                name='Channel',
            ),
            migrations.DeleteModel(
                name='RefusedWebhook',
            ),
        ]),
    ]
