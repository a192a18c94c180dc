from django.contrib import admin

from atende.contacts.models import Contact, ContactIdentity


class IdentityInline(admin.TabularInline):
    model = ContactIdentity
    extra = 0


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "created_at"]
    search_fields = ["name", "identities__value"]
    inlines = [IdentityInline]
    list_filter = ["organization"]
