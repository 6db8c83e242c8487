"""The update check against hostile servers: one deadline, a capped body, same-host redirects.

Every server here is real and on loopback: raw sockets where the test needs byte-level control
(a body dripped byte by byte, headers one line at a time, an endless body, a redirect), the
shared ``tag_server`` where an ordinary HTTP answer will do. Every call runs under a watchdog,
so a regression fails the test instead of hanging the run.
"""

from __future__ import annotations

import gzip
import json
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import colab_bootstrap
from colab_bootstrap._update import (
    API_ENV,
    DISABLE_ENV,
    InstallOrigin,
    UpdateStatus,
    check_update,
)
from conftest import WATCHDOG_THREAD, Answer, TagServer, bounded, write_dist

T = TypeVar("T")
MAX_ANSWER_BYTES = 1024 * 1024  # the documented caps (written out: the old code had none)
MAX_TAGS = 1000
REPO_URL = "https://github.com/colab-bootstrap/colab-bootstrap.git"
GIT = InstallOrigin("vcs", version="0.2.0", url=REPO_URL, vcs="git")
TAGS = json.dumps([{"name": "v9.0.0", "commit": {}}]).encode()
DEADLINE = 0.5  # the timeout given to check_update in these tests
BOUND = DEADLINE + 4.5  # what a whole call may take: the deadline and a generous margin
SERVER_THREAD = "hostile-server"


# ---------------------------------------------------------------------------------------------
# A raw loopback server and a watchdog
# ---------------------------------------------------------------------------------------------


class RawServer:
    """A TCP server on 127.0.0.1: each connection goes to ``handler(server, conn)``."""

    def __init__(self, handler: Callable[[RawServer, socket.socket], None]) -> None:
        """Listen on a free port and accept connections on a thread until ``close()``."""
        self.handler = handler
        self.stop = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.port: int = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.heads: list[str] = []  # each request's start line and headers
        self.hangups: list[float] = []  # when a send found the client gone (monotonic)
        self.threads: list[threading.Thread] = []
        self._start(self._accept)

    def _start(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=SERVER_THREAD, daemon=True)
        self.threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:  # TimeoutError from 3.10 on; an OSError of its own before
                continue
            except OSError:
                return
            conn.settimeout(5)  # a blocked send ends even if the client never reads again
            self._start(self._serve, conn)

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                self.handler(self, conn)
            except OSError:
                self.hangups.append(time.monotonic())

    def read_head(self, conn: socket.socket) -> str:
        data = b""
        while b"\r\n\r\n" not in data and len(data) < 65536:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
        head = data.split(b"\r\n\r\n")[0].decode("latin-1")
        self.heads.append(head)
        return head

    def close(self) -> None:
        self.stop.set()
        self.listener.close()
        for thread in self.threads:
            thread.join(6)


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., RawServer]]:
    """Start raw servers; the first one started is the API ($COLAB_BOOTSTRAP_GITHUB_API)."""
    servers: list[RawServer] = []
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.delenv(DISABLE_ENV, raising=False)

    def start(handler: Callable[[RawServer, socket.socket], None]) -> RawServer:
        server = RawServer(handler)
        if not servers:
            monkeypatch.setenv(API_ENV, server.url)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def respond(conn: socket.socket, status: str, headers: dict[str, str], body: bytes) -> None:
    lines = [f"HTTP/1.1 {status}", "Connection: close", *(f"{k}: {v}" for k, v in headers.items())]
    conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)


def watched(call: Callable[[], T], limit: float = 10.0) -> tuple[T, float]:
    """``call()`` and its seconds, on the watchdog thread: still running after ``limit`` fails."""
    started = time.monotonic()
    value = bounded(call, limit)
    return value, time.monotonic() - started


def check(origin: InstallOrigin = GIT, timeout: float = DEADLINE) -> tuple[UpdateStatus, float]:
    """check_update(origin) under the watchdog; it must return an UpdateStatus."""
    status, elapsed = watched(lambda: check_update(origin, timeout=timeout))
    assert isinstance(status, UpdateStatus)
    return status, elapsed


def ours(before: set[threading.Thread]) -> list[threading.Thread]:
    """Threads started since ``before`` that are not the test's own (servers, watchdog)."""
    mine = (SERVER_THREAD, WATCHDOG_THREAD)
    return [t for t in threading.enumerate() if t not in before and t.name not in mine]


