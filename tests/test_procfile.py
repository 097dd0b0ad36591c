"""scheduler.procfile, `make run`'s wrapper: a stop asked for is exit 0 within honcho's patience; else the code."""

import signal
import subprocess
import sys
import time

from scheduler.procfile import STOP_WITHIN

WRAP = [sys.executable, "-m", "scheduler.procfile"]


def started(*command: str) -> subprocess.Popen:
    process = subprocess.Popen([*WRAP, *command], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == "up"
    return process


def test_its_own_exit_code_passes_through():
    assert subprocess.run([*WRAP, sys.executable, "-c", "raise SystemExit(3)"]).returncode == 3


def test_a_stop_asked_for_is_exit_0():
    process = started(sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)")
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=10) == 0


def test_a_process_that_will_not_stop_is_killed_within_honchos_patience():
    ignore = "import signal, subprocess, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN)"
    child = f"{ignore}; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
    process = started(sys.executable, "-c", child + "print('up', flush=True); time.sleep(60)")
    began = time.monotonic()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
    assert time.monotonic() - began < STOP_WITHIN + 1.5  # honcho kills at 5 s


def test_without_a_command_it_says_how_to_use_it():
    result = subprocess.run(WRAP, capture_output=True, text=True)
    assert result.returncode == 2 and "usage:" in result.stderr
