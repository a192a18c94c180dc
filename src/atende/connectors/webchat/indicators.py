"""Typing signals of a chat, both ways: an event in the realtime outbox that the visitor's
stream (an agent typing) and the agents' streams (the visitor typing) pass on. Best
effort: nothing is stored but the event."""

from __future__ import annotations

from typing import Literal

from atende.realtime.publish import publish

EVENT_TYPING = "webchat.typing"


def signal_typing(organization_id: int, ticket_id: int, who: Literal["agent", "visitor"],
                  typing: bool) -> None:
    publish(organization_id, EVENT_TYPING, {"ticket_id": ticket_id, "from": who,
                                            "typing": typing})
