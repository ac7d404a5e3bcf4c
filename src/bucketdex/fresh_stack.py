"""Run a recursive library call (``json.loads``, ``json.dumps``) on a thread of its own.

How deep such a call may go then depends on the data alone, not on how deep the caller's own
stack already is, so every caller (job runner, server, SDK, a script) gets the same verdict.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def on_fresh_stack(func: Callable[[], T], name: str) -> T:
    """``func()``'s result, computed on a new thread; what it raises is raised here."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(func())
        except BaseException as error:  # handed to the caller's thread as it is
            failure.append(error)

    thread = threading.Thread(target=run, name=name)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return outcome[0]
