"""A call on the ticket screen: its entry (direction, numbers, start, duration, IVR path,
service) and the voicemail in an <audio> player served inline."""

from __future__ import annotations

from pathlib import Path

from django.test import Client

from atende.connectors.voice import calls, ivr
from atende.connectors.voice.models import Call
from tests.conftest import Tenant
from tests.connectors.voice.conftest import make_voice_channel
from tests.fakes.asterisk import tone_wav


def voicemail_call(tenant: Tenant, voice_dir: Path) -> Call:
    channel = make_voice_channel(tenant, open_hours=False)
    answering = calls.plan_for(channel)
    call = calls.open_call(channel, "fastagi", "1715520667.42", "11987654321",
                           "+551130300000", answering.plan.within_hours)
    state, _c = ivr.start(answering.plan)
    for event in (ivr.Done(), ivr.Done(), ivr.Recorded(2.0), ivr.Done()):
        state, _c = ivr.step(state, event)
    recording = voice_dir / "incoming" / "vm-1.wav"
    recording.parent.mkdir(parents=True)
    recording.write_bytes(tone_wav(2.0))
    calls.save_progress(call, state)
    return calls.record_on_ticket(call, recording)


def test_the_ticket_screen_shows_the_call_and_plays_the_voicemail(
        tenant: Tenant, voice_dir: Path) -> None:
    call = voicemail_call(tenant, voice_dir)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(tenant.admin)
    page = client.get(f"/tickets/{call.ticket_id}/").content.decode()
    assert f'data-call="{call.pk}"' in page
    assert "+5511987654321" in page and "+551130300000" in page
    assert "answered → closed → voicemail → hangup" in page
    assert "Voicemail" in page and "<audio controls" in page
    attachment = call.message.attachments.get()  # type: ignore[union-attr]
    played = client.get(f"/attachments/{attachment.pk}/?inline=1")
    assert played.status_code == 200 and played["Content-Type"] == "audio/wav"
    assert "inline" in played["Content-Disposition"]


def test_another_organisation_cannot_see_the_call(tenant: Tenant, other_tenant: Tenant,
                                                  voice_dir: Path) -> None:
    call = voicemail_call(tenant, voice_dir)
    client = Client()
    client.force_login(other_tenant.admin)
    assert client.get(f"/tickets/{call.ticket_id}/").status_code == 404


def test_a_call_left_open_by_a_stopped_server_becomes_a_missed_call(tenant: Tenant) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from atende.connectors.voice.models import CallStatus

    channel = make_voice_channel(tenant)
    call = calls.open_call(channel, "fastagi", "lost.1", "11987654321", "+551130300000")
    state, _c = ivr.start(calls.plan_for(channel).plan)
    state, _c = ivr.step(state, ivr.Done())
    calls.save_progress(call, state)  # the server stopped here
    assert calls.finish_stale_calls() == 0  # a call in progress is left alone
    assert calls.finish_stale_calls(timezone.now() + timedelta(hours=5)) == 1
    call.refresh_from_db()
    assert call.status == CallStatus.MISSED and call.ended_at is not None
    assert call.ivr_path[-1] == "lost" and call.ticket is not None
    assert calls.finish_stale_calls(timezone.now() + timedelta(hours=5)) == 0
