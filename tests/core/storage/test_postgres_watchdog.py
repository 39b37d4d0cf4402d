"""The one thread that cuts PostgreSQL connections past their deadline."""

from __future__ import annotations

import threading

from backdrop.core.storage.postgres.watchdog import Watchdog


def test_alarms_run_in_due_order_and_a_cancelled_one_never_runs() -> None:
    watchdog = Watchdog()
    ran: list[str] = []
    done = threading.Event()
    watchdog.after(0.2, lambda: (ran.append("late"), done.set()))
    cancelled = watchdog.after(0.05, lambda: ran.append("cancelled"))
    watchdog.after(0.1, lambda: ran.append("early"))
    cancelled.cancel()
    assert done.wait(5)
    assert ran == ["early", "late"]


def test_an_alarm_due_before_the_one_being_waited_for_runs_first() -> None:
    watchdog = Watchdog()
    fired = threading.Event()
    watchdog.after(60, lambda: None)  # the thread now waits a minute
    watchdog.after(0.05, fired.set)
    assert fired.wait(5)
