"""The Ringostat client: JSON-RPC 2.0 over HTTP with the `Auth-key` header.

Every call leaves through `_call`, which turns transport failures, HTTP errors, bodies that are
not JSON (Ringostat's own documented example answer is not) and JSON-RPC errors into ProviderError.
"""

import itertools
import logging
from dataclasses import dataclass
from datetime import date, timedelta

import requests
from django.conf import settings

from integrations.base import ProviderError, ProviderName

from .statuses import parse_duration

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CustomStatus:
    id: int
    title: str


@dataclass(frozen=True, slots=True)
class SipStatusRow:
    """One employee's seconds in each status over the report's days (SIPs merged by Ringostat's rule)."""

    employee: str
    online: int
    offline: int
    dnd: int = 0
    speaking: int = 0

    @property
    def working(self) -> int:
        """Seconds online or speaking: the time that counts as present for adherence."""
        return self.online + self.speaking

    @classmethod
    def from_api(cls, row) -> "SipStatusRow":
        if not isinstance(row, dict) or not isinstance(row.get("employee"), str):
            raise ValueError(f"row {row!r} has no employee")
        optional = {k: parse_duration(row[k], field=k) for k in ("dnd", "speaking") if k in row}
        return cls(
            employee=row["employee"],
            online=parse_duration(row.get("online"), field="online"),
            offline=parse_duration(row.get("offline"), field="offline"),
            **optional,
        )


class RingostatClient:
    """Custom statuses and the SIP status daily report of one Ringostat project."""

    name = ProviderName.RINGOSTAT

    def __init__(self, api_url: str, auth_key: str, *, timeout: tuple[float, float] = (5.0, 30.0)):
        self.api_url = api_url
        self._auth_key = auth_key
        self.timeout = timeout
        self._session = requests.Session()
        self._ids = itertools.count(1)

    def __repr__(self):
        return f"<RingostatClient {self.api_url}>"

    def custom_statuses(self, project_id: int) -> list[CustomStatus]:
        """Every custom status of the project."""
        result = self._call("getCustomStatuses", {"projectId": project_id})
        try:
            return [CustomStatus(id=int(s["id"]), title=str(s["title"])) for s in result]
        except (TypeError, KeyError, ValueError) as error:
            raise ProviderError(f"getCustomStatuses: malformed status list: {error}", code="malformed") from error

    def sip_status_report(self, project_id: int, date_from: date, date_to: date) -> list[SipStatusRow]:
        """Each employee's time per status over [date_from, date_to] (whole days, the project's zone)."""
        params = {"projectId": project_id, "filter": {"from": date_from.isoformat(), "to": date_to.isoformat()}}
        result = self._call("getSipStatusDailyReport", params)
        if not isinstance(result, list):
            raise ProviderError("getSipStatusDailyReport: result is not a list", code="malformed")
        try:
            return [SipStatusRow.from_api(row) for row in result]
        except ValueError as error:
            raise ProviderError(f"getSipStatusDailyReport: {error}", code="malformed") from error

    def daily_report(self, project_id: int, first: date, last: date) -> dict[date, list[SipStatusRow]]:
        """The report day by day (one call each): the answer carries no dates, so a range would merge days."""
        days = (first + timedelta(days=n) for n in range((last - first).days + 1))
        return {day: self.sip_status_report(project_id, day, day) for day in days}

    def _call(self, method: str, params: dict):
        """One JSON-RPC call; its `result`, or ProviderError."""
        request_id = next(self._ids)
        body = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
        try:
            response = self._session.post(
                self.api_url, json=body, headers={"Auth-key": self._auth_key}, timeout=self.timeout
            )
        except (requests.ConnectionError, requests.Timeout) as error:
            raise ProviderError(f"{method}: {type(error).__name__} talking to Ringostat") from error
        logger.debug("Ringostat %s -> HTTP %s", method, response.status_code)
        if response.status_code == 401:
            raise ProviderError(f"{method}: Ringostat refused the Auth-key", status=401, code="auth", permanent=True)
        if response.status_code >= 400:
            permanent = response.status_code < 500 and response.status_code != 429
            raise ProviderError(
                f"{method}: Ringostat answered an error", status=response.status_code, permanent=permanent
            )
        return _result(method, response)


def _result(method: str, response: requests.Response):
    """The `result` of a JSON-RPC answer; a malformed body or a JSON-RPC error is a ProviderError."""
    try:
        answer = response.json()
    except ValueError as error:
        raise ProviderError(
            f"{method}: Ringostat's answer is not valid JSON ({error})", status=response.status_code, code="malformed"
        ) from error
    if not isinstance(answer, dict):
        raise ProviderError(f"{method}: Ringostat's answer is not a JSON-RPC object", code="malformed")
    if "error" in answer:
        failure = answer["error"] if isinstance(answer["error"], dict) else {"message": str(answer["error"])}
        raise ProviderError(
            f"{method}: {failure.get('message', 'failed')}", code=str(failure.get("code", "")), permanent=True
        )
    if "result" not in answer:
        raise ProviderError(f"{method}: Ringostat's answer has no result", code="malformed")
    return answer["result"]


def client_from_settings() -> RingostatClient:
    """A client from the RINGOSTAT_* settings."""
    return RingostatClient(settings.RINGOSTAT_API_URL, settings.RINGOSTAT_AUTH_KEY)
