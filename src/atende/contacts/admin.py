from django.contrib import admin

from atende.contacts.models import Company, Contact, ContactAuditEntry, ContactIdentity


class IdentityInline(admin.TabularInline):
    model = ContactIdentity
    extra = 0


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "created_at"]
    search_fields = ["name", "identities__value"]
    inlines = [IdentityInline]
    list_filter = ["organization"]


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "domain", "organization"]
    search_fields = ["name", "domain"]
    list_filter = ["organization"]


@admin.register(ContactAuditEntry)
class ContactAuditEntryAdmin(admin.ModelAdmin):
    list_display = ["contact", "action", "actor_user", "actor_label", "created_at"]
    list_filter = ["organization", "action"]
    readonly_fields = ["contact", "actor_user", "actor_label", "action", "details", "created_at"]
