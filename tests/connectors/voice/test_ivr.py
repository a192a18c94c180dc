"""The IVR state machine alone: every path a caller can take, and events that come late,
twice or out of order."""

from __future__ import annotations

import random

import pytest

from atende.connectors.voice import ivr

OPTIONS = (ivr.MenuOption("1", 10, "Suporte"), ivr.MenuOption("2", 20, "Financeiro"))


def plan(**changes: object) -> ivr.IvrPlan:
    base: dict[str, object] = {"within_hours": True, "options": OPTIONS, "repeats": 1,
                               "voicemail": True}
    return ivr.IvrPlan(**{**base, **changes})  # type: ignore[arg-type]


def run(p: ivr.IvrPlan, events: list[ivr.Event]) -> tuple[ivr.CallState, list[ivr.Command]]:
    state, commands = ivr.start(p)
    seen = list(commands)
    for event in events:
        state, commands = ivr.step(state, event)
        seen += commands
    return state, seen


def test_inside_hours_key_two_routes_to_the_second_service() -> None:
    state, commands = run(plan(), [ivr.Done(), ivr.Done(), ivr.Key("2"), ivr.Done()])
    assert commands == [ivr.Answer(), ivr.Play("welcome"), ivr.Collect("menu", 5, "12"),
                        ivr.Route(20, "2")]
    assert state.ended and state.outcome == ivr.Outcome.ROUTED and state.service_id == 20
    assert state.path == ("answered", "welcome", "menu", "key:2", "queue")


def test_outside_hours_plays_closed_then_records_voicemail() -> None:
    state, commands = run(plan(within_hours=False),
                          [ivr.Done(), ivr.Done(), ivr.Recorded(3.5)])
    assert commands == [ivr.Answer(), ivr.Play("closed"), ivr.Record(60), ivr.Hangup()]
    assert state.outcome == ivr.Outcome.VOICEMAIL and state.voicemail_seconds == 3.5


def test_timeouts_repeat_the_menu_then_the_unanswered_message_and_voicemail() -> None:
    state, commands = run(plan(repeats=1), [ivr.Done(), ivr.Done(), ivr.Timeout(),
                                            ivr.Timeout(), ivr.Done(), ivr.Recorded(0)])
    collects = [c for c in commands if isinstance(c, ivr.Collect)]
    assert len(collects) == 2  # the menu, then its one repeat
    assert ivr.Play("unanswered") in commands
    assert state.outcome == ivr.Outcome.MISSED  # an empty recording is no voicemail
    assert state.path.count("timeout") == 2


def test_a_wrong_key_repeats_the_menu() -> None:
    state, commands = run(plan(), [ivr.Done(), ivr.Done(), ivr.Key("7"), ivr.Key("1")])
    assert [c for c in commands if isinstance(c, ivr.Route)] == [ivr.Route(10, "1")]
    assert "wrong-key:7" in state.path


def test_without_voicemail_the_unanswered_call_hangs_up() -> None:
    state, commands = run(plan(voicemail=False, repeats=0),
                          [ivr.Done(), ivr.Done(), ivr.Timeout(), ivr.Done()])
    assert commands[-1] == ivr.Hangup() and state.outcome == ivr.Outcome.MISSED


@pytest.mark.parametrize("at", range(7))
def test_a_hang_up_at_any_step_ends_the_call_with_the_outcome_so_far(at: int) -> None:
    path = [ivr.Done(), ivr.Done(), ivr.Key("2"), ivr.Done()]
    state, _commands = run(plan(), [*path[:at], ivr.HungUp()])
    assert state.ended
    expected = ivr.Outcome.ROUTED if at >= 3 else ivr.Outcome.MISSED
    assert state.outcome == expected


def test_events_after_the_end_or_out_of_order_change_nothing() -> None:
    rng = random.Random(19)
    events: list[ivr.Event] = [ivr.Done(), ivr.Key("1"), ivr.Timeout(), ivr.Recorded(2),
                               ivr.Key("9")]
    for _ in range(200):
        state, _c = ivr.start(plan())
        for event in rng.choices(events, k=8):
            before = state
            state, commands = ivr.step(state, event)
            if state == before:
                assert commands == []
        ended, _c = ivr.step(state, ivr.HungUp())
        assert ended.ended
        assert ivr.step(ended, ivr.Key("1")) == (ended, [])
        assert ivr.step(ended, ivr.HungUp()) == (ended, [])


def test_a_plan_without_prompts_or_options_still_ends() -> None:
    state, commands = run(ivr.IvrPlan(True, (), welcome="", menu="", closed="",
                                      unanswered="", voicemail=False), [ivr.Done()])
    assert commands == [ivr.Answer(), ivr.Hangup()] and state.outcome == ivr.Outcome.MISSED
