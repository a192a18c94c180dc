"""A throwaway django-helpdesk 2.6.1 site for the API benchmark.

It lives outside the project: a venv in a cache directory (reused across runs, keyed by the
pinned requirements) and a generated minimal Django project in a temporary directory. The
site enables helpdesk's DRF API (`/api/tickets/`, on by default in 2.6.1 through
`HELPDESK_API_ENABLED`) with DRF token authentication, on SQLite, served by gunicorn with
threaded workers (`-k gthread`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

HELPDESK_VERSION = "2.6.1"
# django-helpdesk 2.6.1 declares Django 5.2 and 6.0 (its trove classifiers); the newest 6.0.x.
REQUIREMENTS = [
    f"django-helpdesk=={HELPDESK_VERSION}",
    "django>=5.2,<6.1",
    "gunicorn>=23",
]

SETTINGS = '''\
"""Minimal settings around django-helpdesk {version}: the DRF API with token auth."""
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "bench-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "helpdesk",
]
SITE_ID = 1

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "hdsite.urls"
WSGI_APPLICATION = "hdsite.wsgi.application"
TEMPLATES = [{{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [],
    "APP_DIRS": True,
    "OPTIONS": {{"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]}},
}}]

# The same SQLite tuning Atende's embedded profile uses (WAL, IMMEDIATE, busy timeout), so
# concurrent writers from several gunicorn processes queue instead of failing.
DATABASES = {{
    "default": {{
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": BASE_DIR / "helpdesk.sqlite3",
        "OPTIONS": {{
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA busy_timeout=20000;"
            ),
        }},
    }}
}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "static/"
MEDIA_ROOT = BASE_DIR / "media"

# helpdesk e-mails the submitter on every new ticket (rendered, then handed to the backend);
# the dummy backend discards it instead of needing an SMTP server.
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
DEFAULT_FROM_EMAIL = "helpdesk@example.com"

HELPDESK_API_ENABLED = True          # the 2.6.1 name (already the default)
HELPDESK_ACTIVATE_API_ENDPOINT = True  # the name older releases read; harmless here
HELPDESK_TEAMS_MODE_ENABLED = False  # no pinax-teams

REST_FRAMEWORK = {{
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
    ],
}}
LOGGING = {{"version": 1, "disable_existing_loggers": False,
           "root": {{"handlers": [], "level": "WARNING"}}}}
'''

URLS = '''\
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("helpdesk.urls", namespace="helpdesk")),
]
'''

WSGI = '''\
import os
from django.core.wsgi import get_wsgi_application
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hdsite.settings")
application = get_wsgi_application()
'''

MANAGE = '''\
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hdsite.settings")
from django.core.management import execute_from_command_line
execute_from_command_line(sys.argv)
'''

# Prints "TOKEN QUEUE_ID": a staff superuser (helpdesk's TicketViewSet wants IsAdminUser),
# its DRF token, and one queue to file tickets in.
SETUP = '''\
import os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hdsite.settings")
django.setup()
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from helpdesk.models import Queue
User = get_user_model()
user = User.objects.filter(username="bench").first() or User.objects.create_superuser(
    "bench", "bench@example.com", "bench-password")
token, _ = Token.objects.get_or_create(user=user)
queue, _ = Queue.objects.get_or_create(
    slug="support", defaults={"title": "Support", "email_address": "support@example.com"})
print(token.key, queue.id)
'''


def base_python() -> str:
    """The Python 3.12 interpreter behind the running venv (not the venv's own shim)."""
    base = getattr(sys, "_base_executable", "") or sys.executable
    return os.path.realpath(base)


def cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "atende-bench"


def _find_uv() -> str | None:
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / ".venv-tools" / "bin" / "uv", shutil.which("uv")):
        if candidate and Path(candidate).exists():
            return str(candidate)
    return None


