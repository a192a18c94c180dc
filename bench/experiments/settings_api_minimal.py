"""The API's lower bound: only the middleware an API request needs (security headers,
locale, common). Sessions, CSRF, auth, messages, locale and clickjacking are the agent UI's; the API
authenticates with its key. A measurement, not a proposal to drop them all: the lead would
route /api/ around the UI middleware (or make them cheap for /api/)."""

from atende.settings import *  # noqa: F403

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.locale.LocaleMiddleware",  # API errors follow Accept-Language
    "django.middleware.common.CommonMiddleware",
]
# The admin's checks want the UI middleware; this variant only measures the API.
SILENCED_SYSTEM_CHECKS = ["admin.E408", "admin.E409", "admin.E410"]
