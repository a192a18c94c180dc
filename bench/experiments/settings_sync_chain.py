"""The whole middleware chain in sync mode: a sync-only no-op middleware innermost makes
Django build every MiddlewareMixin in sync mode, so a request crosses from the event loop to
the worker thread once instead of once per middleware hook."""

from atende.settings import *  # noqa: F403
from atende.settings import MIDDLEWARE

MIDDLEWARE = [*MIDDLEWARE, "bench.experiments.middleware.SyncOnly"]