def assert_nothing_left(before: set[threading.Thread], within: float = 2.0) -> None:
    """Whatever check_update started ends within ``within`` seconds of its return."""
    for thread in ours(before):
        thread.join(within)
    assert ours(before) == []


def drip(
    pieces: list[bytes], every: float, *, first: float | None = None
) -> Callable[[RawServer, socket.socket], None]:
    """A handler that reads the request, then sends ``pieces`` one by one, ``every`` s apart.

    The first piece goes ``first`` s after the request (default ``every``; 0: at once).
    """

    def handler(server: RawServer, conn: socket.socket) -> None:
        server.read_head(conn)
        for i, piece in enumerate(pieces):
            if server.stop.wait(every if i or first is None else first):
                return
            conn.sendall(piece)

    return handler


# ---------------------------------------------------------------------------------------------
# One deadline for connect, headers and body
# ---------------------------------------------------------------------------------------------


def test_a_body_dripped_byte_by_byte_meets_the_deadline(serve: Callable[..., RawServer]) -> None:
    """Headers at once, then one byte at a time (each well within a read timeout): one deadline.

    The old per-read timeout waited for the whole body: 60 bytes at 0.25 s each, 15 s.
    """
    body = TAGS.ljust(60)
    head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    # The headers at once: sent after a first 0.25 s wait, they left the client 0.25 s to read
    # them before the 0.5 s deadline, which a loaded CI machine once missed ("no answer").
    server = serve(drip([head, *(bytes([b]) for b in body)], every=0.25, first=0))
    before = set(threading.enumerate())
    status, elapsed = check()
    assert elapsed < BOUND
    assert status.status == "skip"
    assert status.message == (
        f"could not check for updates (the answer from {server.url} did not arrive in full "
        f"within {DEADLINE:g} s)"
    )
    assert_nothing_left(before)


def test_headers_one_line_at_a_time_meet_the_deadline(serve: Callable[..., RawServer]) -> None:
    """A status line, then a header line every 0.3 s: the old code read them all (18 s).

    The server sees the connection cut soon after the deadline: nothing reads on behind the
    caller's back.
    """
    lines = [b"HTTP/1.1 200 OK\r\n", *(f"X-Slow-{i}: {i}\r\n".encode() for i in range(60))]
    server = serve(drip([*lines, b"Content-Length: 2\r\n\r\n[]"], every=0.3))
    before = set(threading.enumerate())
    started = time.monotonic()
    status, elapsed = check()
    assert elapsed < BOUND
    assert status.message == (
        f"could not check for updates (no answer from {server.url} within {DEADLINE:g} s)"
    )
    assert_nothing_left(before)
    give_up = time.monotonic() + 3
    while not server.hangups and time.monotonic() < give_up:
        time.sleep(0.05)
    assert server.hangups, "the server kept sending: the connection was not closed"
    assert server.hangups[0] - started < DEADLINE + 2.5


