"""Where colab_bootstrap was installed from, whether a newer release exists, whether to restart.

Users install straight from git in every fresh runtime, so the usual "pip says there is a newer
version" never happens: ``check_update()`` asks the repository's GitHub tags API once (no
retries, one short deadline; never raises) and gives the exact reinstall cell. ``pip`` records a
git install's URL and commit in ``direct_url.json`` (PEP 610), which ``install_origin()`` reads.
After an upgrade in a running kernel the old code stays loaded until the runtime restarts:
``restart_needed()`` compares the version on disk with the one running. requests and packaging
are imported inside the functions.

The update check is a guest in the user's process, and the server may be anything (a proxy, a
mirror, a captive portal): one deadline covers connecting, the headers and the body (requests'
own timeout is per socket read, so the request runs on a daemon thread and the caller cuts its
sockets when the deadline passes); the body is capped (``MAX_ANSWER_BYTES``); redirects are
followed only within the API's own scheme, host and port; the JSON is checked for depth before
it is parsed and at most ``MAX_TAGS`` tags are looked at; credentials in a URL never reach a
message (``user:***@``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from ._redact import MASK, clip, credentials, url_secrets
from ._render import Rendered
from ._requirements import dist_version, find_distributions
from ._session import SESSION
from ._version import __version__

if TYPE_CHECKING:
    import socket

    import requests

__all__ = [
    "API_ENV",
    "DISABLE_ENV",
    "MAX_ANSWER_BYTES",
    "MAX_TAGS",
    "InstallOrigin",
    "UpdateStatus",
    "check_update",
    "install_origin",
    "kept",
    "restart_needed",
]

#: The distribution name of this package.
DIST_NAME = "colab-bootstrap"
#: Replaces the GitHub API base URL (mirrors, GitHub Enterprise, tests).
API_ENV = "COLAB_BOOTSTRAP_GITHUB_API"
#: Set (to anything but "" or "0") to turn the update check off.
DISABLE_ENV = "COLAB_BOOTSTRAP_NO_UPDATE_CHECK"
DEFAULT_API = "https://api.github.com"
#: The most bytes of an answer read (after decompression). 100 tags from GitHub are about
#: 20 KiB; anything over 1 MiB is not a tags answer, and is a "skip" that says so.
MAX_ANSWER_BYTES = 1 << 20
#: The most tags looked at (the request asks for 100); a longer list is a "skip".
MAX_TAGS = 1000
#: The deepest JSON parsed: a tags answer is 3 levels deep (list, tag, commit).
MAX_JSON_DEPTH = 32
#: Redirects followed, all within the API's own scheme, host and port.
MAX_REDIRECTS = 5
_MAX_TAG_NAME = 100  # longer names are not release versions (and are not parsed)
_REDIRECT_CODES = (301, 302, 303, 307, 308)
_BACKSTOP_S = 1.0  # requests' own per-read timeout, past the deadline, in case a cut fails
_RESTART = "restart the runtime (Runtime > Restart session) to run it"
_GITHUB_REPO = re.compile(r"^/*([^/]+)/([^/]+?)(?:\.git)?/*$")

OriginKind = Literal["vcs", "directory", "archive", "index", "not installed"]
Status = Literal["update", "current", "skip"]


@dataclass(frozen=True)
class InstallOrigin:
    """How the installed colab_bootstrap got there: git URL and commit, a folder, an index."""

    kind: OriginKind
    version: str | None = None
    url: str | None = None
    vcs: str | None = None
    commit: str | None = None
    requested_revision: str | None = None
    editable: bool = False
    location: Path | None = None

    @property
    def local(self) -> bool:
        """True when it came from this machine (a ``file://`` URL: a folder, a wheel, a clone)."""
        return bool(self.url and self.url.startswith("file://"))

    def __str__(self) -> str:
        version = f" ({self.version})" if self.version else ""
        url = credentials(self.url or "")
        if self.kind == "vcs":
            commit = f" @ {self.commit[:7]}" if self.commit else ""
            return f"{self.vcs or 'vcs'} {url}{commit}{version}"
        if self.kind == "directory":
            editable = "editable install of " if self.editable else "folder "
            return f"{editable}{url}{version}"
        if self.kind == "archive":
            return f"archive {url}{version}"
        if self.kind == "index":
            return f"a package index{version}"
        return "not installed (imported from a source folder)"


@dataclass(frozen=True)
class UpdateStatus(Rendered):
    """The answer of the update check: "update" (with the fix), "current" or "skip" (why)."""

    status: Status
    message: str
    fix: str | None = None
    installed: str | None = None
    latest: str | None = None

    def _title(self) -> str:
        return "colab_bootstrap: update check"

    def _rows(self) -> list[tuple[str, str]]:
        rows = [("status", self.status), ("message", self.message)]
        return [*rows, ("fix", self.fix)] if self.fix else rows


# ---------------------------------------------------------------------------------------------
# Installed metadata, read once while it stays the same
# ---------------------------------------------------------------------------------------------

#: A file or folder changed less than this long (ns) before it was read keeps nothing: file
#: times move in ticks (a few ms on Linux, 2 s on FAT), so a second change within the same
#: tick could leave every time as it was.
_SETTLE_NS = 2_000_000_000

T = TypeVar("T")


def _state(paths: Sequence[str], *, settled_before: int | None = None) -> tuple[object, ...] | None:
    """Each path's device, inode, size and times (None where it cannot be stat'ed).

    With ``settled_before`` (``time.time_ns()``), None when one of them changed after
    ``settled_before`` less ``_SETTLE_NS``, or shows no times at all: its state could not tell
    a later change.
    """
    states: list[object] = []
    for path in paths:
        try:
            info = os.stat(path)
        except (OSError, ValueError):  # gone, unreadable, a NUL in the name
            states.append(None)
            continue
        times = (info.st_mtime_ns, info.st_ctime_ns)
        if settled_before is not None and (
            max(times) >= settled_before - _SETTLE_NS or min(times) <= 0
        ):
            return None
        states.append((info.st_dev, info.st_ino, info.st_size, *times))
    return tuple(states)


def kept(kind: str, question: object, read: Callable[[list[str | None]], T]) -> T:
    """``read(paths)``'s answer, kept in the session record until what it was read from changes.

    ``read`` appends to ``paths`` every file and folder the answer depends on (the folders for
    their listings), or a None when it cannot tell. The answer kept for ``kind`` is given again,
    unread, while ``question`` is the same and each of those paths has the same device, inode,
    size and times (a file rewritten in place, a folder reinstalled by pip: read again). None
    in ``paths``, or a path changed just before the read (``_SETTLE_NS``): nothing is kept.
    Whatever ``read`` raises is raised, and nothing is kept.
    """
    record = SESSION.installed.get(kind)
    if record is not None and record[0] == question and _state(record[1]) == record[2]:
        return cast("T", record[3])
    started = time.time_ns()
    paths: list[str | None] = []
    answer = read(paths)
    watched = tuple(path for path in paths if path is not None)
    if len(watched) == len(paths):
        state = _state(watched, settled_before=started)
        if state is not None:
            SESSION.installed[kind] = (question, watched, state, answer)
    return answer


def install_origin(*, path: Sequence[str] | None = None) -> InstallOrigin:
    """Where the installed colab_bootstrap came from, read from its ``direct_url.json``.

    Read once while the folders on ``path`` list the same entries and its metadata files are
    unchanged (a reinstall is read again): see ``kept``.

    Args:
        path: where to look for the installed distribution; default ``sys.path``.
    """
    given: list[object] = list(sys.path if path is None else path)
    entries = tuple(entry for entry in given if isinstance(entry, str))  # as imports do
    return kept("install origin", entries, lambda read: _read_origin(entries, read))


def _read_origin(entries: Sequence[str], read: list[str | None]) -> InstallOrigin:
    dist = find_distributions([DIST_NAME], entries, read=read).get(DIST_NAME)
    if dist is None:
        return InstallOrigin("not installed")
    version = dist_version(dist)
    location = Path(str(dist.locate_file("")))
    text = dist.read_text("direct_url.json")
    if text is None:
        return InstallOrigin("index", version=version, location=location)
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("url"), str):
        return InstallOrigin("index", version=version, location=location)
    url: str = data["url"]
    vcs_info, dir_info = data.get("vcs_info"), data.get("dir_info")
    if isinstance(vcs_info, dict):
        return InstallOrigin(
            "vcs",
            version=version,
            url=url,
            vcs=_str_or_none(vcs_info.get("vcs")),
            commit=_str_or_none(vcs_info.get("commit_id")),
            requested_revision=_str_or_none(vcs_info.get("requested_revision")),
            location=location,
        )
    if isinstance(dir_info, dict):
        editable = dir_info.get("editable") is True
        return InstallOrigin(
            "directory", version=version, url=url, editable=editable, location=location
        )
    return InstallOrigin("archive", version=version, url=url, location=location)


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def restart_needed(
    *, path: Sequence[str] | None = None, origin: InstallOrigin | None = None
) -> str | None:
    """Say so when the installed colab_bootstrap differs from the one running in this process.

    Args:
        path: where to look for the installed distribution; default ``sys.path``.
        origin: an ``install_origin()`` already read (doctor reads it once), else read here.

    Returns:
        A sentence naming both versions and the fix, or None when they agree (or when it is
        an editable install or not installed: the running code is the source folder then).
    """
    origin = install_origin(path=path) if origin is None else origin
    if origin.version is None or origin.editable or origin.version == __version__:
        return None
    return (
        f"colab_bootstrap {origin.version} is installed but {__version__} is running in this "
        f"process: {_RESTART}."
    )


