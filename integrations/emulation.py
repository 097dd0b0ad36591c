"""The small base every provider emulator stands on: a routed WSGI app and one threaded server.

An emulator lists its API and control rules (werkzeug.routing), answers JSON, and speaks its
provider's error shape by overriding `error`. Its control API, under /_emulator/, answers
loopback clients only: tests steer the emulator with it, and nobody else may.
"""

import functools
import ipaddress
import json
import logging
from collections.abc import Callable, Iterable
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import yaml
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

logger = logging.getLogger(__name__)
CONTROL_PREFIX = "/_emulator/"


class EmulatorApp:
    """A provider emulator as a WSGI app: `rules()` name handler methods, which return Responses."""

    title: ClassVar[str]  # how the start-up line names it, e.g. "Ringostat emulator"
    home: ClassVar[str] = ""  # the path the start-up line points at
    json_indent: ClassVar[int | None] = None
    json_type: ClassVar[str] = "application/json"

    def __init__(self) -> None:
        self._urls = Map(self.rules(), merge_slashes=False).bind("emulator")

    def rules(self) -> list[Rule]:
        """The routes: each Rule's endpoint names a method taking (request, **arguments)."""
        raise NotImplementedError

    def __call__(self, environ: "WSGIEnvironment", start_response: "StartResponse") -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self.control(request) if request.path.startswith(CONTROL_PREFIX) else self.api(request)
        except Exception:
            logger.exception("The %s failed on %s %s", self.title, request.method, request.path)
            response = self.error(500, "Internal Server Error")
        response.status = f"{response.status_code} {HTTPStatus(response.status_code).phrase}"
        return response(environ, start_response)

    def api(self, request: Request) -> Response:
        """Answer a provider API request; emulators wrap this with auth, limits and faults."""
        return self.dispatch(request)

    def control(self, request: Request) -> Response:
        """Answer a control request, from loopback clients only."""
        client = request.remote_addr
        if client is None or not ipaddress.ip_address(client).is_loopback:
            return self.error(403, "The emulator's control API answers loopback clients only")
        return self.dispatch(request)

    def dispatch(self, request: Request) -> Response:
        """Answer with the handler the rules name, or `error(404)` when none does."""
        handler = self.handler(request)
        return handler() if handler else self.error(404, "Not found")

    def handler(self, request: Request) -> Callable[[], Response] | None:
        """The method the rules name for this path and method, bound to the request; None when none does."""
        try:
            endpoint, arguments = self._urls.match(request.path, request.method)
        except HTTPException:  # no such path, or not with this method: both are "not found" here
            return None
        return functools.partial(getattr(self, str(endpoint)), request, **arguments)

    def json(self, body: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        """A JSON answer in this provider's dialect."""
        payload = json.dumps(body, indent=self.json_indent)
        return Response(payload, status=status, headers=headers, content_type=self.json_type)

    def error(self, status: int, message: str) -> Response:
        """An error in this provider's shape; emulators override it."""
        return self.json({"error": message}, status)


class _Handler(WSGIRequestHandler):
    """Werkzeug's handler (one request per connection: it drains the socket after each), quieter."""

    disable_nagle_algorithm = True  # headers and body go out in separate writes; don't hold the body back

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        logger.debug("%s %s %s", self.command, self.path, code)


def serve(app: "WSGIApplication", host: str = "127.0.0.1", port: int = 0) -> BaseWSGIServer:
    """A threaded server for an emulator; port 0 picks a free one (see server.server_port)."""
    return make_server(host, port, app, threaded=True, request_handler=_Handler)


def read_seed(path: str | Path) -> Any:
    """A seed from a YAML (or JSON) file."""
    return yaml.safe_load(Path(path).read_text())
