"""The channel kit's models, moved from `connectors` with their tables: the state only."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('automation', '0001_initial'),
        ('connectors', '0006_inboundevent_channel_no_own_index'),
        ('tenancy', '0004_membership_online_seen'),
        ('tickets', '0007_service_index_with_assignee'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.CreateModel(
                name='Channel',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('kind', models.CharField(choices=[('email', 'E-mail'), ('whatsapp', 'WhatsApp'), ('webchat', 'Chat'), ('portal', 'Portal'), ('api', 'API'), ('voice', 'Phone'), ('instagram', 'Instagram'), ('consumidor_gov', 'Consumidor.gov.br')], max_length=30, verbose_name='type')),
                    ('name', models.CharField(max_length=120, verbose_name='name')),
                    ('settings', models.JSONField(blank=True, default=dict, verbose_name='settings')),
                    ('encrypted_secrets', models.TextField(blank=True, editable=False)),
                    ('is_active', models.BooleanField(default=True, verbose_name='active')),
                    ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                    ('business_calendar', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='automation.businesscalendar', verbose_name='business hours')),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.organization', verbose_name='organisation')),
                    ('service', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to='tenancy.service', verbose_name='service')),
                ],
                options={
                    'verbose_name': 'channel',
                    'verbose_name_plural': 'channels',
                    'db_table': 'connectors_channel',
                },
            ),
            migrations.CreateModel(
                name='InboundEvent',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('provider_id', models.CharField(max_length=255)),
                    ('payload', models.JSONField()),
                    ('status', models.CharField(choices=[('received', 'Received'), ('processed', 'Processed'), ('duplicate', 'Duplicate'), ('quarantined', 'Quarantined')], default='received', max_length=20)),
                    ('error', models.TextField(blank=True)),
                    ('received_at', models.DateTimeField(default=django.utils.timezone.now)),
                    ('processed_at', models.DateTimeField(blank=True, null=True)),
                    ('redelivery_retries', models.PositiveSmallIntegerField(db_default=0, default=0)),
                    ('channel', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='inbound_events', to='channels.channel')),
                    ('message', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='tickets.message')),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.organization', verbose_name='organisation')),
                ],
                options={
                    'db_table': 'connectors_inboundevent',
                },
            ),
            migrations.CreateModel(
                name='RefusedWebhook',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('at', models.DateTimeField(default=django.utils.timezone.now)),
                    ('remote_addr', models.CharField(blank=True, max_length=45)),
                    ('reason', models.CharField(max_length=200)),
                    ('skipped', models.PositiveIntegerField(default=0)),
                    ('channel', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='channels.channel')),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.organization', verbose_name='organisation')),
                ],
                options={
                    'db_table': 'connectors_refusedwebhook',
                },
            ),
            migrations.AddIndex(
                model_name='channel',
                index=models.Index(fields=['organization', 'kind'], name='channel_org_kind'),
            ),
            migrations.AddIndex(
                model_name='inboundevent',
                index=models.Index(fields=['channel', '-received_at'], name='inbound_channel_recent'),
            ),
            migrations.AddIndex(
                model_name='inboundevent',
                index=models.Index(fields=['channel', 'status', '-received_at'], name='inbound_channel_status'),
            ),
            migrations.AddConstraint(
                model_name='inboundevent',
                constraint=models.UniqueConstraint(fields=('channel', 'provider_id'), name='uniq_inbound_event'),
            ),
            migrations.AddIndex(
                model_name='refusedwebhook',
                index=models.Index(fields=['channel', '-at'], name='refused_webhook_recent'),
            ),
        ]),
    ]
