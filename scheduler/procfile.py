"""`make run`'s Procfile wrapper: a process that stops in one clean step when honcho stops it.

    python -m scheduler.procfile celery -A scheduler worker ...

honcho stops a process by signalling its whole process group, so a Celery worker's pool children
die under their parent, which logs each death as an ERROR, and the stop looks like a crash. Here
the process runs in its own session: Ctrl-C or SIGTERM reaches it once, as SIGTERM (Celery's warm
shutdown), it stops its own children, and what is left of its session (runserver's reloaded child)
is stopped after it. A stop that was asked for ends with exit 0.

honcho kills what has not stopped 5 s after the first process stopped, and a Celery worker on the
embedded SQLite broker takes 5 to 7 s to finish its warm shutdown (its polling loop, then its pool).
So a process still stopping after STOP_WITHIN seconds is killed here, with its whole session, before
honcho's kill can leave its children behind: task acks are late, so an unfinished task is delivered
again at the next start. Should this wrapper itself be killed, the kernel kills the process too
(PR_SET_PDEATHSIG).
"""

import ctypes
import os
import signal
import subprocess
import sys
import time

PR_SET_PDEATHSIG = 1
STOP_WITHIN = 3.5  # seconds: inside honcho's 5


def _die_with_parent() -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: honcho's SIGKILL then reaches only this wrapper
        pass


def _signal_session(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def main(argv: list[str]) -> int:
    """Run argv until it ends, or until asked to stop; the exit code honcho should see."""
    if not argv:
        print("usage: python -m scheduler.procfile COMMAND [ARGS...]", file=sys.stderr)
        return 2
    child = subprocess.Popen(argv, start_new_session=True, preexec_fn=_die_with_parent)
    asked: list[float] = []  # when the stop was asked for

    def stop(signum, frame):
        if not asked:
            asked.append(time.monotonic())
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while True:
        try:
            code = child.wait(timeout=0.2)
            break
        except subprocess.TimeoutExpired:
            if asked and time.monotonic() - asked[0] > STOP_WITHIN:
                _signal_session(child.pid, signal.SIGKILL)
    _signal_session(child.pid, signal.SIGTERM)  # whatever it left in its session
    if asked:
        return 0
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
