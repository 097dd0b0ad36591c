"""A Ringostat emulator: the JSON-RPC endpoint over real HTTP, seeded with SIP status intervals.

It answers getCustomStatuses and getSipStatusDailyReport for its project, checks the Auth-key
header (401 without it), and merges each employee's SIPs by Ringostat's priority rule.
Control API on loopback: POST /_emulator/seed (replace the seed), PATCH /_emulator/config
({"malformed": true} answers with the reference's own invalid-JSON example; {"report_rows": [...]}
answers getSipStatusDailyReport with those rows verbatim, to serve malformed durations).
"""

import json
import threading
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from ..emulation import EmulatorApp
from .statuses import Interval, format_duration, merge_sips, seconds_by_status

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


class RingostatEmulator(EmulatorApp):
    """The emulated project: auth key, custom statuses and each SIP's status intervals."""

    title = "Ringostat emulator"
    home = RPC_PATH

    def __init__(self, seed: dict):
        super().__init__()
        self.lock = threading.Lock()
        self.load(seed)
        self.malformed = False
        self.report_rows: list | None = None  # rows served verbatim instead of the computed report

    def rules(self) -> list[Rule]:
        return [
            Rule(RPC_PATH, methods=["POST"], endpoint="rpc"),
            Rule("/_emulator/seed", methods=["POST"], endpoint="replace_seed"),
            Rule("/_emulator/config", methods=["PATCH"], endpoint="change_config"),
        ]

    def rpc(self, request: Request) -> Response:
        if self.malformed:
            return Response(REFERENCE_EXAMPLE, content_type=self.json_type)
        with self.lock:
            status, answer = self.answer(request.headers.get("Auth-key", ""), _body(request))
        return self.json(answer, status)

    def replace_seed(self, request: Request) -> Response:
        with self.lock:
            self.load(_body(request))
        return Response(status=204, content_type=self.json_type)

    def change_config(self, request: Request) -> Response:
        body = _body(request)
        self.malformed = bool(body.get("malformed", False))
        self.report_rows = body.get("report_rows")
        return self.json({"malformed": self.malformed, "report_rows": self.report_rows})

    def load(self, seed: dict) -> None:
        self.auth_key = seed["auth_key"]
        self.project_id = int(seed["project_id"])
        self.tz = ZoneInfo(seed.get("timezone", "UTC"))
        self.custom_statuses = seed.get("custom_statuses", [])
        self.intervals: defaultdict[str, list[Interval]] = defaultdict(list)  # employee -> intervals of all their SIPs
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


def _body(request: Request) -> Any:
    """The JSON body, or {} when it is not JSON (which `answer` then refuses as an unknown project)."""
    try:
        return json.loads(request.get_data() or b"{}")
    except ValueError:
        return {}
