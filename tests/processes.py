"""Stopping the worker processes a test started: SIGTERM (a worker finishes its task and exits),
then SIGKILL for any still running after ``grace`` seconds."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterable
from typing import Any


def stop_processes(processes: Iterable[subprocess.Popen[Any]], grace: float = 20) -> None:
    started = list(processes)
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in started:
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
