"""The middleware chain as it was before `atende.sync_middleware.SyncChain` ended it: split
by WhiteNoise's sync-only middleware (the outer part sync, the inner part async), so each
inner hook and the view cross between the event loop and the request's thread."""

from atende.settings import *  # noqa: F403
from atende.settings import MIDDLEWARE

MIDDLEWARE = [m for m in MIDDLEWARE if m != "atende.sync_middleware.SyncChain"]
