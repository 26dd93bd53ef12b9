"""In-process wake-ups: a watcher of an agent is woken by that agent's turn ends only."""

import asyncio

from agentbatch.engine.signals import EngineSignals


async def test_a_watcher_is_woken_by_its_agents_turn_end_only() -> None:
    signals = EngineSignals()
    with signals.watch_agent("a1") as a1, signals.watch_agent("a2") as a2:
        signals.notify_turn_ended("a1")

        assert a1.is_set() and not a2.is_set()
        assert signals.watching("a1") == 1


async def test_an_end_while_the_watcher_looks_is_not_missed() -> None:
    signals = EngineSignals()
    with signals.watch_agent("a1") as ended:
        ended.clear()  # the watcher starts looking at the agent's items
        signals.notify_turn_ended("a1")  # a turn ends meanwhile

        await asyncio.wait_for(ended.wait(), timeout=1)


def test_a_finished_watch_leaves_nothing_behind() -> None:
    signals = EngineSignals()
    with signals.watch_agent("a1"), signals.watch_agent("a1"):
        assert signals.watching("a1") == 2
    assert signals.watching("a1") == 0
    signals.notify_turn_ended("a1")  # no one listening: nothing to wake


def test_listeners_hear_work_cancels_and_turn_ends() -> None:
    signals = EngineSignals()
    heard: list[str] = []
    signals.on_work(lambda: heard.append("work"))
    signals.on_cancel(lambda batch: heard.append(f"cancel {batch}"))
    signals.on_turn_ended(lambda agent: heard.append(f"ended {agent}"))

    signals.notify_work()
    signals.notify_cancel("b1")
    signals.notify_turn_ended("a1")

    assert heard == ["work", "cancel b1", "ended a1"]
