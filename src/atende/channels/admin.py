from django.contrib import admin

from atende.channels.models import Channel, InboundEvent


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "organization", "service", "is_active"]
    list_filter = ["organization", "kind"]


@admin.register(InboundEvent)
class InboundEventAdmin(admin.ModelAdmin):
    list_display = ["provider_id", "channel", "status", "received_at"]
    list_filter = ["status"]
    readonly_fields = ["payload", "error"]
