"""Periodic jobs and the worker's start-up and heartbeat. The only module that imports
Huey directly (app code uses django.tasks)."""

import logging
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task

logger = logging.getLogger(__name__)
HEARTBEAT_KEY = "atende-worker-heartbeat"
HEARTBEAT_SECONDS = 5.0
_started = threading.Lock()
_start_done = False


@HUEY.on_startup()
def worker_started() -> None:
    """Once per worker process (Huey calls it in each of its threads): start the heartbeat
    and have the WhatsApp drains a dead worker took with it requested again."""
    global _start_done
    with _started:
        if _start_done:
            return
        _start_done = True
    threading.Thread(target=_beat, name="atende-heartbeat", daemon=True).start()
    from atende.connectors.whatsapp.stalled import resume_drains

    try:
        resume_drains()
    except Exception:  # the periodic sweep will request them instead
        logger.exception("WhatsApp drains not resumed at worker start")
    finally:
        close_old_connections()


def _beat() -> None:
    while True:
        try:
            HUEY.put(HEARTBEAT_KEY, time.time())
        except Exception:  # the queue's store is down: readiness reports the silence
            logger.warning("worker heartbeat not written", exc_info=True)
        time.sleep(HEARTBEAT_SECONDS)


def last_heartbeat() -> float | None:
    """When a worker last said it was alive (a Unix time), None if never; read from the
    task queue's store, which every web and worker process shares."""
    beat = HUEY.get(HEARTBEAT_KEY, peek=True)
    return float(beat) if beat is not None else None


@db_periodic_task(crontab(minute="*"))
def retry_overdue_webhooks() -> None:
    """Deliveries whose task was lost (worker restart) are attempted again."""
    from atende.webhooks.services import attempt_delivery, due_delivery_ids

    for delivery_id in due_delivery_ids():
        attempt_delivery(delivery_id)


@db_periodic_task(crontab(minute="*"))
def send_overdue_messages() -> None:
    from atende.tickets.services.sending import overdue_queued_ids, send_queued_message

    for message_id in overdue_queued_ids():
        send_queued_message(message_id)


@db_periodic_task(crontab(minute="17"))
def prune_realtime_outbox() -> None:
    from atende.realtime.models import Event

    cutoff = timezone.now() - timedelta(seconds=settings.REALTIME_RETENTION_SECONDS)
    Event.objects.filter(created_at__lt=cutoff).delete()


@db_periodic_task(crontab(minute="23", hour="3"))
def prune_idempotency_records() -> None:
    from atende.tenancy.models import IdempotencyRecord

    IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - timedelta(days=1)).delete()


@db_periodic_task(crontab(minute="*"))
def assign_waiting_tickets() -> None:
    """Automatic assignment of tickets that waited for an agent with room (CORE-15)."""
    from atende.tickets.services.assignment import sweep_waiting

    sweep_waiting()


@db_periodic_task(crontab(minute="*/5"))
def send_answer_reminders() -> None:
    """Pending tickets whose customer has not answered get one reminder (EM-5, WA-4)."""
    from atende.tickets.services.reminders import send_due_reminders

    send_due_reminders()


@db_periodic_task(crontab(minute="*"))
def mark_sla_breaches() -> None:
    """Clocks past their SLA target are recorded as breached, once (CORE-13)."""
    from atende.tickets.services.sla import sweep_breaches

    sweep_breaches()


@db_periodic_task(crontab(minute="*"))
def refresh_report_rollups() -> None:
    """Report roll-ups of tickets whose task was lost are recomputed (RP-1..4)."""
    from atende.reports.rollups import drain_all

    drain_all()


@db_periodic_task(crontab(minute="*"))
def expire_absent_agents() -> None:
    """Agents who closed the workspace stop receiving tickets (CORE-15)."""
    from atende.tickets.services.assignment import expire_absent_agents as expire

    expire()


@db_periodic_task(crontab(minute="*"))
def expire_idle_whatsapp_attendances() -> None:
    from atende.connectors.whatsapp.expiry import expire_idle_attendances

    expire_idle_attendances()


@db_periodic_task(crontab(minute="*"))
def drain_stalled_whatsapp_channels() -> None:
    """WhatsApp events left pending by a lost drain or retry are processed (no event is
    left waiting for the channel's next delivery)."""
    from atende.connectors.whatsapp.stalled import sweep

    sweep()


@db_periodic_task(crontab(minute="*"))
def hand_off_silent_bot_conversations() -> None:
    """Conversations the bot left unanswered past its timeout go to the queue (WA-7)."""
    from atende.connectors.whatsapp.bot_timeout import hand_off_silent_conversations

    hand_off_silent_conversations()


@db_periodic_task(crontab(minute="*"))
def poll_email_mailboxes() -> None:
    """Each e-mail channel is polled at its own interval (checked every minute)."""
    from atende.connectors.email.tasks import enqueue_due_polls

    enqueue_due_polls()


@db_periodic_task(crontab(minute="*/10"))
def sync_consumidor_gov_channels() -> None:
    """Consumidor.gov.br complaints, polled in the platform's API hours only (CG-7)."""
    from atende.connectors.consumidor_gov.tasks import sync_all

    sync_all()


@db_periodic_task(crontab(minute="*"))
def send_parked_consumidor_gov_answers() -> None:
    """Answers written while the Consumidor.gov.br API was closed go out, in order, once a
    window opens."""
    from atende.connectors.consumidor_gov.tasks import flush_all

    flush_all()


@db_periodic_task(crontab(minute="*/10"))
def finish_stale_calls() -> None:
    """Phone calls left open by a stopped FastAGI server end as missed-call tickets."""
    from atende.connectors.voice.calls import finish_stale_calls as finish

    finish()
@db_periodic_task(crontab(minute="*"))
def send_due_csat_invitations() -> None:
    """Satisfaction surveys whose delay has passed and whose task was lost (a restart)
    are sent (CORE-14)."""
    from atende.csat.scheduling import send_due_invitations

    send_due_invitations()
