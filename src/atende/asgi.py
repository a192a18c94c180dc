import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atende.settings")
django_application = get_asgi_application()

# Imported once Django is set up: the WhatsApp and Telegram deliveries skip the
# middleware stack.
from atende.connectors.meta_messaging.webhook_asgi import with_meta_routes  # noqa: E402
from atende.connectors.telegram.webhook_asgi import with_telegram_route  # noqa: E402
from atende.connectors.whatsapp.webhook_asgi import with_webhook_route  # noqa: E402

application = with_meta_routes(with_telegram_route(with_webhook_route(django_application)))
