"""The listener's connection dropped for longer than the gateway's recovery window: the gateway forgets the
session (a recovery would Fail; the listener, which knows the window, does not ask), the listener subscribes
again and re-reads, and every drift made during the gap is put back once.

The window is the one the gateway announces in ConnectionDetails (`recoveryTimeout`), which is how
RingCentral tells it and the listener learns it. One case keeps RingCentral's real 180 s and drops the
connection for 4 minutes; the other has the gateway announce 20 s from the start and drops it for 27 s.
"""

import time

import pytest

from queues.models import AuditEntry

from . import test_listener_e2e as e2e
from .test_listener_e2e import ANN, SALES, ann_in_sales, connected, listener, live, settled, wait_for

emulator, stack = e2e.emulator, e2e.stack  # the same fixtures: the schedule applied, a worker, no beat

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BOB = "902"


def drift_corrections(**target) -> int:
    return AuditEntry.objects.filter(reason="drift correction", **target).count()


def writes(process, *fragments: str) -> list[dict]:
    return [r for r in process.requests() if r["method"] == "PUT" and any(f in r["path"] for f in fragments)]


@pytest.mark.parametrize(
    ("window", "outage"),
    [pytest.param(None, 240, id="real-180s-window-4min-drop"), pytest.param(20, 27, id="20s-window-27s-drop")],
)
def test_a_drop_past_the_recovery_window_subscribes_again_rereads_and_puts_back_each_drift_once(
    emulator, stack, window, outage
):
    if window is not None:
        emulator.configure(ws_recovery_timeout=window)  # announced in ConnectionDetails before the listener connects
    window = window or 180
    listener(stack)
    wait_for(lambda: settled(emulator, stack), what="the listener's session", stack=stack)
    emulator.clear_requests()
    started = time.monotonic()
    emulator.call("POST", "gateway/outage", json={"seconds": outage})

    def at(second: float) -> None:
        time.sleep(max(0.0, started + second - time.monotonic()))

    at(2)  # the gateway still keeps the session: this event waits for a recovery that will fail
    emulator.call("PUT", f"call-queues/{SALES}/members/{ANN}", json={"acceptCurrentQueueCalls": True})
    at(5)  # Bob switches himself on and back off: no drift is left, nothing to write
    emulator.call("PUT", f"call-queues/{SALES}/members/{BOB}", json={"acceptCurrentQueueCalls": True})
    at(8)
    emulator.call("PUT", f"call-queues/{SALES}/members/{BOB}", json={"acceptCurrentQueueCalls": False})
    at(window + 3)  # the gateway has forgotten the session: nothing could replay this one
    emulator.call("PUT", f"extensions/{ANN}/presence", json={"dndStatus": "TakeAllCalls"})
    assert connected(emulator) == 0  # still down: nothing was heard of the three changes
    assert drift_corrections() == 0

    def both_put_back() -> bool:
        return drift_corrections(queue__provider_id=SALES) == 1 and drift_corrections(queue__isnull=True) == 1

    wait_for(both_put_back, timeout=outage + 90, what="both corrections", stack=stack)
    wait_for(lambda: live() and connected(emulator) == 1, what="the new session", stack=stack)
    time.sleep(3)  # a late duplicate would show by now
    logs = stack.logs()
    # Past the window it knows, the listener does not ask to recover: it subscribes again, then re-reads.
    assert "(session 2)" in logs and "session recovered" not in logs
    assert [r for r in emulator.requests() if r["method"] == "GET" and r["path"].endswith(f"/{SALES}/presence")]
    assert not ann_in_sales(emulator)
    assert drift_corrections(agent__provider_id=ANN) == 2 and drift_corrections() == 2  # one per drift, not Bob
    assert AuditEntry.objects.filter(reason="drift correction", outcome="applied").count() == 2
    assert len(writes(emulator, f"/call-queues/{SALES}/presence", f"/extension/{ANN}/call-queue")) == 1
    assert len(writes(emulator, f"/extension/{ANN}/presence")) == 1
    assert not writes(emulator, f"/extension/{BOB}/")
