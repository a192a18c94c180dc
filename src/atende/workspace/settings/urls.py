"""The settings screens (CORE-10), under /settings/."""

from django.urls import path

from atende.workspace.settings import (
    agents,
    channel_email_oauth,
    channel_log,
    channel_notifications,
    channels,
    email_rules,
    integrations,
    kb_articles,
    views,
)
from atende.workspace.settings.crud import section_urls
from atende.workspace.settings.email_signature import (
    signature_editor,
    signature_image,
    signature_image_upload,
    signature_preview,
)
from atende.workspace.settings.sections import SECTIONS

app_name = "settings"

urlpatterns = [
    path("", views.index, name="index"),
    path("organisation/", views.organization, name="organization"),
    path("kb/", kb_articles.article_list, name="kb_articles"),
    path("kb/new/", kb_articles.article_create, name="kb_article_create"),
    path("kb/<int:article_id>/", kb_articles.article_edit, name="kb_article_edit"),
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
    path("channels/<int:pk>/log/", channel_log.channel_log, name="channel_log"),
    path("channels/<int:pk>/log/<int:event_id>/", channel_log.event_detail,
         name="channel_log_event"),
    path("channels/<int:pk>/log/<int:event_id>/original.eml", channel_log.event_eml,
         name="channel_log_eml"),
    path("channels/<int:pk>/log/<int:event_id>/payload.json", channel_log.event_payload,
         name="channel_log_payload"),
    path("channels/<int:pk>/log/<int:event_id>/reprocess/", channel_log.event_reprocess,
         name="channel_log_reprocess"),
    path("channels/<int:pk>/signature/", signature_editor,
         name="email_signature"),
    path("channels/<int:pk>/signature/preview/", signature_preview,
         name="email_signature_preview"),
    path("channels/<int:pk>/signature/images/", signature_image_upload,
         name="email_signature_images"),
    path("channels/<int:pk>/signature/images/<int:image_id>/", signature_image,
         name="email_signature_image"),
    path("channels/<int:pk>/oauth/connect/", channel_email_oauth.channel_oauth_connect,
         name="channel_oauth_connect"),
    path("channels/oauth/callback/", channel_email_oauth.channel_oauth_callback,
         name="channel_oauth_callback"),
    path("channels/<int:pk>/notifications/", channel_notifications.notifications,
         name="channel_notifications"),
    path("channels/<int:pk>/notifications/preview/", channel_notifications.notification_preview,
         name="channel_notifications_preview"),
    path("channels/<int:pk>/rules/", email_rules.rule_list, name="email_rules"),
    path("channels/<int:pk>/rules/new/", email_rules.rule_create, name="email_rule_create"),
    path("channels/<int:pk>/rules/<int:rule_pk>/", email_rules.rule_edit,
         name="email_rule_edit"),
    path("channels/<int:pk>/rules/<int:rule_pk>/move/", email_rules.rule_move,
         name="email_rule_move"),
    path("channels/<int:pk>/rules/<int:rule_pk>/toggle/", email_rules.rule_toggle,
         name="email_rule_toggle"),
    path("channels/<int:pk>/rules/<int:rule_pk>/delete/", email_rules.rule_delete,
         name="email_rule_delete"),
    path("api-keys/", integrations.api_keys, name="api_keys"),
    path("api-keys/<int:pk>/revoke/", integrations.api_key_revoke, name="api_key_revoke"),
    path("webhooks/", integrations.webhooks, name="webhooks"),
    path("webhooks/<int:pk>/toggle/", integrations.webhook_toggle, name="webhook_toggle"),
    path("webhooks/<int:pk>/deliveries/", integrations.webhook_deliveries,
         name="webhook_deliveries"),
]
for _section in SECTIONS:
    urlpatterns += section_urls(_section)
