"""The playground's server: the standard library's HTTP server, the page's own files, and a
small JSON API over ``engine.Playground``.

    GET  /                          the page (and its modules *.js and style.css: nothing else)
    GET  /api/config                the defaults, choices and limits the page offers
    POST /api/session               {settings, points?}  -> a new session: its points, a frame
    POST /api/step                  {session, epochs}    -> train, then a frame
    POST /api/explain               {session, layer, unit, sample} -> one neuron's equations
    GET  /api/export?session=ID&format=npz|safetensors   -> the trained model, as a file
    GET  /api/points.csv?session=ID                      -> the points' features and labels

Secure by default: it binds 127.0.0.1; it answers only requests whose Host header names the
server itself (a page on another site cannot reach it through DNS rebinding) and whose Origin,
when sent, is the page's own; a POST must be JSON and at most 1 MiB; sessions are bounded in
number and size; every response forbids the page to load anything from elsewhere.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
import tempfile
import threading
from collections import OrderedDict
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np

from .engine import (
    MAX_POINTS,
    Playground,
    Settings,
    SettingsError,
    command_line,
    page_config,
    python_code,
)

MAX_BODY = 1 << 20  # bytes of a request body
MAX_SESSIONS = 32  # the oldest session is dropped when a new one would exceed this
MAX_EPOCHS_PER_STEP = 50
KINDS = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8"}
# the page's own files, and nothing else: index.html at /, each module and the style sheet
STATIC = {("/" if entry.name == "index.html" else f"/{entry.name}"):
          (entry.name, KINDS[Path(entry.name).suffix])
          for entry in resources.files("nnscratch.play").joinpath("static").iterdir()
          if Path(entry.name).suffix in KINDS}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; "
                               "style-src 'self'; script-src 'self'; connect-src 'self'; "
                               "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class RequestError(Exception):
    """An API request that cannot be served: the status and a message for the page."""

    def __init__(self, status: HTTPStatus, message: str):
        super().__init__(message)
        self.status = status


class PlayServer(ThreadingHTTPServer):
    """The HTTP server, holding the sessions (one Playground per page)."""

    daemon_threads = True

    def __init__(self, host: str = "127.0.0.1", port: int = 8000):
        super().__init__((host, port), PlayHandler)
        self.sessions: OrderedDict[str, tuple[threading.Lock, Playground]] = OrderedDict()
        self.sessions_lock = threading.Lock()
        self.bound_host = host

    @property
    def url(self) -> str:
        host = str(self.server_address[0])
        shown = f"[{host}]" if ":" in host else host
        if shown in ("0.0.0.0", "[::]"):
            shown = "127.0.0.1"
        return f"http://{shown}:{self.server_address[1]}/"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A connection that broke outside a request's handling (the page went away) is
        normal: nothing is printed (the library never prints), and the server goes on."""

    def allows_host(self, header: str | None) -> bool:
        """Whether a Host header names this server: 127.0.0.1, localhost or [::1] with its
        port, the host it was bound to, or (bound to all interfaces) any IP address literal.
        A DNS name other than localhost is refused: that is what DNS rebinding needs."""
        if not header:
            return False
        port = self.server_address[1]
        host, _, given_port = header.rpartition(":") if not header.endswith("]") \
            else (header, "", "")
        if given_port != str(port):
            return False
        if host in ("127.0.0.1", "localhost", "[::1]", self.bound_host):
            return True
        if self.bound_host in ("0.0.0.0", "::", ""):
            try:
                ipaddress.ip_address(host.strip("[]"))
            except ValueError:
                return False
            return True
        return False

    def new_session(self, playground: Playground) -> str:
        session = secrets.token_urlsafe(16)
        with self.sessions_lock:
            self.sessions[session] = (threading.Lock(), playground)
            while len(self.sessions) > MAX_SESSIONS:
                self.sessions.popitem(last=False)
        return session

    def session(self, session: Any) -> tuple[threading.Lock, Playground]:
        with self.sessions_lock:
            if not isinstance(session, str) or session not in self.sessions:
                raise RequestError(HTTPStatus.NOT_FOUND, "unknown or expired session: reload")
            self.sessions.move_to_end(session)
            return self.sessions[session]


