"""The agent workspace: sign-in, the live queue, the ticket screen and the settings."""

from django.urls import include, path

from atende.workspace.presence import presence
from atende.workspace.saved_replies import saved_replies_for_ticket

app_name = "workspace"

urlpatterns = [
    path("settings/", include("atende.workspace.settings.urls")),
    path("presence/", presence, name="presence"),
    path("tickets/<int:ticket_id>/saved-replies/", saved_replies_for_ticket,
         name="saved_replies"),
]
