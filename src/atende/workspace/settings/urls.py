"""The settings screens (CORE-10), under /settings/."""

from django.urls import path

from atende.workspace.settings import agents, channels, integrations, views
from atende.workspace.settings.crud import section_urls
from atende.workspace.settings.sections import SECTIONS

app_name = "settings"

urlpatterns = [
    path("", views.index, name="index"),
    path("organisation/", views.organization, name="organization"),
    path("agents/", agents.agent_list, name="agents"),
    path("agents/new/", agents.agent_invite, name="agent_invite"),
    path("agents/<int:pk>/", agents.agent_edit, name="agent_edit"),
    path("agents/<int:pk>/toggle/", agents.agent_toggle, name="agent_toggle"),
    path("channels/", channels.channel_list, name="channels"),
    path("channels/new/<slug:kind>/", channels.channel_create, name="channel_create"),
    path("channels/<int:pk>/", channels.channel_edit, name="channel_edit"),
    path("channels/<int:pk>/created/", channels.channel_created, name="channel_created"),
    path("channels/<int:pk>/toggle/", channels.channel_toggle, name="channel_toggle"),
    path("channels/<int:pk>/test/", channels.channel_test, name="channel_test"),
    path("api-keys/", integrations.api_keys, name="api_keys"),
    path("api-keys/<int:pk>/revoke/", integrations.api_key_revoke, name="api_key_revoke"),
    path("webhooks/", integrations.webhooks, name="webhooks"),
    path("webhooks/<int:pk>/toggle/", integrations.webhook_toggle, name="webhook_toggle"),
    path("webhooks/<int:pk>/deliveries/", integrations.webhook_deliveries,
         name="webhook_deliveries"),
]
for _section in SECTIONS:
    urlpatterns += section_urls(_section)
