"""Stopping the worker processes a test started: SIGTERM (a worker finishes its task and exits),
then SIGKILL for any still running after ``grace`` seconds; those are returned."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterable
from typing import Any


def stop_processes(
    processes: Iterable[subprocess.Popen[Any]], grace: float = 20
) -> list[subprocess.Popen[Any]]:
    started = list(processes)
    killed = []
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in started:
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            killed.append(process)
    return killed
