"""A Ringostat emulator: the JSON-RPC endpoint over real HTTP, seeded with SIP status intervals.

It answers getCustomStatuses and getSipStatusDailyReport for its project, checks the Auth-key
header (401 without it), and merges each employee's SIPs by Ringostat's priority rule.
Control API on loopback: POST /_emulator/seed (replace the seed), PATCH /_emulator/config
({"malformed": true} answers with the reference's own invalid-JSON example; {"report_rows": [...]}
answers getSipStatusDailyReport with those rows verbatim, to serve malformed durations).
"""

import json
import logging
import threading
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from .statuses import Interval, format_duration, merge_sips, seconds_by_status

logger = logging.getLogger(__name__)
DEMO_SEED = Path(__file__).with_name("demo_seed.yaml")
RPC_PATH = "/a/v2"
# Ringostat's documented example answer, verbatim in shape: a trailing "id" inside the array. Not JSON.
REFERENCE_EXAMPLE = """{
"jsonrpc": "2.0",
"result": [
{"employee": "TEST CY", "online": "01:31:55", "offline": "10:13:15"},
{"employee": "AI IVR Test", "online": "11:44:49", "offline": "00:00:21"}
"id": 1
],
}"""


class RingostatEmulator:
    """The emulated project: auth key, custom statuses and each SIP's status intervals."""

    def __init__(self, seed: dict):
        self.load(seed)
        self.malformed = False
        self.report_rows = None  # rows served verbatim instead of the computed report

    def load(self, seed: dict) -> None:
        self.auth_key = seed["auth_key"]
        self.project_id = int(seed["project_id"])
        self.tz = ZoneInfo(seed.get("timezone", "UTC"))
        self.custom_statuses = seed.get("custom_statuses", [])
        self.intervals = defaultdict(list)  # employee -> intervals of all their SIPs
        for sip in seed.get("sips", []):
            for start, end, status in sip["intervals"]:
                self.intervals[sip["employee"]].append(Interval(self._at(start), self._at(end), status))

    def _at(self, local) -> datetime:
        moment = local if isinstance(local, datetime) else datetime.fromisoformat(str(local))
        return moment.replace(tzinfo=self.tz) if moment.tzinfo is None else moment

    def answer(self, auth_key: str, request: dict) -> tuple[int, dict]:
        """HTTP status and JSON-RPC answer for one request."""
        if auth_key != self.auth_key:
            return 401, {"error": "Unauthorized"}
        request_id, method, params = request.get("id"), request.get("method"), request.get("params") or {}
        if params.get("projectId") != self.project_id:
            return 200, _error(request_id, -32602, "Unknown projectId")
        if method == "getCustomStatuses":
            return 200, {"jsonrpc": "2.0", "id": request_id, "result": self.custom_statuses}
        if method == "getSipStatusDailyReport":
            try:
                first, last = (date.fromisoformat(params["filter"][k]) for k in ("from", "to"))
            except (KeyError, TypeError, ValueError):
                return 200, _error(request_id, -32602, "filter.from and filter.to must be dates (YYYY-MM-DD)")
            rows = self.report_rows if self.report_rows is not None else self.report(first, last)
            return 200, {"jsonrpc": "2.0", "id": request_id, "result": rows}
        return 200, _error(request_id, -32601, f"Method not found: {method}")

    def report(self, first: date, last: date) -> list[dict]:
        """Per employee, time in each status over whole local days [first, last]."""
        start = datetime.combine(first, time(), self.tz)
        end = datetime.combine(last + timedelta(days=1), time(), self.tz)
        rows = []
        for employee, intervals in sorted(self.intervals.items()):
            totals = seconds_by_status(merge_sips(intervals), start, end)
            if any(totals.values()):
                rows.append({"employee": employee, **{k: format_duration(v) for k, v in totals.items()}})
        return rows


def _error(request_id, code: int, message: str) -> dict:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}


def read_seed(path) -> dict:
    """A seed from a YAML (or JSON) file."""
    return yaml.safe_load(Path(path).read_text())


class _Handler(BaseHTTPRequestHandler):
    emulator: RingostatEmulator
    lock: threading.Lock

    def do_POST(self):
        body = self._body()
        if self.path == "/_emulator/seed":
            with self.lock:
                self.emulator.load(body)
            return self._send(204)
        if self.path != RPC_PATH:
            return self._send(404, {"error": "Not found"})
        if self.emulator.malformed:
            return self._send_raw(200, REFERENCE_EXAMPLE.encode())
        with self.lock:
            status, answer = self.emulator.answer(self.headers.get("Auth-key", ""), body)
        self._send(status, answer)

    def do_PATCH(self):
        if self.path != "/_emulator/config":
            return self._send(404, {"error": "Not found"})
        body = self._body()
        self.emulator.malformed = bool(body.get("malformed", False))
        self.emulator.report_rows = body.get("report_rows")
        self._send(200, {"malformed": self.emulator.malformed, "report_rows": self.emulator.report_rows})

    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            return json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            return {}

    def _send(self, status: int, body: dict | None = None):
        self._send_raw(status, json.dumps(body).encode() if body is not None else b"")

    def _send_raw(self, status: int, payload: bytes):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format, *args):  # noqa: A002 - BaseHTTPRequestHandler's signature
        logger.debug("ringostat emulator: " + format, *args)


def make_server(emulator: RingostatEmulator, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """An HTTP server for the emulator (port 0: a free one); call serve_forever() or serve_in_thread()."""
    handler = type("Handler", (_Handler,), {"emulator": emulator, "lock": threading.Lock()})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


class EmulatorThread:
    """The emulator served from a thread of this process: a context manager with `.url` and `.emulator`."""

    def __init__(self, seed: dict):
        self.emulator = RingostatEmulator(seed)
        self.server = make_server(self.emulator)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.rpc_url = self.url + RPC_PATH

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
