"""Limits on failed sign-ins (and password-reset requests), counted three ways:

- per address and e-mail: one person's typos, or one attacker on one account;
- per e-mail, from every address: one account guessed at from many machines;
- per address, on every e-mail: one machine trying a few passwords on many accounts.

The per-account limit is higher than the per-pair one, so a colleague's typos elsewhere do
not lock anyone out, and every count is in a fixed window: an attacker can hold an account
shut only while they keep failing, never for ever. A success clears the pair's and the
account's counts (it proves the owner), never the address's, or one's own account would
wipe the count of a spraying run. docs/security.md lists the figures.

The counts are database rows, so every web process, on both profiles, sees the same ones.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from atende.client_address import client_ip
from atende.tenancy.models import SignInCounter


@dataclass(frozen=True)
class Limit:
    counted_by: str  # "pair", "account" or "address"
    max_failures: int
    window: timedelta


WINDOW = timedelta(minutes=15)
PAIR = Limit("pair", 5, WINDOW)
ACCOUNT = Limit("account", 20, WINDOW)
ADDRESS = Limit("address", 40, WINDOW)
LIMITS = (PAIR, ACCOUNT, ADDRESS)
# The same words whichever count was reached, and whether or not the account exists.
TOO_MANY_ATTEMPTS = _("Too many failed attempts. Wait 15 minutes and try again, "
                      "or reset your password.")
TOO_MANY_CODE = "too_many_attempts"


def _key(limit: Limit, action: str, ip: str, email: str) -> str:
    email = email.strip().lower()  # addresses are stored lower-case
    subject = {"pair": f"{ip}|{email}", "account": email, "address": ip}[limit.counted_by]
    return hashlib.sha256(f"{action}|{limit.counted_by}|{subject}".encode()).hexdigest()


def _keys(action: str, ip: str, email: str) -> dict[str, Limit]:
    return {_key(limit, action, ip, email): limit for limit in LIMITS}


def is_blocked(ip: str, email: str, action: str = "login") -> bool:
    """Whether any of the three counts of `action` has reached its limit."""
    keys = _keys(action, ip, email)
    live = SignInCounter.objects.filter(key__in=keys, window_ends__gt=timezone.now())
    return any(count >= keys[key].max_failures for key, count in live.values_list("key", "count"))


def record_failure(ip: str, email: str, action: str = "login") -> None:
    """Count one failure (a wrong password; a reset request) on all three counts."""
    now = timezone.now()
    with transaction.atomic():
        for key, limit in _keys(action, ip, email).items():
            _count(key, limit, now)


def _count(key: str, limit: Limit, now: datetime) -> None:
    live = SignInCounter.objects.filter(key=key, window_ends__gt=now)
    if live.update(count=F("count") + 1):
        return
    # No open window: start one. Expired rows go here, so the table never grows old ones.
    SignInCounter.objects.filter(window_ends__lte=now).delete()
    try:
        with transaction.atomic():
            SignInCounter.objects.create(key=key, count=1, window_ends=now + limit.window)
    except IntegrityError:  # another process opened it meanwhile
        live.update(count=F("count") + 1)


def record_success(ip: str, email: str, action: str = "login") -> None:
    SignInCounter.objects.filter(key__in=[_key(PAIR, action, ip, email),
                                          _key(ACCOUNT, action, ip, email)]).delete()


def clear_account(email: str) -> None:
    """After a password reset by e-mail (which proves the owner): the account's own count
    goes, so guesses from elsewhere do not keep its owner out with the new password."""
    SignInCounter.objects.filter(key=_key(ACCOUNT, "login", "", email)).delete()


class LimitedSignInMixin:
    """For an AuthenticationForm (the workspace's, the admin's): refuses before checking the
    password once a limit is reached, and counts the outcome. `is_too_many(form)` tells the
    view to answer 429."""

    request: HttpRequest | None
    cleaned_data: dict[str, Any]

    def clean(self) -> dict[str, Any]:
        username, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if not username or not password or self.request is None:
            return super().clean()  # type: ignore[misc,no-any-return]
        ip = client_ip(self.request)
        if is_blocked(ip, username):
            raise forms.ValidationError(TOO_MANY_ATTEMPTS, code=TOO_MANY_CODE)
        try:
            cleaned: dict[str, Any] = super().clean()  # type: ignore[misc]
        except forms.ValidationError:
            record_failure(ip, username)
            raise
        record_success(ip, username)
        return cleaned


def is_too_many(form: AuthenticationForm) -> bool:
    return form.has_error(NON_FIELD_ERRORS, TOO_MANY_CODE)
