"""The RingPlan REST client: contacts and their extensions, instances' extensions, webhook registration.

Every request leaves through `_request`, which adds `Authorization: Bearer <key>` and `X-User-Id`
and turns failures (401, RingPlan's error bodies, bodies that are not JSON) into ProviderError.
"""

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

import requests
from django.conf import settings

from integrations.base import ProviderError, ProviderName

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Extension:
    id: str  # RingPlan's internal id (_id)
    number: str  # the extension number, e.g. "1001"
    name: str = ""

    @classmethod
    def from_api(cls, data) -> "Extension":
        if not isinstance(data, dict) or "_id" not in data:
            raise ValueError(f"extension {data!r} has no _id")
        inner = data.get("data")
        if not isinstance(inner, dict):
            inner = {}
        number = inner.get("extension", inner.get("id", data.get("number", "")))
        return cls(id=str(data["_id"]), number=str(number), name=str(inner.get("name") or data.get("name") or ""))


@dataclass(frozen=True, slots=True)
class Contact:
    id: str
    first_name: str
    last_name: str
    email: str = ""
    activated: bool = True
    extensions: tuple[Extension, ...] = field(default=())

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @classmethod
    def from_api(cls, data) -> "Contact":
        if not isinstance(data, dict) or not data.get("id"):
            raise ValueError(f"contact {data!r} has no id")
        return cls(
            id=str(data["id"]),
            first_name=str(data.get("first_name") or ""),
            last_name=str(data.get("last_name") or ""),
            email=str((data.get("contacts") or {}).get("email") or ""),
            activated=bool(data.get("activated", True)),
        )


class RingPlanClient:
    """RingPlan's company directory and webhooks, acting as one user (X-User-Id)."""

    name = ProviderName.RINGPLAN

    def __init__(
        self, api_url: str, api_key: str, user_id: str = "primary", *, page_size: int = 50, timeout=(5.0, 30.0)
    ):
        self.api_url = api_url.rstrip("/")
        self._api_key = api_key
        self.user_id = user_id
        self.page_size = page_size
        self.timeout = timeout
        self._session = requests.Session()

    def __repr__(self):
        return f"<RingPlanClient {self.api_url} as {self.user_id}>"

    def contacts(self) -> list[Contact]:
        """Every contact of the company, page after page (a short or empty page, or 204, ends the list)."""
        return [Contact.from_api(c) for c in self._pages_by_length("/system/company/contacts", "items_per_page")]

    def contact_extensions(self, contact_id: str) -> list[Extension]:
        """The extensions assigned to one contact."""
        return self._parse(Extension, self._json("GET", f"/account/{contact_id}/extensions"))

    def contacts_with_extensions(self) -> list[Contact]:
        """Every contact with its extensions (one call for the list pages, one per contact)."""
        return [
            Contact(c.id, c.first_name, c.last_name, c.email, c.activated, tuple(self.contact_extensions(c.id)))
            for c in self.contacts()
        ]

    def instance_extensions(self, instance_uuid: str) -> list[Extension]:
        """Every extension of a PBX instance, following the X-Pagination-* headers."""
        found, page = [], 1
        while True:
            params = {"page": page, "page_size": self.page_size}
            response = self._request("GET", f"/instances/{instance_uuid}/bulks/extensions", params=params)
            found += self._parse(Extension, _json_body(response))
            if page >= _header_int(response, "X-Pagination-Page-Count"):
                return found
            page += 1

    def webhook_url(self) -> str:
        return str(self._json("GET", "/webhooks/callbacks/url").get("url", ""))

    def set_webhook_url(self, url: str) -> None:
        self._json("PUT", "/webhooks/callbacks/url", json={"url": url})

    def webhook_subscriptions(self) -> list[str]:
        """The subscribed event types."""
        return [str(e.get("type")) for e in self._json("GET", "/webhooks/callbacks")]

    def subscribe(self, event_type: str) -> None:
        self._json("POST", "/webhooks/callbacks", json={"type": event_type})

    # ------------------------------------------------------------------ helpers

    def _pages_by_length(self, path: str, size_param: str) -> Iterator[dict]:
        page = 1
        while True:
            response = self._request("GET", path, params={"page": page, size_param: self.page_size})
            items = [] if response.status_code == 204 else _json_body(response)
            if not isinstance(items, list):
                raise ProviderError(f"GET {path}: expected a list", code="malformed")
            yield from items
            if len(items) < self.page_size:
                return
            page += 1

    def _parse(self, kind, items) -> list:
        if not isinstance(items, list):
            raise ProviderError(f"expected a list of {kind.__name__.lower()}s", code="malformed")
        try:
            return [kind.from_api(item) for item in items]
        except ValueError as error:
            raise ProviderError(f"malformed {kind.__name__.lower()}: {error}", code="malformed") from error

    def _json(self, method: str, path: str, **kwargs):
        return _json_body(self._request(method, path, **kwargs))

    def _request(self, method: str, path: str, *, params=None, json=None) -> requests.Response:
        """One call with the key and acting user; ProviderError unless it succeeded."""
        headers = {"Authorization": f"Bearer {self._api_key}", "X-User-Id": self.user_id, "Accept": "application/json"}
        try:
            response = self._session.request(
                method, self.api_url + path, params=params, json=json, headers=headers, timeout=self.timeout
            )
        except (requests.ConnectionError, requests.Timeout) as error:
            raise ProviderError(f"{method} {path}: {type(error).__name__} talking to RingPlan") from error
        logger.debug("RingPlan %s %s -> HTTP %s", method, path, response.status_code)
        if response.status_code == 401:
            raise ProviderError(
                f"{method} {path}: RingPlan refused the API key or X-User-Id", status=401, code="auth", permanent=True
            )
        if response.status_code >= 400:
            raise _error(f"{method} {path}", response)
        return response


def _json_body(response: requests.Response):
    try:
        return response.json()
    except ValueError as error:
        raise ProviderError(
            f"{response.request.method} {response.request.path_url}: RingPlan's answer is not valid JSON ({error})",
            status=response.status_code,
            code="malformed",
        ) from error


def _header_int(response: requests.Response, name: str) -> int:
    try:
        return int(response.headers[name])
    except (KeyError, ValueError):
        raise ProviderError(f"RingPlan's answer lacks a numeric {name} header", code="malformed") from None


def _error(what: str, response: requests.Response) -> ProviderError:
    """A ProviderError from RingPlan's error body (detail, status, title)."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    status = response.status_code
    message = body.get("detail") or body.get("title") or "failed"
    permanent = 400 <= status < 500 and status not in (408, 429)
    return ProviderError(f"{what}: {message}", status=status, code=str(body.get("title", "")), permanent=permanent)


def client_from_settings() -> RingPlanClient:
    """A client from the RINGPLAN_* settings."""
    return RingPlanClient(settings.RINGPLAN_API_URL, settings.RINGPLAN_API_KEY, settings.RINGPLAN_USER_ID)
