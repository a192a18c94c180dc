"""The `atende` console script: run, web, worker, mail-idle, demo, manage.

`atende run` is the embedded profile in one command: it migrates, then supervises a web
process (uvicorn), a worker process (Huey) and the IMAP IDLE watcher (`atende.supervisor`).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atende.settings")
    import django

    django.setup()


def _manage(args: Sequence[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atende.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["atende manage", *args])


def _migrate() -> None:
    _manage(["migrate", "--no-input", "-v", "0"])


def cmd_web(opts: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atende.settings")
    from atende.webserver import serve

    serve(opts.host, opts.port, opts.workers)
    return 0


def cmd_worker(opts: argparse.Namespace) -> int:
    _manage(["run_huey", "--no-periodic"] if opts.no_periodic else ["run_huey"])
    return 0


def cmd_mail_idle(opts: argparse.Namespace) -> int:
    _setup_django()
    from atende.connectors.email.watcher import Watcher

    watcher = Watcher()

    def stop(*_args: object) -> None:
        watcher.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    watcher.run()
    return 0


def cmd_voice(opts: argparse.Namespace) -> int:
    _setup_django()
    from atende.connectors.voice.agi_server import serve

    return serve(opts.host, opts.port)


def cmd_run(opts: argparse.Namespace) -> int:
    from atende.supervisor import run

    return run(opts.host, opts.port, opts.verbose)


def cmd_demo(opts: argparse.Namespace) -> int:
    _migrate()
    _setup_django()
    from atende.demo import create_demo

    result = create_demo(base_url=f"http://{opts.host}:{opts.port}")
    print(f"Organisation: {result.organization}")
    print(f"URL: {result.url}")
    print(f"Admin e-mail: {result.email}")
    print(f"Admin password: {result.password}")
    print(f"API key: {result.api_key}")
    print(f"Portal: {result.portal_url}")
    print(f"Portal customer e-mail: {result.portal_email}")
    print(f"Portal customer password: {result.portal_password}")
    if getattr(opts, "fake_channels", False):
        _demo_consumidor_channel()
    print(f"Widget test page: {result.widget_test_url}")
    return 0


def _demo_consumidor_channel() -> None:
    from atende.connectors.consumidor_gov.demo import create_demo_channel
    from atende.demo import DEMO_SLUG
    from atende.tenancy.models import Organization, Service

    org = Organization.objects.get(slug=DEMO_SLUG)
    channel = create_demo_channel(org, Service.objects.filter(organization=org,
                                                              name="Suporte").first())
    print(f"Consumidor.gov.br channel: {channel.name} -> {channel.settings['api']['base_url']}"
          " (start the fake: python -m tests.fakes.consumidor_gov)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="atende", description="Atende helpdesk")
    sub = parser.add_subparsers(dest="command", required=True)

    def add_bind(p: argparse.ArgumentParser) -> None:
        p.add_argument("--host", default=os.environ.get("ATENDE_HOST", "127.0.0.1"))
        p.add_argument("--port", type=int, default=int(os.environ.get("ATENDE_PORT", "8000")))

    run = sub.add_parser("run", help="migrate and start web + worker + mail-idle (embedded "
                                     "profile)")
    add_bind(run)
    run.add_argument("--verbose", action="store_true",
                     help="also show the INFO log lines (each periodic task, each request)")
    run.set_defaults(func=cmd_run)

    web = sub.add_parser("web", help="start the web server (uvicorn)")
    add_bind(web)
    web.add_argument("--workers", type=int, default=int(os.environ.get("ATENDE_WEB_WORKERS", "1")))
    web.set_defaults(func=cmd_web)

    worker = sub.add_parser("worker", help="start a task worker (Huey)")
    worker.add_argument("--no-periodic", action="store_true",
                        help="do not run periodic jobs in this worker")
    worker.set_defaults(func=cmd_worker)

    mail_idle = sub.add_parser("mail-idle",
                               help="keep IMAP mailboxes in IDLE: new mail in seconds")
    mail_idle.set_defaults(func=cmd_mail_idle)

    voice = sub.add_parser("voice", help="start the FastAGI server for the phone channel's "
                                         "IVR (Asterisk: AGI(agi://host:4573/ivr))")
    voice.add_argument("--host", default=os.environ.get("ATENDE_VOICE_AGI_HOST", "127.0.0.1"))
    voice.add_argument("--port", type=int,
                       default=int(os.environ.get("ATENDE_VOICE_AGI_PORT", "4573")))
    voice.set_defaults(func=cmd_voice)

    demo = sub.add_parser("demo", help="create or refresh the demo organisation")
    add_bind(demo)
    demo.add_argument("--fake-channels", action="store_true",
                      help="also create channels against the provider fakes of a source "
                           "checkout (docs/consumidor.md)")
    demo.set_defaults(func=cmd_demo)

    sub.add_parser("manage", help="run a Django management command", add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "manage":
        _manage(args[1:])
        return 0
    opts = build_parser().parse_args(args)
    result: int = opts.func(opts)
    return result


if __name__ == "__main__":
    sys.exit(main())
