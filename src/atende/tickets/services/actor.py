from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from atende.tenancy.models import User


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in agent, or an integration / channel / the system (label)."""

    user: User | None = None
    label: str = ""

    @property
    def user_id(self) -> int | None:
        return self.user.pk if self.user else None

    @property
    def display(self) -> str:
        return str(self.user) if self.user else self.label

