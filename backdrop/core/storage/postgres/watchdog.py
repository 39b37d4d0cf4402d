"""One thread per process that runs the actions of every pending ``Deadline``.

A ``threading.Timer`` per database call started a thread each time, which
cost more than a cached read's whole query; here a deadline is one heap entry
and cancelling it is a flag. The thread is started on first use in each
process (gunicorn forks after the app is built, and threads do not survive
a fork).
"""

from __future__ import annotations

import heapq
import itertools
import os
import threading
import time
from collections.abc import Callable


class Alarm:
    """One pending action; ``cancel`` before it is due and it never runs."""

    __slots__ = ("due", "order", "action", "live")

    def __init__(self, due: float, order: int, action: Callable[[], None]):
        self.due, self.order, self.action, self.live = due, order, action, True

    def __lt__(self, other: Alarm) -> bool:
        return (self.due, self.order) < (other.due, other.order)

    def cancel(self) -> None:
        self.live = False


class Watchdog:
    def __init__(self) -> None:
        self._pid: int | None = None
        self._order = itertools.count()

    def _start(self) -> None:
        """A fresh heap, condition and thread for this process."""
        self._condition = threading.Condition()
        self._alarms: list[Alarm] = []
        self._pid = os.getpid()
        threading.Thread(target=self._run, name="backdrop-pg-deadlines", daemon=True).start()

    def after(self, seconds: float, action: Callable[[], None]) -> Alarm:
        """Run ``action`` (quick, never raising) in ``seconds`` unless cancelled."""
        if self._pid != os.getpid():
            self._start()
        alarm = Alarm(time.monotonic() + seconds, next(self._order), action)
        with self._condition:
            heapq.heappush(self._alarms, alarm)
            if self._alarms[0] is alarm:
                self._condition.notify()
        return alarm

    def _run(self) -> None:
        alarms, condition = self._alarms, self._condition
        while True:
            with condition:
                while alarms and not alarms[0].live:
                    heapq.heappop(alarms)
                if not alarms:
                    condition.wait()
                    continue
                delay = alarms[0].due - time.monotonic()
                if delay > 0:
                    condition.wait(delay)
                    continue
                alarm = heapq.heappop(alarms)
            if alarm.live:
                alarm.action()


WATCHDOG = Watchdog()
