from django.tasks import task

from atende.channels.models import Channel, ChannelKind
from atende.connectors.consumidor_gov import hours, outbound, receive


@task
def sync_consumidor_channel(channel_id: int) -> None:
    channel = Channel.objects.select_related("organization", "service").filter(
        pk=channel_id, kind=ChannelKind.CONSUMIDOR_GOV, is_active=True).first()
    if channel is not None:
        receive.sync_channel(channel)


def active_channels() -> list[Channel]:
    return list(Channel.objects.select_related("organization", "service").filter(
        kind=ChannelKind.CONSUMIDOR_GOV, is_active=True).order_by("pk"))


def sync_all() -> int:
    """The sync of every active channel whose API answers now, as tasks (the periodic
    job)."""
    now = hours.current_time()
    channels = [c for c in active_channels() if hours.open_for(c.settings, now)]
    for channel in channels:
        sync_consumidor_channel.enqueue(channel.pk)
    return len(channels)


def flush_all() -> int:
    """Every channel's parked answers, once a window is open."""
    return sum(outbound.flush_waiting(channel) for channel in active_channels())
