"""The agent workspace: sign-in, the live queue, the ticket screen and the settings."""

from django.urls import include, path
from django.views.i18n import set_language

from atende.workspace.views import (
    account,
    auth,
    availability,
    queue_page,
    saved_replies,
    search_page,
    ticket,
    ticket_actions,
    whatsapp,
)

app_name = "workspace"

urlpatterns = [
    path("login/", auth.SignInView.as_view(), name="login"),
    path("logout/", auth.SignOutView.as_view(), name="logout"),
    path("organization/", auth.switch_organization, name="switch-organization"),
    path("password-reset/", auth.PasswordResetView.as_view(), name="password-reset"),
    path("password-reset/sent/", auth.PasswordResetDoneView.as_view(),
         name="password-reset-done"),
    path("password-reset/<uidb64>/<token>/", auth.PasswordResetConfirmView.as_view(),
         name="password-reset-confirm"),
    path("password-reset/done/", auth.PasswordResetCompleteView.as_view(),
         name="password-reset-complete"),
    path("language/", set_language, name="set-language"),
    path("profile/", account.profile, name="profile"),
    path("invitations/", account.invitations, name="invitations"),
    path("", queue_page.queue, name="queue"),
    path("search/", search_page.search_results, name="search"),
    path("kb/<int:article_id>/", search_page.kb_article, name="kb-article"),
    path("tickets/<int:ticket_id>/articles/", search_page.ticket_articles,
         name="ticket-articles"),
    path("tickets/<int:ticket_id>/", ticket.ticket_screen, name="ticket"),
    path("tickets/<int:ticket_id>/live/", ticket.ticket_live, name="ticket-live"),
    path("tickets/<int:ticket_id>/timeline/", ticket.ticket_timeline, name="ticket-timeline"),
    path("tickets/<int:ticket_id>/presence/", ticket.presence, name="ticket-presence"),
    path("tickets/<int:ticket_id>/reply/", ticket_actions.reply, name="ticket-reply"),
    path("tickets/<int:ticket_id>/change/", ticket_actions.change, name="ticket-change"),
    path("tickets/<int:ticket_id>/finalize/", ticket_actions.finalize_ticket,
         name="ticket-finalize"),
    path("tickets/<int:ticket_id>/whatsapp/", whatsapp.whatsapp_panel, name="ticket-whatsapp"),
    path("attachments/<int:attachment_id>/", ticket.attachment, name="attachment"),
    path("messages/<int:message_id>/original.eml", ticket.original_mail, name="message-eml"),
    path("settings/", include("atende.workspace.settings.urls")),
    path("contacts/", include("atende.workspace.contact_urls")),
    path("presence/", availability.set_availability, name="presence"),
    path("heartbeat/", availability.heartbeat, name="heartbeat"),
    path("tickets/<int:ticket_id>/saved-replies/", saved_replies.saved_replies_for_ticket,
         name="saved_replies"),
]
