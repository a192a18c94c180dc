from django.contrib import admin

from atende.tickets.models import (
    AuditEntry,
    CustomField,
    FinalizationTag,
    Message,
    Tag,
    Ticket,
)


class MessageInline(admin.StackedInline):
    model = Message
    extra = 0
    fields = ("direction", "channel", "text", "delivery_status", "failure_reason", "created_at")
    readonly_fields = fields


class AuditInline(admin.TabularInline):
    model = AuditEntry
    extra = 0
    fields = ("created_at", "actor_user", "actor_label", "action", "field", "before", "after")
    readonly_fields = fields


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ["protocol", "subject", "organization", "status", "priority", "origin",
                    "assignee", "updated_at"]
    list_filter = ["organization", "status", "priority", "origin"]
    search_fields = ["subject", "number"]
    raw_id_fields = ["contact", "assignee"]
    inlines = [MessageInline, AuditInline]


for model in (Tag, FinalizationTag, CustomField):
    admin.site.register(model)
