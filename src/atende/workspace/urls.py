"""The agent workspace: sign-in, the live queue, the ticket screen and the settings."""

from django.urls import include, path

from atende.workspace.presence import presence

app_name = "workspace"

urlpatterns = [
    path("settings/", include("atende.workspace.settings.urls")),
    path("presence/", presence, name="presence"),
]
