"""The IVR ("URA") as a pure state machine: events in, commands out. No I/O, no database:
every adapter (FastAGI, Twilio, ARI) drives the same machine and carries out its commands.

    start ─► open?  welcome ─► menu ⟲ (timeout or a wrong key, `repeats` times)
                    │            ├─ key n ─► route to service n            (routed)
                    │            └─ no key ─► unanswered ─► [voicemail]    (missed / voicemail)
            closed ─► closed message ─► [voicemail]                        (missed / voicemail)
    hang-up at any step ends the call with the outcome reached so far.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class MenuOption:
    key: str  # "1" … "9"
    service_id: int
    label: str


@dataclass(frozen=True)
class IvrPlan:
    """What one call's IVR holds: prompt names (the adapter knows where their audio is;
    empty: no such message), the menu, and whether the call came within business hours."""

    within_hours: bool
    options: tuple[MenuOption, ...]
    welcome: str = "welcome"
    menu: str = "menu"
    closed: str = "closed"
    unanswered: str = "unanswered"
    timeout_seconds: int = 5
    repeats: int = 2
    voicemail: bool = False
    voicemail_seconds: int = 60

    def option(self, key: str) -> MenuOption | None:
        return next((o for o in self.options if o.key == key), None)


# Commands the adapter carries out.
@dataclass(frozen=True)
class Answer:
    pass


@dataclass(frozen=True)
class Play:
    prompt: str


@dataclass(frozen=True)
class Collect:
    """Play the prompt and wait for one key (`keys` are the valid ones)."""

    prompt: str
    timeout_seconds: int
    keys: str


@dataclass(frozen=True)
class Record:
    max_seconds: int


@dataclass(frozen=True)
class Route:
    service_id: int
    key: str


@dataclass(frozen=True)
class Hangup:
    pass


Command = Answer | Play | Collect | Record | Route | Hangup


# Events the adapter reports.
@dataclass(frozen=True)
class Done:
    """The last command finished (a prompt played, the call answered, routed)."""


@dataclass(frozen=True)
class Key:
    key: str


@dataclass(frozen=True)
class Timeout:
    pass


@dataclass(frozen=True)
class Recorded:
    seconds: float


@dataclass(frozen=True)
class HungUp:
    pass


Event = Done | Key | Timeout | Recorded | HungUp


class Phase(enum.StrEnum):
    START = "start"
    ANSWERING = "answering"
    WELCOME = "welcome"
    MENU = "menu"
    ROUTING = "routing"
    CLOSED = "closed"
    UNANSWERED = "unanswered"
    RECORDING = "recording"
    ENDED = "ended"


class Outcome(enum.StrEnum):
    NONE = ""  # still in progress
    ROUTED = "routed"
    VOICEMAIL = "voicemail"
    MISSED = "missed"


@dataclass(frozen=True)
class CallState:
    plan: IvrPlan
    phase: Phase = Phase.START
    menus_played: int = 0
    outcome: Outcome = Outcome.NONE
    service_id: int | None = None
    voicemail_seconds: float = 0.0
    path: tuple[str, ...] = field(default=())

    @property
    def ended(self) -> bool:
        return self.phase == Phase.ENDED

    def _go(self, phase: Phase, *steps: str, **changes: object) -> CallState:
        return replace(self, phase=phase, path=self.path + steps, **changes)  # type: ignore[arg-type]


def start(plan: IvrPlan) -> tuple[CallState, list[Command]]:
    state = CallState(plan)._go(Phase.ANSWERING, "answered")
    return state, [Answer()]


def step(state: CallState, event: Event) -> tuple[CallState, list[Command]]:
    """The next state and the commands to carry out. An event that does not fit the phase
    (a late or replayed one) changes nothing; a hang-up always ends the call."""
    if state.ended:
        return state, []
    plan = state.plan
    if isinstance(event, HungUp):
        outcome = state.outcome or Outcome.MISSED
        return state._go(Phase.ENDED, "hangup", outcome=outcome), []
    match state.phase, event:
        case Phase.ANSWERING, Done():
            if not plan.within_hours:
                return _closed(state)
            if plan.welcome:
                return state._go(Phase.WELCOME, "welcome"), [Play(plan.welcome)]
            return _menu(state)
        case Phase.WELCOME, Done():
            return _menu(state)
        case Phase.MENU, Key(key=key) if plan.option(key) is not None:
            option = plan.option(key)
            assert option is not None
            return (state._go(Phase.ROUTING, f"key:{key}", outcome=Outcome.ROUTED,
                              service_id=option.service_id),
                    [Route(option.service_id, key)])
        case Phase.MENU, Key(key=key):
            return _menu(state._go(Phase.MENU, f"wrong-key:{key}"))
        case Phase.MENU, Timeout():
            return _menu(state._go(Phase.MENU, "timeout"))
        case Phase.ROUTING, Done():
            return state._go(Phase.ENDED, "queue"), []
        case Phase.CLOSED | Phase.UNANSWERED, Done():
            if plan.voicemail:
                return state._go(Phase.RECORDING, "voicemail"), [Record(plan.voicemail_seconds)]
            return state._go(Phase.ENDED, "hangup", outcome=Outcome.MISSED), [Hangup()]
        case Phase.RECORDING, Recorded(seconds=seconds):
            outcome = Outcome.VOICEMAIL if seconds > 0 else Outcome.MISSED
            return (state._go(Phase.ENDED, "hangup", outcome=outcome,
                              voicemail_seconds=seconds), [Hangup()])
    return state, []


def _menu(state: CallState) -> tuple[CallState, list[Command]]:
    plan = state.plan
    if not plan.options:  # nothing to choose: straight to the unanswered message
        return _unanswered(state)
    if state.menus_played > plan.repeats:
        return _unanswered(state)
    keys = "".join(o.key for o in plan.options)
    return (state._go(Phase.MENU, "menu", menus_played=state.menus_played + 1),
            [Collect(plan.menu, plan.timeout_seconds, keys)])


def _closed(state: CallState) -> tuple[CallState, list[Command]]:
    next_state = state._go(Phase.CLOSED, "closed")
    if state.plan.closed:
        return next_state, [Play(state.plan.closed)]
    return step(next_state, Done())


def _unanswered(state: CallState) -> tuple[CallState, list[Command]]:
    next_state = state._go(Phase.UNANSWERED, "unanswered")
    if state.plan.unanswered:
        return next_state, [Play(state.plan.unanswered)]
    return step(next_state, Done())