class PlayHandler(BaseHTTPRequestHandler):
    server: PlayServer
    server_version = "nnscratch-play"
    timeout = 30  # seconds a connection may sit idle or trickle a request in

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass  # the library never prints; the CLI reports what matters

    # -- dispatch

    def do_GET(self) -> None:  # noqa: N802 - the standard library's name
        self._serve(self._get)

    def do_POST(self) -> None:  # noqa: N802
        self._serve(self._post)

    def _serve(self, handle: Any) -> None:
        try:
            if not self.server.allows_host(self.headers.get("Host")):
                raise RequestError(HTTPStatus.FORBIDDEN, "this server answers only requests "
                                                         "addressed to it (Host header)")
            origin = self.headers.get("Origin")
            if origin is not None and not self.server.allows_host(urlsplit(origin).netloc):
                raise RequestError(HTTPStatus.FORBIDDEN, "cross-origin requests are refused")
            handle()
        except RequestError as error:
            self._json({"error": str(error)}, error.status)
        except SettingsError as error:
            self._json({"error": str(error)}, HTTPStatus.BAD_REQUEST)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the page went away
        except Exception as error:  # a server boundary: the page is told, the server goes on
            self._json({"error": f"internal error ({type(error).__name__}: {error})"},
                       HTTPStatus.INTERNAL_SERVER_ERROR)

    def _get(self) -> None:
        parts = urlsplit(self.path)
        if parts.path in STATIC:
            name, kind = STATIC[parts.path]
            body = resources.files("nnscratch.play").joinpath("static", name).read_bytes()
            self._send(body, kind)
        elif parts.path == "/api/config":
            self._json(page_config())
        elif parts.path == "/api/export":
            query = parse_qs(parts.query)
            lock, playground = self.server.session(query.get("session", [None])[0])
            kind = query.get("format", ["npz"])[0]
            if kind not in ("npz", "safetensors"):
                raise RequestError(HTTPStatus.BAD_REQUEST, "format must be npz or safetensors")
            with lock, tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / f"playground.{kind}"
                playground.network.save(path, metadata={
                    "playground": playground.settings.to_dict(), "epoch": playground.epoch})
                body = path.read_bytes()
            self._send(body, "application/octet-stream",
                       {"Content-Disposition": f'attachment; filename="playground.{kind}"'})
        elif parts.path == "/api/points.csv":
            lock, playground = self.server.session(parse_qs(parts.query).get("session",
                                                                               [None])[0])
            with lock:
                body = _points_csv(playground).encode("utf-8")
            self._send(body, "text/csv; charset=utf-8",
                       {"Content-Disposition": 'attachment; filename="playground.csv"'})
        else:
            raise RequestError(HTTPStatus.NOT_FOUND, "not found")

    def _post(self) -> None:
        request = self._read_json()
        path = urlsplit(self.path).path
        if path == "/api/session":
            playground = _new_playground(request)
            session = self.server.new_session(playground)
            self._json({"session": session, **_points(playground), **playground.snapshot(),
                        "code": {"python": python_code(playground),
                                 "cli": command_line(playground.settings)}})
        elif path == "/api/step":
            lock, playground = self.server.session(request.get("session"))
            epochs = request.get("epochs", 1)
            if not isinstance(epochs, int) or not 0 <= epochs <= MAX_EPOCHS_PER_STEP:
                raise RequestError(HTTPStatus.BAD_REQUEST,
                                   f"epochs must be a whole number in [0, {MAX_EPOCHS_PER_STEP}]")
            with lock:
                playground.step(epochs) if epochs else None
                self._json(playground.snapshot())
        elif path == "/api/explain":
            lock, playground = self.server.session(request.get("session"))
            numbers = [request.get(key, 0) for key in ("layer", "unit", "sample")]
            if not all(isinstance(value, int) and not isinstance(value, bool)
                       for value in numbers):
                raise RequestError(HTTPStatus.BAD_REQUEST, "layer, unit and sample must be "
                                                           "whole numbers")
            with lock:
                self._json(playground.explain(*numbers))
        else:
            raise RequestError(HTTPStatus.NOT_FOUND, "not found")

    # -- reading and writing

    def _read_json(self) -> dict[str, Any]:
        if self.headers.get_content_type() != "application/json":
            raise RequestError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send JSON")
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            raise RequestError(HTTPStatus.LENGTH_REQUIRED, "Content-Length is needed") from None
        if not 0 <= length <= MAX_BODY:
            raise RequestError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                               f"the body must be at most {MAX_BODY} bytes")
        try:
            request = json.loads(self.rfile.read(length) or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise RequestError(HTTPStatus.BAD_REQUEST, "the body is not JSON") from None
        if not isinstance(request, dict):
            raise RequestError(HTTPStatus.BAD_REQUEST, "the body must be a JSON object")
        return request

    def _json(self, value: Any, status: HTTPStatus = HTTPStatus.OK) -> None:
        try:
            text = json.dumps(value, allow_nan=False, default=_plain)
        except ValueError:  # a NaN or infinity (a diverged loss): JSON has none, send null
            text = json.dumps(_nulls(value))
        self._send(text.encode("utf-8"), "application/json", status=status)

    def _send(self, body: bytes, kind: str, extra: dict[str, str] | None = None,
              status: HTTPStatus = HTTPStatus.OK) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in {**SECURITY_HEADERS, **(extra or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


def _new_playground(request: dict[str, Any]) -> Playground:
    """A Playground from the page's settings and, if given, its own points [[x, y, label]]."""
    settings = Settings.from_dict(request.get("settings", {}))
    points = request.get("points")
    if points is None:
        return Playground(settings)
    if not isinstance(points, list) or not 2 <= len(points) <= MAX_POINTS:
        raise RequestError(HTTPStatus.BAD_REQUEST,
                           f"points must be a list of 2 to {MAX_POINTS} [x, y, label] rows")
    try:
        table = np.array(points, dtype=np.float64)
    except (TypeError, ValueError):
        raise RequestError(HTTPStatus.BAD_REQUEST, "points must be [x, y, label] numbers") \
            from None
    if table.ndim != 2 or table.shape[1] != 3 or not np.isfinite(table).all():
        raise RequestError(HTTPStatus.BAD_REQUEST, "points must be [x, y, label] numbers")
    labels = table[:, 2]
    if not settings.regression:
        if not np.all(labels == np.round(labels)) or labels.min() < 0 or \
                labels.max() >= settings.n_classes:
            raise RequestError(HTTPStatus.BAD_REQUEST, f"labels must be whole numbers from 0 "
                                                       f"to {settings.n_classes - 1}")
        labels = labels.astype(np.int64)
    return Playground(settings, np.clip(table[:, :2], -6, 6), labels)


def _points(playground: Playground) -> dict[str, Any]:
    test = np.zeros(len(playground.points), dtype=bool)
    test[playground.test_rows] = True
    return {"points": playground.points.round(4).tolist(),
            "labels": playground.labels.tolist(), "test": test.tolist(),
            "settings": playground.settings.to_dict()}


def _points_csv(playground: Playground) -> str:
    """Every point's features (as the network sees them) and its label, with a header: the
    data for `nnscratch train --data playground.csv --scale none`."""
    features = playground.inputs()
    lines = [",".join([*playground.settings.features, "label"])]
    for row, label in zip(features, playground.labels, strict=True):
        lines.append(",".join([*(f"{value:.6g}" for value in row), f"{label:g}"]))
    return "\n".join(lines) + "\n"


def _nulls(value: Any) -> Any:
    """NaN and infinities as null (JSON has no NaN)."""
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _nulls(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_nulls(item) for item in value]
    return _plain(value) if isinstance(value, np.generic) else value


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON: {type(value).__name__}")


def serve(host: str = "127.0.0.1", port: int = 8000) -> PlayServer:
    """A server bound to (host, port), not yet serving: call ``serve_forever``."""
    return PlayServer(host, port)