def test_a_slow_proxy_meets_the_deadline(
    serve: Callable[..., RawServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through an HTTP proxy ($HTTP_PROXY) that dribbles its headers: the same deadline."""
    lines = [b"HTTP/1.1 200 OK\r\n", *(f"X-Slow-{i}: {i}\r\n".encode() for i in range(60))]
    proxy = serve(drip(lines, every=0.3))
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv(API_ENV, "http://api.example.invalid")
    before = set(threading.enumerate())
    status, elapsed = check()
    assert elapsed < BOUND
    assert status.message == (
        f"could not check for updates (no answer from http://api.example.invalid within "
        f"{DEADLINE:g} s)"
    )
    assert proxy.heads[0].startswith("GET http://api.example.invalid/repos/")
    assert_nothing_left(before)
    give_up = time.monotonic() + 3
    while not proxy.hangups and time.monotonic() < give_up:
        time.sleep(0.05)
    assert proxy.hangups, "the proxy kept sending: the connection was not closed"


def test_a_server_that_accepts_and_never_answers(serve: Callable[..., RawServer]) -> None:
    """It reads the request and says nothing: a skip at the deadline, one request."""

    def silent(server: RawServer, conn: socket.socket) -> None:
        server.read_head(conn)
        server.stop.wait(30)

    server = serve(silent)
    before = set(threading.enumerate())
    status, elapsed = check()
    assert elapsed < BOUND
    assert status.message == (
        f"could not check for updates (no answer from {server.url} within {DEADLINE:g} s)"
    )
    assert len(server.heads) == 1
    assert_nothing_left(before)


def _closed_port() -> int:
    """A loopback port nothing listens on (bound for a moment, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_connection_refused_is_a_quick_skip(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing listening: 'offline', well before the deadline."""
    port = _closed_port()
    monkeypatch.setenv(API_ENV, f"http://127.0.0.1:{port}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.delenv(DISABLE_ENV, raising=False)
    status, elapsed = check(timeout=5.0)
    assert elapsed < 2.5
    assert status.status == "skip"
    assert "offline: cannot reach" in status.message


HUNDRED_MB = 100 * 1024 * 1024


def _big_body(server: RawServer, conn: socket.socket, length: bool) -> None:
    server.read_head(conn)
    headers = {"Content-Length": str(HUNDRED_MB)} if length else {}
    respond(conn, "200 OK", headers, b"")
    chunk = b" " * (1024 * 1024)
    for _ in range(HUNDRED_MB // len(chunk)):
        if server.stop.is_set():
            return
        conn.sendall(chunk)


@pytest.mark.parametrize("length", [True, False], ids=["content-length", "until-close"])
def test_a_100_mb_body_is_refused_at_the_cap(serve: Callable[..., RawServer], length: bool) -> None:
    """100 MB of answer, announced or not: a skip naming the 1 MiB cap, read no further."""
    server = serve(lambda s, c: _big_body(s, c, length))
    before = set(threading.enumerate())
    status, elapsed = check()
    assert elapsed < BOUND
    assert status.status == "skip"
    assert f"the answer from {server.url} is larger than {MAX_ANSWER_BYTES // 1024} KiB" in (
        status.message
    )
    assert_nothing_left(before)


def test_a_gzip_bomb_is_refused_at_the_cap(tag_server: TagServer) -> None:
    """A small gzip body that inflates to 20 MB (sent though identity was asked for)."""
    bomb = gzip.compress(b" " * (20 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < MAX_ANSWER_BYTES
    tag_server.answer = Answer(body=bomb, headers={"Content-Encoding": "gzip"})
    status, elapsed = check()
    assert elapsed < BOUND
    assert status.status == "skip"
    assert "is larger than 1024 KiB" in status.message
    assert tag_server.requests[0][1]["Accept-Encoding"] == "identity"


def test_a_gzip_answer_within_the_cap_is_read(tag_server: TagServer) -> None:
    """A proxy that compresses anyway still gives a working check."""
    tag_server.answer = Answer(body=gzip.compress(TAGS), headers={"Content-Encoding": "gzip"})
    status, _ = check()
    assert status.status == "update"
    assert status.latest == "9.0.0"


# ---------------------------------------------------------------------------------------------
# Redirects: only within the same scheme, host and port
# ---------------------------------------------------------------------------------------------


def _redirecting(
    location: Callable[[RawServer], str],
) -> Callable[[RawServer, socket.socket], None]:
    """/repos/... answers 302 to ``location(server)``; every other path answers the tags."""

    def handler(server: RawServer, conn: socket.socket) -> None:
        head = server.read_head(conn)
        if head.startswith("GET /repos/"):
            respond(conn, "302 Found", {"Location": location(server), "Content-Length": "0"}, b"")
        else:
            respond(conn, "200 OK", {"Content-Length": str(len(TAGS))}, TAGS)

    return handler


def _tags(server: RawServer, conn: socket.socket) -> None:
    server.read_head(conn)
    respond(conn, "200 OK", {"Content-Length": str(len(TAGS))}, TAGS)


@pytest.mark.parametrize(
    "where",
    [
        "http://localhost:{other}/moved",
        "http://127.0.0.1:{other}/moved",
        "https://127.0.0.1:{own}/moved",
    ],
    ids=["other-host-and-port", "same-host-other-port", "other-scheme"],
)
def test_a_redirect_to_another_host_is_a_skip(serve: Callable[..., RawServer], where: str) -> None:
    """127.0.0.1 -> localhost (or another port, or https) is another host: not followed."""
    other: list[RawServer] = []
    api = serve(_redirecting(lambda s: where.format(other=other[0].port, own=s.port)))
    other.append(serve(_tags))
    status, elapsed = check()
    assert elapsed < BOUND
    assert status.status == "skip"
    target = where.format(other=other[0].port, own=api.port)
    assert status.message == (
        f"could not check for updates ({api.url} redirected to another host ({target}); "
        "redirects are followed only within the same scheme, host and port)"
    )
    assert other[0].heads == []


def test_a_redirect_within_the_host_is_followed(serve: Callable[..., RawServer]) -> None:
    """A relative or absolute redirect to the same scheme, host and port is followed."""
    server = serve(_redirecting(lambda s: f"{s.url}/moved"))
    status, _ = check()
    assert status.status == "update"
    assert [head.split("\r\n")[0] for head in server.heads] == [
        "GET /repos/colab-bootstrap/colab-bootstrap/tags?per_page=100 HTTP/1.1",
        "GET /moved HTTP/1.1",
    ]


def test_a_redirect_loop_stops(serve: Callable[..., RawServer]) -> None:
    """A redirect to itself, forever: a few hops, then a skip that says so."""
    server = serve(_redirecting(lambda _: "/repos/again"))
    status, elapsed = check()
    assert elapsed < BOUND
    assert status.message == (
        f"could not check for updates ({server.url} redirected more than 5 times)"
    )
    assert len(server.heads) == 6


# ---------------------------------------------------------------------------------------------
# Any JSON, any shape: a skip with a reason, never an exception
# ---------------------------------------------------------------------------------------------


def test_json_nested_200000_deep_is_a_skip(tag_server: TagServer) -> None:
    """The old code let json's RecursionError out of check_update()."""
    tag_server.answer = Answer(body=b"[" * 200_000 + b"]" * 200_000)
    status, elapsed = check()
    assert elapsed < BOUND
    assert status.status == "skip"
    assert "JSON nested deeper than 32 levels" in status.message


@pytest.mark.parametrize(
    ("tags", "why"),
    [
        ([{"name": "v1" + "0" * 5000}], "no release tags"),  # past int()'s digit limit
        ([{"name": "v1.0"}] * (MAX_TAGS + 1), f"more than the {MAX_TAGS} looked at"),
        ([{"name": 1}], "not a list of tags"),
        (["v1.0"], "not a list of tags"),
        ({"name": "v1.0"}, "not a list of tags"),
        ([{"name": None}, {"name": "v1.0"}], "not a list of tags"),
    ],
    ids=["huge-number", "too-many-tags", "int-name", "strings", "object", "null-name"],
)
def test_odd_answers_are_skips_with_reasons(tag_server: TagServer, tags: Any, why: str) -> None:
    """Shapes that are not a list of {name: str}, versions that do not parse, too many tags."""
    tag_server.answer = Answer(body=json.dumps(tags).encode())
    status, _ = check()
    assert status.status == "skip"
    assert why in status.message


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=25,
)
TAG_NAMES = st.one_of(
    JSON,
    st.from_regex(r"v?[0-9]{1,3}(\.[0-9]{1,3}){0,3}([ab]|rc|\.dev|\.post)?[0-9]?", fullmatch=True),
)
TAG_LISTS = st.lists(st.fixed_dictionaries({"name": TAG_NAMES}, optional={"commit": JSON}))
BODIES = st.one_of(
    JSON.map(lambda value: json.dumps(value).encode()),
    TAG_LISTS.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=200),
)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=BODIES)
def test_any_answer_gives_an_update_status(tag_server: TagServer, body: bytes) -> None:
    """Random JSON, tag lists with odd names, random bytes: an UpdateStatus, never a raise."""
    tag_server.answer = Answer(body=body)
    status = check_update(GIT, timeout=5.0)
    assert isinstance(status, UpdateStatus)
    assert status.status in ("update", "current", "skip")
    assert "\n" not in status.message


# ---------------------------------------------------------------------------------------------
# Credentials never reach a message
# ---------------------------------------------------------------------------------------------

SECRET = "s3cr3tT0ken"  # noqa: S105 - the token the messages must not show


def _shown(status: UpdateStatus) -> str:
    return "\n".join([str(status), status.message, status.fix or "", status._repr_html_()])


@pytest.mark.parametrize("answer", [Answer(status=404, body=b"{}"), Answer(hang=True)])
def test_credentials_in_the_api_url_are_hidden(
    tag_server: TagServer, monkeypatch: pytest.MonkeyPatch, answer: Answer
) -> None:
    """An API URL with user:token@ appears as user:***@ in every message."""
    monkeypatch.setenv(API_ENV, tag_server.url.replace("://", f"://me:{SECRET}@"))
    tag_server.answer = answer
    status, _ = check()
    assert status.status == "skip"
    assert "me:***@127.0.0.1" in status.message
    assert SECRET not in _shown(status)
    assert tag_server.requests[0][1]["Authorization"].startswith("Basic ")


def test_credentials_in_an_unreachable_api_url_are_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    """Offline, with credentials in the API URL: the reason names the host, not the token."""
    port = _closed_port()
    monkeypatch.setenv(API_ENV, f"http://me:{SECRET}@127.0.0.1:{port}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.delenv(DISABLE_ENV, raising=False)
    status, _ = check()
    assert "offline: cannot reach http://me:***@127.0.0.1" in status.message
    assert SECRET not in _shown(status)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"https://me:{SECRET}@github.com/o/r.git", "git+https://me:***@github.com/o/r.git@v9.0.0"),
        (f"https://{SECRET}@github.com/o/r.git", "git+https://***@github.com/o/r.git@v9.0.0"),
        # pip's ${VAR} reference names a variable, not a secret: kept, so the cell still works
        (
            "https://${GH_TOKEN}@github.com/o/r.git",
            "git+https://${GH_TOKEN}@github.com/o/r.git@v9.0.0",
        ),
    ],
    ids=["user-and-token", "token-alone", "variable"],
)
def test_credentials_in_the_install_url_are_hidden(
    tag_server: TagServer, url: str, shown: str
) -> None:
    """A git install from a URL with a token: the fix and every text show ***, not the token."""
    tag_server.tags("v9.0.0")
    origin = InstallOrigin("vcs", version="0.2.0", url=url, vcs="git")
    status, _ = check(origin)
    assert status.status == "update"
    assert status.fix == f"!pip install -q --force-reinstall {shown}"
    assert SECRET not in _shown(status)
    assert SECRET not in str(origin)