# ---------------------------------------------------------------------------------------------
# Secrets in URLs
# ---------------------------------------------------------------------------------------------


def _without_secrets(status: UpdateStatus, urls: Sequence[str]) -> UpdateStatus:
    secrets = url_secrets(urls)

    def clean(text: str) -> str:
        text = credentials(text)
        for secret in secrets:
            text = text.replace(secret, MASK)
        return text

    fix = clean(status.fix) if status.fix is not None else None
    return replace(status, message=clean(status.message), fix=fix)


def _one_line(text: str, limit: int = 160) -> str:
    """``text`` on one line, credentials masked, at most ``limit`` characters (see ``clip``)."""
    return clip(" ".join(text.split()), limit)


def _failure(exc: BaseException) -> str:
    """An exception as one line: its type and the start of its message."""
    message = _one_line(str(exc), 120)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


# ---------------------------------------------------------------------------------------------
# One request, one deadline
# ---------------------------------------------------------------------------------------------


def _shut(sock: socket.socket) -> None:
    import socket  # noqa: PLC0415 - only the check needs it

    with contextlib.suppress(OSError):  # already closed by the other side
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


class _Watch:
    """The sockets of one update check, so that the caller can cut them at the deadline.

    Each socket is recorded as a duplicate (``dup()``) taken right after it connects: TLS takes
    the original's descriptor over, and shutting down the duplicate ends the one connection
    both share, so a read blocked on it in the worker thread returns at once. A socket that
    connects after the cut is cut as it is recorded.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._cut = False
        #: How far the worker got: "connect", then "body" once the headers are in.
        self.phase = "connect"

    def add(self, sock: socket.socket) -> None:
        try:
            copy = sock.dup()
        except OSError:
            return
        with self._lock:
            if not self._cut:
                self._sockets.append(copy)
                return
        _shut(copy)

    def cut(self) -> None:
        with self._lock:
            self._cut = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _shut(sock)

    def wrap(self, manager: Any) -> None:
        """Make every connection of a urllib3 pool manager report its socket here.

        Each pool class gets a subclass whose connection class records the socket made by
        ``_new_conn()`` (the one place urllib3 1.26 and 2.x create it, for plain, TLS, proxy
        and SOCKS connections alike). A manager already wrapped is left as it is.
        """
        classes = getattr(manager, "pool_classes_by_scheme", None)
        if not isinstance(classes, dict) or getattr(manager, "_colab_bootstrap_watch", None):
            return
        manager.pool_classes_by_scheme = {
            scheme: self._pool_class(pool) for scheme, pool in classes.items()
        }
        manager._colab_bootstrap_watch = self  # noqa: SLF001 - our own marker

    def _pool_class(self, pool: type[Any]) -> type[Any]:
        connection: type[Any] = pool.ConnectionCls
        watch = self

        def _new_conn(conn: Any) -> Any:
            sock = connection._new_conn(conn)  # noqa: SLF001 - urllib3's socket factory
            watch.add(sock)
            return sock

        watched = type(connection.__name__, (connection,), {"_new_conn": _new_conn})
        return type(pool.__name__, (pool,), {"ConnectionCls": watched})


def _watched_adapter(watch: _Watch) -> requests.adapters.HTTPAdapter:
    """A requests adapter (no retries) whose connections report their sockets to ``watch``."""
    import requests.adapters  # noqa: PLC0415 - heavy import, only the check needs it

    class Adapter(requests.adapters.HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            watch.wrap(self.poolmanager)

        def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
            manager = super().proxy_manager_for(proxy, **kwargs)
            watch.wrap(manager)
            return manager

    return Adapter()


@dataclass(frozen=True)
class _Answer:
    """An HTTP answer, its body read in full (and no longer than ``MAX_ANSWER_BYTES``)."""

    status: int
    reason: str
    url: str
    headers: Mapping[str, str]
    body: bytes


def _origin_of(url: str) -> tuple[str, str, int | None] | None:
    """(scheme, host, port) of ``url``, the default port filled in; None when unusable."""
    from urllib.parse import urlsplit  # noqa: PLC0415 - only the check needs it

    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        port = parts.port or {"http": 80, "https": 443}.get(scheme)
    except ValueError:
        return None
    return scheme, parts.hostname or "", port


def _read_body(response: requests.Response, where: str) -> bytes | str:
    """The raw body, or why not: larger than ``MAX_ANSWER_BYTES`` (said before reading it all)."""
    length = response.headers.get("Content-Length", "").strip()
    too_large = f"the answer from {where} is larger than {MAX_ANSWER_BYTES // 1024} KiB"
    if (
        length.isascii()
        and length.isdigit()
        and (len(length) > 15 or int(length) > MAX_ANSWER_BYTES)
    ):
        return f"{too_large} (Content-Length {length})"
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = response.raw.read(64 * 1024, decode_content=False)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            return too_large
        chunks.append(chunk)


def _get(url: str, where: str, timeout: float, watch: _Watch) -> _Answer | str:
    """GET ``url`` (following same-host redirects) on this thread; the caller owns the deadline."""
    from urllib.parse import urljoin  # noqa: PLC0415 - only the check needs it

    import requests  # noqa: PLC0415 - heavy import, only the check needs it
    from requests.utils import get_auth_from_url  # noqa: PLC0415

    home = _origin_of(url)
    user, password = get_auth_from_url(url)
    # The first URL's credentials go along on redirects within its host (requests would drop
    # them for another host; those are not followed at all).
    auth = (user, password) if user or password else None
    adapter = _watched_adapter(watch)
    with requests.Session() as session:
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        for _ in range(MAX_REDIRECTS + 1):
            with session.get(
                url,
                headers={
                    "Accept": "application/vnd.github+json",
                    "Accept-Encoding": "identity",
                    "User-Agent": f"colab-bootstrap/{__version__}",
                },
                auth=auth,
                # A backstop only: the caller's deadline (the cut) comes first.
                timeout=(timeout + _BACKSTOP_S, timeout + _BACKSTOP_S),
                stream=True,
                allow_redirects=False,
            ) as response:
                location = response.headers.get("Location")
                if response.status_code in _REDIRECT_CODES and location:
                    target = urljoin(response.url, location)
                    if home is None or _origin_of(target) != home:
                        return (
                            f"{where} redirected to another host "
                            f"({_one_line(target, 100)}); redirects are followed only "
                            "within the same scheme, host and port"
                        )
                    url = target
                    continue
                watch.phase = "body"
                body = _read_body(response, where)
                if isinstance(body, str):
                    return body
                return _Answer(
                    response.status_code,
                    _one_line(response.reason or "", 60),
                    response.url,
                    response.headers,
                    body,
                )
    return f"{where} redirected more than {MAX_REDIRECTS} times"


def _request(url: str, where: str, timeout: float) -> _Answer | str:
    """GET ``url`` within ``timeout`` seconds in all: connecting, the headers, the body.

    The request runs on a daemon thread; when the deadline passes first, its sockets are shut
    down (``_Watch``), so the thread's blocked read fails and it ends at once. Only a name
    lookup (``getaddrinfo``) cannot be cut short: the thread then ends when the system's
    resolver gives up, having nothing to return to.
    """
    # Imported before the clock starts (the worker finds it loaded): the first check of a
    # process spent the import (about 0.1 s in Colab's venv, more under load) inside the
    # deadline, and a late answer was then blamed on the server.
    import requests.adapters  # noqa: F401, PLC0415 - heavy import, only the check needs it

    watch = _Watch()
    result: list[_Answer | str | Exception] = []
    done = threading.Event()

    def work() -> None:
        try:
            result.append(_get(url, where, timeout, watch))
        except Exception as exc:  # noqa: BLE001 - handed to the caller, which says what it was
            result.append(exc)
        finally:
            watch.cut()
            done.set()

    worker = threading.Thread(target=work, name="colab_bootstrap update check", daemon=True)
    phase = "connect"
    try:
        worker.start()
        finished = done.wait(timeout)
        # How far it got by the deadline, read before the cut: a cut mid-headers can make
        # http.client return the headers read so far, and the worker move on to the body.
        phase = watch.phase
    finally:
        watch.cut()
    if not finished or not result:
        return _late(where, timeout, phase)
    outcome = result[0]
    return (
        _explain(outcome, where, timeout, watch.phase)
        if isinstance(outcome, Exception)
        else outcome
    )


def _late(where: str, timeout: float, phase: str) -> str:
    if phase == "body":
        return f"the answer from {where} did not arrive in full within {timeout:g} s"
    return f"no answer from {where} within {timeout:g} s"


def _explain(exc: Exception, where: str, timeout: float, phase: str) -> str:
    """What an exception of the request means, in one line."""
    import requests  # noqa: PLC0415 - heavy import, only the check needs it

    if isinstance(exc, requests.Timeout) or (phase == "body" and "Timeout" in type(exc).__name__):
        return _late(where, timeout, phase)
    if phase == "body":
        return f"the answer from {where} broke off ({_failure(exc)})"
    if isinstance(exc, requests.RequestException):
        return f"offline: cannot reach {where} ({type(exc).__name__})"
    return _failure(exc)


# ---------------------------------------------------------------------------------------------
# The answer
# ---------------------------------------------------------------------------------------------


def _http_problem(answer: _Answer) -> str:
    headers = answer.headers
    text = answer.body[:4096].decode("utf-8", "replace").lower()
    if answer.status in (403, 429) and (
        headers.get("X-RateLimit-Remaining") == "0" or "rate limit" in text
    ):
        reset = headers.get("X-RateLimit-Reset", "").strip()
        when = ""
        if reset.isascii() and reset.isdigit() and len(reset) <= 12:
            try:
                moment = datetime.fromtimestamp(int(reset), tz=timezone.utc)
            except (OverflowError, OSError, ValueError):
                pass  # a reset time no clock can show: say nothing about it
            else:
                when = f"; it resets at {moment:%H:%M} UTC"
        return f"HTTP {answer.status} rate limit of the GitHub API{when}"
    return f"HTTP {answer.status} {answer.reason} from {_one_line(answer.url, 200)}".replace(
        "  ", " "
    )


def _decompressed(answer: _Answer, where: str) -> bytes | str:
    """The body without its Content-Encoding (identity is asked for; gzip is undone, capped)."""
    import zlib  # noqa: PLC0415 - only the check needs it

    encoding = answer.headers.get("Content-Encoding", "").strip().lower()
    if encoding in ("", "identity"):
        return answer.body
    if encoding not in ("gzip", "x-gzip", "deflate"):
        return f"unexpected answer from {where}: compressed as {_one_line(encoding, 30)!r}"
    inflate = zlib.decompressobj(32 + zlib.MAX_WBITS)  # a gzip or zlib header, either
    try:
        body = inflate.decompress(answer.body, MAX_ANSWER_BYTES + 1)
    except zlib.error as exc:
        return f"unexpected answer from {where}: broken {encoding} ({_failure(exc)})"
    if len(body) > MAX_ANSWER_BYTES:
        return f"the answer from {where} is larger than {MAX_ANSWER_BYTES // 1024} KiB"
    return body


def _json_depth(body: bytes) -> int:
    """How deeply ``body``'s arrays and objects nest, counted without recursion.

    Escaped backslashes, then escaped quotes, then strings are dropped (each a linear pass,
    no backtracking), and the brackets left are counted.
    """
    from itertools import accumulate  # noqa: PLC0415 - only the check needs it

    plain = re.sub(rb'"[^"]*"', b"", re.sub(rb'\\"', b"", body.replace(b"\\\\", b"")))
    steps = {b"[": 1, b"{": 1, b"]": -1, b"}": -1}
    return max(accumulate(map(steps.__getitem__, re.findall(rb"[\[\]{}]", plain))), default=0)


def _parsed(body: bytes, where: str) -> Any:
    """The JSON in ``body``, or a ``str`` saying why there is none."""
    depth = _json_depth(body)
    if depth > MAX_JSON_DEPTH:
        return f"unexpected answer from {where}: JSON nested deeper than {MAX_JSON_DEPTH} levels"
    try:
        return json.loads(body)
    except ValueError:  # a JSONDecodeError, a UnicodeDecodeError: both ValueErrors
        return f"unexpected answer from {where}: not JSON"
    except RecursionError:
        return f"unexpected answer from {where}: JSON nested too deeply"


def _fetch_tags(api: str, owner: str, repo: str, timeout: float) -> Any:
    """The JSON answer of the tags API, or a ``str`` saying why there is none."""
    from urllib.parse import quote  # noqa: PLC0415 - only the check needs it

    url = f"{api}/repos/{quote(owner, safe='')}/{quote(repo, safe='')}/tags?per_page=100"
    answer = _request(url, api, timeout)
    if isinstance(answer, str):
        return answer
    if answer.status != 200:
        return _http_problem(answer)
    body = _decompressed(answer, api)
    return body if isinstance(body, str) else _parsed(body, api)


def _newest_release(tags: Any) -> tuple[str, Any] | str:
    """(tag name, version) of the newest final release in a tags answer, or what is wrong."""
    from packaging.version import InvalidVersion, Version  # noqa: PLC0415 - heavy import

    if not isinstance(tags, list) or not all(
        isinstance(tag, dict) and isinstance(tag.get("name"), str) for tag in tags
    ):
        return "unexpected answer: not a list of tags"
    if len(tags) > MAX_TAGS:
        return f"unexpected answer: {len(tags)} tags, more than the {MAX_TAGS} looked at"
    releases: list[tuple[Version, str]] = []
    for tag in tags:
        name: str = tag["name"]
        if len(name) > _MAX_TAG_NAME:
            continue  # not a version anyone tags a release with
        try:
            version = Version(name)
        except (InvalidVersion, ValueError):  # ValueError: digits past int()'s limit
            continue  # "latest", "nightly-2026-01-01": not releases
        if not version.is_prerelease:
            releases.append((version, name))
    if not releases:
        return "the repository has no release tags yet"
    version, name = max(releases)
    return name, version


# ---------------------------------------------------------------------------------------------
# The check
# ---------------------------------------------------------------------------------------------


def _disabled() -> bool:
    return os.environ.get(DISABLE_ENV, "").strip() not in ("", "0")


def _repository(origin: InstallOrigin, api: str) -> tuple[str, str] | str:
    """(owner, repo) of a GitHub URL, or the reason it cannot be asked."""
    from urllib.parse import urlsplit  # noqa: PLC0415 - only the check needs it

    url = origin.url or ""
    if url.startswith("git@") and ":" in url:  # scp-like ssh spelling: git@github.com:o/r.git
        host, _, repo_path = url[len("git@") :].partition(":")
    else:
        parts = urlsplit(url)
        host, repo_path = parts.hostname or "", parts.path
    if api == DEFAULT_API and host.lower() not in ("github.com", "www.github.com"):
        return f"it was installed from {url}, and only GitHub is asked for release tags"
    match = _GITHUB_REPO.match(repo_path)
    if not match:
        return f"{url} does not name an owner/repository"
    return match.group(1), match.group(2)


def _skip(why: str, installed: str | None) -> UpdateStatus:
    return UpdateStatus("skip", f"could not check for updates ({why})", installed=installed)


def _check(origin: InstallOrigin, api: str, timeout: float) -> UpdateStatus:
    from packaging.version import InvalidVersion, Version  # noqa: PLC0415 - heavy import

    installed = origin.version
    if origin.kind != "vcs" or origin.vcs != "git":
        how = {
            "directory": "update that folder (git pull) and reinstall",
            "index": "pip install -U colab-bootstrap updates it",
            "not installed": "it runs from a source folder",
        }.get(origin.kind, "reinstall it from where it came")
        return UpdateStatus("skip", f"not a git install ({origin}): {how}", installed=installed)
    repository = _repository(origin, api)
    answer = repository if isinstance(repository, str) else _fetch_tags(api, *repository, timeout)
    newest = answer if isinstance(answer, str) else _newest_release(answer)
    if isinstance(newest, str):
        return _skip(newest, installed)
    tag, latest = newest
    try:
        current = Version(installed or "")
    except InvalidVersion:
        return _skip(f"the installed version {installed!r} is not a version", installed)
    if latest > current:
        return UpdateStatus(
            "update",
            f"update available: {installed} → {latest} (tag {tag}); run the fix, then {_RESTART}",
            fix=f"!pip install -q --force-reinstall git+{origin.url}@{tag}",
            installed=installed,
            latest=str(latest),
        )
    return UpdateStatus(
        "current",
        f"up to date: {installed} (newest release: {tag})",
        installed=installed,
        latest=str(latest),
    )


def check_update(origin: InstallOrigin | None = None, *, timeout: float = 2.0) -> UpdateStatus:
    """Ask the repository colab_bootstrap was installed from for a newer release; never raise.

    Only git installs are checked: one ``GET {api}/repos/{owner}/{repo}/tags?per_page=100``
    without retries. Tags that are not versions (``latest``, ``nightly``) and pre-releases are
    ignored; a leading ``v`` is allowed. ``$COLAB_BOOTSTRAP_GITHUB_API`` replaces
    ``https://api.github.com`` (mirrors, GitHub Enterprise, tests; any host's ``owner/repo``
    URL is then accepted); ``$COLAB_BOOTSTRAP_NO_UPDATE_CHECK`` set to anything but ""/"0"
    turns the check off.

    Whatever the server does, this returns within about ``timeout`` seconds: redirects are
    followed only within the API's scheme, host and port, answers over ``MAX_ANSWER_BYTES``
    (1 MiB) or nested deeper than ``MAX_JSON_DEPTH`` are not parsed, at most ``MAX_TAGS`` tags
    are looked at, and any failure is a "skip" naming it. Credentials in the API or install
    URL are shown as ``user:***@`` in the message and the fix.

    Args:
        origin: the install to check; default ``install_origin()``.
        timeout: seconds allowed for the whole request: connecting, the headers and the body.

    Returns:
        "update" with the exact install cell, "current", or "skip" with the reason (turned off,
        not a git install, offline, HTTP error or rate limit, an answer that is not tags, a
        failure of the check itself).
    """
    if _disabled():
        return UpdateStatus("skip", f"update check turned off by ${DISABLE_ENV}")
    api_value = os.environ.get(API_ENV, "")
    urls = [api_value]
    installed: str | None = None
    try:
        origin = origin if origin is not None else install_origin()
        urls.append(origin.url or "")
        installed = origin.version
        api = api_value.strip().rstrip("/") or DEFAULT_API
        status = _check(origin, api, timeout)
    except Exception as exc:  # noqa: BLE001 - "never raises": a failure is a skip that says what
        status = _skip(f"the check failed: {_failure(exc)}", installed)
    return _without_secrets(status, urls)
