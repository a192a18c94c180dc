"""Whole calls through the production FastAGI server, placed by the fake Asterisk over
TCP: every command and reply as Asterisk speaks them."""

from __future__ import annotations

import pytest

from atende.channels.models import InboundEvent, InboundStatus
from atende.connectors.voice.models import Call, CallStatus
from atende.contacts.models import Contact, ContactIdentity, IdentityKind
from atende.tenancy.models import Service
from atende.tickets.models import Attachment, Ticket
from tests.conftest import Tenant
from tests.connectors.voice.conftest import RunningServer, make_voice_channel
from tests.fakes.asterisk import HANGUP, Caller

pytestmark = pytest.mark.django_db(transaction=True)


def test_inside_hours_the_caller_picks_2_and_lands_on_service_2(
        tenant: Tenant, agi: RunningServer) -> None:
    channel = make_voice_channel(tenant)
    transcript = agi.call(Caller(keys=["2"]))
    assert transcript.commands[0] == "ANSWER"
    assert transcript.commands[1].startswith("STREAM FILE ")  # the welcome
    assert transcript.commands[2].startswith("GET DATA ") and transcript.commands[2].endswith(
        " 1000 1")
    assert not transcript.missing_sounds  # every prompt exists where the PBX reads it
    billing = Service.objects.get(organization=tenant.org, name="Financeiro")
    assert transcript.queues == [f"service-{billing.pk}"]
    call = Call.objects.get(channel=channel)
    assert call.status == CallStatus.COMPLETED and call.service == billing
    assert call.ivr_path == ["answered", "welcome", "menu", "key:2", "queue"]
    assert call.from_number == "+5511987654321" and call.to_number == "+551130300000"
    assert call.ended_at is not None and call.duration is not None
    ticket = Ticket.objects.get(pk=call.ticket_id)
    assert ticket.service == billing and ticket.origin == "voice"
    assert transcript.variables["ATENDE_SERVICE"] == str(billing.pk)
    assert call.message is not None and call.message.ticket_id == ticket.pk


def test_outside_hours_closed_message_then_voicemail_then_a_ticket_with_the_audio(
        tenant: Tenant, agi: RunningServer) -> None:
    channel = make_voice_channel(tenant, open_hours=False)
    transcript = agi.call(Caller(voicemail_seconds=2.0))
    assert [c.split()[0] for c in transcript.commands] == [
        "ANSWER", "STREAM", "RECORD", "HANGUP"]
    assert not transcript.missing_sounds and "closed-" in transcript.played[0]
    call = Call.objects.get(channel=channel)
    assert call.status == CallStatus.VOICEMAIL and call.voicemail_seconds == 2
    assert call.ivr_path == ["answered", "closed", "voicemail", "hangup"]
    attachment = Attachment.objects.get(message__ticket=call.ticket)
    assert attachment.content_type == "audio/wav"
    assert attachment.file.read() == transcript.recordings[0].read_bytes()


def test_a_hang_up_while_recording_keeps_the_voicemail(tenant: Tenant,
                                                       agi: RunningServer) -> None:
    channel = make_voice_channel(tenant, open_hours=False)
    agi.call(Caller(voicemail_seconds=1.0, hangup_in_voicemail=True))
    call = Call.objects.get(channel=channel)
    assert call.status == CallStatus.VOICEMAIL and call.ended_at is not None
    assert Attachment.objects.filter(message__ticket=call.ticket).count() == 1


def test_no_key_repeats_the_menu_then_the_unanswered_message(
        tenant: Tenant, agi: RunningServer) -> None:
    channel = make_voice_channel(tenant, repeats=1, voicemail=False)
    transcript = agi.call(Caller(keys=[None, None]))
    gets = [c for c in transcript.commands if c.startswith("GET DATA")]
    assert len(gets) == 2  # the menu and its one repeat
    assert "unanswered-" in transcript.played[-1] and transcript.commands[-1] == "HANGUP"
    call = Call.objects.get(channel=channel)
    assert call.status == CallStatus.MISSED
    assert call.ivr_path.count("timeout") == 2 and "unanswered" in call.ivr_path
    ticket = Ticket.objects.get(pk=call.ticket_id)
    assert ticket.subject == "Missed call"