@pytest.mark.parametrize("secret", [SECRET, SECRET * 20], ids=["short", "longer-than-shown"])
def test_credentials_in_a_redirect_target_are_hidden(
    serve: Callable[..., RawServer], secret: str
) -> None:
    """A redirect elsewhere is named in the reason, its credentials hidden (even when cut)."""
    serve(_redirecting(lambda s: f"http://x:{secret}@localhost:{s.port}/"))
    status, _ = check()
    assert "redirected to another host (http://x:***@localhost:" in status.message
    assert SECRET[:4] not in _shown(status)


# ---------------------------------------------------------------------------------------------
# doctor() is held to the same deadline
# ---------------------------------------------------------------------------------------------


def test_doctor_finishes_despite_a_slow_server(
    serve: Callable[..., RawServer], tmp_path: Path
) -> None:
    """doctor(network=True) with headers dribbling in: the default 2 s deadline, then done."""
    site = tmp_path / "site"
    write_dist(
        site,
        "colab-bootstrap",
        colab_bootstrap.__version__,
        direct_url={"url": REPO_URL, "vcs_info": {"vcs": "git", "commit_id": "a" * 40}},
    )
    sys.path.insert(0, str(site))  # restored by conftest's _isolate_process
    lines = [b"HTTP/1.1 200 OK\r\n", *(f"X-Slow-{i}: {i}\r\n".encode() for i in range(60))]
    server = serve(drip(lines, every=0.3))
    drive = tmp_path / "My Drive"
    drive.mkdir()
    report, elapsed = watched(
        lambda: colab_bootstrap.doctor(
            drive_dir=drive,
            mountpoint=tmp_path / "drive",
            content_dir=tmp_path / "content",
            network=True,
        ),
        limit=15,
    )
    assert elapsed < 6
    summary = report["Requirements and updates"].summary
    assert f"no answer from {server.url} within 2 s" in summary
