"""The contacts screens, under /contacts/ (names `workspace:contacts:…`)."""

from django.urls import path

from atende.workspace.views import contacts

app_name = "contacts"

urlpatterns = [
    path("", contacts.contact_list, name="list"),
    path("<int:contact_id>/", contacts.contact_page, name="detail"),
    path("<int:contact_id>/edit/", contacts.contact_edit, name="edit"),
    path("<int:contact_id>/merge/", contacts.contact_merge, name="merge"),
]
