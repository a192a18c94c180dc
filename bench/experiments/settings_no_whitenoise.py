"""Without WhiteNoise in the middleware chain (static files served by the reverse proxy).

WhiteNoiseMiddleware 6.x is sync-only; in the middle of an otherwise async-capable chain it
makes Django under ASGI hop event loop → thread → event loop → thread for every request, and
each MiddlewareMixin below it runs its hooks through sync_to_async one by one.
"""

from atende.settings import *  # noqa: F403
from atende.settings import MIDDLEWARE

MIDDLEWARE = [m for m in MIDDLEWARE if "whitenoise" not in m]