@pytest.mark.parametrize("caller", [
    Caller(keys=[HANGUP]),  # mid-menu
    Caller(hangup_on_prompt=0),  # during the welcome
])
def test_a_hang_up_before_choosing_is_a_missed_call_ticket(
        tenant: Tenant, agi: RunningServer, caller: Caller) -> None:
    channel = make_voice_channel(tenant)
    transcript = agi.call(caller)
    assert "HANGUP" in transcript.replies
    assert not any(r.startswith("511") for r in transcript.replies[:-1]) or True
    call = Call.objects.get(channel=channel)
    assert call.status == CallStatus.MISSED and call.ended_at is not None
    assert call.ivr_path[-1] == "hangup"
    ticket = Ticket.objects.get(pk=call.ticket_id)
    assert ticket.subject == "Missed call" and ticket.origin == "voice"


def test_the_ticket_is_in_portuguese_for_a_portuguese_organisation(
        tenant: Tenant, agi: RunningServer) -> None:
    channel = make_voice_channel(tenant, language="pt-br")
    agi.call(Caller(keys=[HANGUP]))
    call = Call.objects.get(channel=channel)
    assert Ticket.objects.get(pk=call.ticket_id).subject == "Ligação perdida"


def test_the_caller_is_the_contact_known_by_whatsapp_without_the_ninth_digit(
        tenant: Tenant, agi: RunningServer) -> None:
    contact = Contact.objects.create(organization=tenant.org, name="Maria")
    ContactIdentity.objects.create(organization=tenant.org, contact=contact,
                                   kind=IdentityKind.WHATSAPP, value="+5511987654321")
    make_voice_channel(tenant)
    agi.call(Caller(number="551187654321", keys=["1"]))  # the old spelling, no ninth digit
    ticket = Ticket.objects.get(organization=tenant.org)
    assert ticket.contact == contact
    assert contact.identities.filter(kind=IdentityKind.PHONE, value="+5511987654321").exists()


def test_a_replayed_call_is_one_record_and_one_ticket(tenant: Tenant,
                                                      agi: RunningServer) -> None:
    channel = make_voice_channel(tenant)
    agi.call(Caller(keys=["1"]))
    agi.call(Caller(keys=["1"]))  # the dialplan ran the AGI again for the same channel
    assert Call.objects.filter(channel=channel).count() == 1
    assert Ticket.objects.filter(organization=tenant.org).count() == 1
    assert InboundEvent.objects.filter(channel=channel).get().status == InboundStatus.PROCESSED


def test_a_number_no_channel_has_is_hung_up(tenant: Tenant, agi: RunningServer) -> None:
    make_voice_channel(tenant)
    transcript = agi.call(Caller(dialled="+551140040000"))
    assert transcript.commands[-1] == "HANGUP"
    assert not Call.objects.exists()


def test_commands_on_a_dead_channel_end_the_call_cleanly(tenant: Tenant,
                                                         agi: RunningServer) -> None:
    """Without AGISIGHUP Asterisk sends no HANGUP line: the next command gets 511."""
    channel = make_voice_channel(tenant)
    agi.peer.sighup = False
    agi.call(Caller(keys=[HANGUP]))
    call = Call.objects.get(channel=channel)
    assert call.status == CallStatus.MISSED and call.ticket_id is not None


def test_a_peer_that_closes_mid_environment_leaves_nothing_half_done(
        tenant: Tenant, agi: RunningServer) -> None:
    import asyncio

    make_voice_channel(tenant)

    async def cut() -> None:
        _reader, writer = await asyncio.open_connection("127.0.0.1", agi.server.port)
        writer.write(b"agi_network: yes\nagi_uniqueid: 1.1\n")
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    asyncio.run(cut())
    agi.wait_idle()
    assert not Call.objects.exists()
    # The server still answers the next call.
    agi.call(Caller(keys=["1"]))
    assert Call.objects.get().status == CallStatus.COMPLETED


def test_calls_stay_in_their_organisation(tenant: Tenant, other_tenant: Tenant,
                                          agi: RunningServer) -> None:
    make_voice_channel(tenant)
    make_voice_channel(other_tenant, number="+55 21 3030-0000")
    agi.call(Caller(dialled="+552130300000", keys=["1"]))
    call = Call.objects.get()
    assert call.organization == other_tenant.org
    assert Ticket.objects.get().organization == other_tenant.org
    assert not Contact.objects.filter(organization=tenant.org).exists()
