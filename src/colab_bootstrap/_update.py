"""Where colab_bootstrap was installed from, whether a newer release exists, whether to restart.

Users install straight from git in every fresh runtime, so the usual "pip says there is a newer
version" never happens: ``check_update()`` asks the repository's GitHub tags API once (no
retries, a short timeout; never raises) and gives the exact reinstall cell. ``pip`` records a
git install's URL and commit in ``direct_url.json`` (PEP 610), which ``install_origin()`` reads.
After an upgrade in a running kernel the old code stays loaded until the runtime restarts:
``restart_needed()`` compares the version on disk with the one running. requests and packaging
are imported inside the functions.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ._render import Rendered
from ._requirements import dist_version, find_distributions
from ._version import __version__

if TYPE_CHECKING:
    import requests

__all__ = [
    "API_ENV",
    "DISABLE_ENV",
    "InstallOrigin",
    "UpdateStatus",
    "check_update",
    "install_origin",
    "restart_needed",
]

#: The distribution name of this package.
DIST_NAME = "colab-bootstrap"
#: Replaces the GitHub API base URL (mirrors, GitHub Enterprise, tests).
API_ENV = "COLAB_BOOTSTRAP_GITHUB_API"
#: Set (to anything but "" or "0") to turn the update check off.
DISABLE_ENV = "COLAB_BOOTSTRAP_NO_UPDATE_CHECK"
DEFAULT_API = "https://api.github.com"
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
        if self.kind == "vcs":
            commit = f" @ {self.commit[:7]}" if self.commit else ""
            return f"{self.vcs or 'vcs'} {self.url}{commit}{version}"
        if self.kind == "directory":
            editable = "editable install of " if self.editable else "folder "
            return f"{editable}{self.url}{version}"
        if self.kind == "archive":
            return f"archive {self.url}{version}"
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


def install_origin(*, path: Sequence[str] | None = None) -> InstallOrigin:
    """Where the installed colab_bootstrap came from, read from its ``direct_url.json``.

    Args:
        path: where to look for the installed distribution; default ``sys.path``.
    """
    dist = find_distributions([DIST_NAME], path).get(DIST_NAME)
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


def _http_problem(response: requests.Response) -> str:
    headers = response.headers
    if response.status_code in (403, 429) and (
        headers.get("X-RateLimit-Remaining") == "0" or "rate limit" in response.text.lower()
    ):
        reset = headers.get("X-RateLimit-Reset", "")
        when = ""
        if reset.isdigit():
            moment = datetime.fromtimestamp(int(reset), tz=timezone.utc)
            when = f"; it resets at {moment:%H:%M} UTC"
        return f"HTTP {response.status_code} rate limit of the GitHub API{when}"
    return f"HTTP {response.status_code} {response.reason or ''} from {response.url}".replace(
        "  ", " "
    )


def _newest_release(tags: Any) -> tuple[str, Any] | str:
    """(tag name, version) of the newest final release in a tags answer, or what is wrong."""
    from packaging.version import InvalidVersion, Version  # noqa: PLC0415 - heavy import

    if not isinstance(tags, list) or not all(
        isinstance(tag, dict) and isinstance(tag.get("name"), str) for tag in tags
    ):
        return "unexpected answer: not a list of tags"
    releases: list[tuple[Version, str]] = []
    for tag in tags:
        try:
            version = Version(tag["name"])
        except InvalidVersion:
            continue  # "latest", "nightly-2026-01-01": not releases
        if not version.is_prerelease:
            releases.append((version, tag["name"]))
    if not releases:
        return "the repository has no release tags yet"
    version, name = max(releases)
    return name, version


def _fetch_tags(api: str, owner: str, repo: str, timeout: float) -> Any:
    """The JSON answer of the tags API, or a ``str`` saying why there is none."""
    import requests  # noqa: PLC0415 - heavy import, only the check needs it

    try:
        response = requests.get(
            f"{api}/repos/{owner}/{repo}/tags",
            params={"per_page": "100"},
            headers={
                "Accept": "application/vnd.github+json",
                "User-Agent": f"colab-bootstrap/{__version__}",
            },
            timeout=(timeout, timeout),
        )
    except requests.Timeout:
        return f"no answer from {api} within {timeout:g} s"
    except requests.RequestException as exc:
        return f"offline: cannot reach {api} ({type(exc).__name__})"
    if response.status_code != 200:
        return _http_problem(response)
    try:
        return response.json()
    except ValueError:  # requests' JSONDecodeError, a UnicodeDecodeError: both ValueErrors
        return f"unexpected answer from {api}: not JSON"


def check_update(origin: InstallOrigin | None = None, *, timeout: float = 2.0) -> UpdateStatus:
    """Ask the repository colab_bootstrap was installed from for a newer release; never raise.

    Only git installs are checked: one ``GET {api}/repos/{owner}/{repo}/tags?per_page=100``
    without retries. Tags that are not versions (``latest``, ``nightly``) and pre-releases are
    ignored; a leading ``v`` is allowed. ``$COLAB_BOOTSTRAP_GITHUB_API`` replaces
    ``https://api.github.com`` (mirrors, GitHub Enterprise, tests; any host's ``owner/repo``
    URL is then accepted); ``$COLAB_BOOTSTRAP_NO_UPDATE_CHECK`` set to anything but ""/"0"
    turns the check off.

    Args:
        origin: the install to check; default ``install_origin()``.
        timeout: seconds allowed for connecting, and for each read of the answer.

    Returns:
        "update" with the exact install cell, "current", or "skip" with the reason (turned off,
        not a git install, offline, HTTP error or rate limit, an answer that is not tags).
    """
    from packaging.version import InvalidVersion, Version  # noqa: PLC0415 - heavy import

    if _disabled():
        return UpdateStatus("skip", f"update check turned off by ${DISABLE_ENV}")
    origin = origin if origin is not None else install_origin()
    installed = origin.version
    if origin.kind != "vcs" or origin.vcs != "git":
        how = {
            "directory": "update that folder (git pull) and reinstall",
            "index": "pip install -U colab-bootstrap updates it",
            "not installed": "it runs from a source folder",
        }.get(origin.kind, "reinstall it from where it came")
        return UpdateStatus("skip", f"not a git install ({origin}): {how}", installed=installed)
    api = os.environ.get(API_ENV, "").strip().rstrip("/") or DEFAULT_API
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