def ensure_venv(log: Callable[[str], object] = print) -> Path:
    """A venv with django-helpdesk 2.6.1 + gunicorn, created once and reused."""
    python = base_python()
    tag = hashlib.sha256(("\n".join([python, *REQUIREMENTS])).encode()).hexdigest()[:12]
    venv = cache_dir() / f"helpdesk-{HELPDESK_VERSION}-{tag}"
    marker = venv / ".complete"
    if marker.exists():
        return venv
    if venv.exists():
        shutil.rmtree(venv)
    venv.parent.mkdir(parents=True, exist_ok=True)
    log(f"creating the django-helpdesk {HELPDESK_VERSION} venv in {venv} …")
    uv = _find_uv()
    if uv:
        subprocess.run([uv, "venv", "-q", "-p", python, str(venv)], check=True, timeout=300)
        subprocess.run([uv, "pip", "install", "-q", "-p", str(venv / "bin" / "python"),
                        *REQUIREMENTS], check=True, timeout=600)
    else:
        subprocess.run([python, "-m", "venv", str(venv)], check=True, timeout=300)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                        *REQUIREMENTS], check=True, timeout=600)
    marker.write_text("\n".join(REQUIREMENTS) + "\n")
    return venv


def write_project(root: Path) -> None:
    pkg = root / "hdsite"
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "settings.py").write_text(SETTINGS.format(version=HELPDESK_VERSION))
    (pkg / "urls.py").write_text(URLS)
    (pkg / "wsgi.py").write_text(WSGI)
    (root / "manage.py").write_text(MANAGE)
    (root / "setup_bench.py").write_text(SETUP)


def prepare(root: Path, venv: Path) -> tuple[str, int]:
    """Generate the project, migrate, and return (token, queue id)."""
    write_project(root)
    py = str(venv / "bin" / "python")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "hdsite.settings"}
    subprocess.run([py, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=root, env=env,
                   check=True, timeout=300)
    out = subprocess.run([py, "setup_bench.py"], cwd=root, env=env, check=True, timeout=120,
                         capture_output=True, text=True).stdout.split()
    return out[-2], int(out[-1])


def server_command(venv: Path, port: int, workers: int, threads: int) -> list[str]:
    return [
        str(venv / "bin" / "gunicorn"), "hdsite.wsgi:application",
        "--bind", f"127.0.0.1:{port}",
        "--worker-class", "gthread", "--workers", str(workers), "--threads", str(threads),
        "--keep-alive", "30", "--log-level", "warning",
    ]



# The e-mail ingest benchmark's child: `process_queue` (what `manage.py get_email` runs per
# queue) on a local-directory mailbox, timed; then the ticket of every given Message-ID.
# Prints one JSON line.
EMAIL_INGEST = '''\
import json, logging, os, re, sys, time, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hdsite.settings")
django.setup()
from helpdesk.email import process_queue
from helpdesk.models import FollowUp, Queue
folder, ids_file = sys.argv[1], sys.argv[2]
queue, _ = Queue.objects.get_or_create(
    slug="support", defaults={"title": "Support", "email_address": "suporte@loja.example.com.br"})
queue.email_box_type = "local"
queue.email_box_local_dir = folder
queue.allow_email_submission = True
queue.save()
logger = logging.getLogger("helpdesk.bench")
logger.setLevel(logging.WARNING)
started, cpu = time.perf_counter(), time.process_time()
process_queue(queue, logger=logger)
seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
ids = json.load(open(ids_file))
found = FollowUp.objects.filter(message_id__in=["<%s>" % i for i in ids])
tickets = {m.strip("<>"): t for m, t in found.values_list("message_id", "ticket_id")}
print(json.dumps({"seconds": seconds, "cpu": cpu, "tickets": tickets,
                  "left": len(os.listdir(folder)),
                  "rss_kib": int(re.search(r"VmHWM:\\s+(\\d+)",
                                           open("/proc/self/status").read()).group(1))}))
'''
