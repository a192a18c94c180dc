"""The portal's e-mails to customers (sign-up, sign-in links, password reset, answers),
through the project's outbound mailer (`MAILERS["default"]`: SMTP, or the console)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


def portal_url(slug: str, name: str = "portal:home", **kwargs: object) -> str:
    return f"{settings.PUBLIC_URL}{reverse(name, kwargs={'slug': slug, **kwargs})}"


def send(to: str, subject: str, body: str) -> None:
    """Raises the mailer's error (the caller decides whether it is retried)."""
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to])


def verification(to: str, org_name: str, link: str) -> None:
    send(to, _("Confirm your e-mail for %(org)s") % {"org": org_name},
         _("Hello,\n\nconfirm your e-mail address to create your account on the support "
           "portal of %(org)s:\n\n%(link)s\n\nThe link is valid for 2 days. If you did not "
           "ask for an account, ignore this message.") % {"org": org_name, "link": link})


def already_registered(to: str, org_name: str, signin: str, reset: str) -> None:
    send(to, _("Your account on the portal of %(org)s") % {"org": org_name},
         _("Hello,\n\nsomeone asked to create an account with this address on the support "
           "portal of %(org)s, but it already has one. Sign in at:\n\n%(signin)s\n\n"
           "Forgot your password? Choose a new one at:\n\n%(reset)s\n")
         % {"org": org_name, "signin": signin, "reset": reset})


def sign_in_link(to: str, org_name: str, link: str) -> None:
    send(to, _("Your sign-in link for %(org)s") % {"org": org_name},
         _("Hello,\n\nuse this link to sign in to the support portal of %(org)s. It works "
           "once, within 30 minutes:\n\n%(link)s\n") % {"org": org_name, "link": link})


def reset_link(to: str, org_name: str, link: str) -> None:
    send(to, _("Choose a new password for %(org)s") % {"org": org_name},
         _("Hello,\n\nuse this link to choose a new password on the support portal of "
           "%(org)s. It works once, within 30 minutes:\n\n%(link)s\n")
         % {"org": org_name, "link": link})


def answered(to: str, org_name: str, protocol: str, subject: str, text: str,
             link: str) -> None:
    send(to, _("[%(protocol)s] New answer: %(subject)s") % {"protocol": protocol,
                                                            "subject": subject},
         _("Hello,\n\n%(org)s answered your ticket %(protocol)s:\n\n%(text)s\n\n"
           "See the ticket and reply at:\n\n%(link)s\n")
         % {"org": org_name, "protocol": protocol, "text": text, "link": link})
