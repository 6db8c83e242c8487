"""Install origin, the update check against a real local HTTP server, and the restart hint."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import colab_bootstrap
from colab_bootstrap._update import (
    API_ENV,
    DISABLE_ENV,
    InstallOrigin,
    check_update,
    install_origin,
    restart_needed,
)
from conftest import Answer, TagServer, write_dist

REPO_URL = "https://github.com/colab-bootstrap/colab-bootstrap.git"
COMMIT = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"
GIT_ORIGIN = {
    "url": REPO_URL,
    "vcs_info": {"vcs": "git", "commit_id": COMMIT, "requested_revision": "main"},
}


@pytest.fixture
def git_install(tmp_path: Path) -> InstallOrigin:
    """colab-bootstrap 0.2.0 installed from git, as pip records it (real direct_url.json)."""
    site = tmp_path / "site"
    write_dist(site, "colab-bootstrap", "0.2.0", direct_url=GIT_ORIGIN)
    return install_origin(path=[str(site)])


def test_git_install_origin_is_read_from_direct_url_json(git_install: InstallOrigin) -> None:
    """URL, commit and requested revision come from the distribution's direct_url.json."""
    assert git_install.kind == "vcs"
    assert git_install.vcs == "git"
    assert git_install.url == REPO_URL
    assert git_install.commit == COMMIT
    assert git_install.requested_revision == "main"
    assert not git_install.editable
    assert not git_install.local
    assert git_install.version == "0.2.0"
    assert git_install.location is not None
    assert git_install.location.name == "site"
    assert str(git_install) == f"git {REPO_URL} @ 1a2b3c4 (0.2.0)"


@pytest.mark.parametrize(
    ("direct_url", "kind", "text"),
    [
        (
            {"url": "file:///home/me/colab-bootstrap", "dir_info": {"editable": True}},
            "directory",
            "editable install of file:///home/me/colab-bootstrap (0.2.0)",
        ),
        (
            {"url": "file:///home/me/colab-bootstrap", "dir_info": {}},
            "directory",
            "folder file:///home/me/colab-bootstrap (0.2.0)",
        ),
        (
            {"url": "file:///tmp/colab_bootstrap-0.2.0-py3-none-any.whl", "archive_info": {}},
            "archive",
            "archive file:///tmp/colab_bootstrap-0.2.0-py3-none-any.whl (0.2.0)",
        ),
        (None, "index", "a package index (0.2.0)"),
        ("not json", "index", "a package index (0.2.0)"),
    ],
)
def test_other_install_origins(tmp_path: Path, direct_url: Any, kind: str, text: str) -> None:
    """Folders (editable or not), archives, and index installs are told apart."""
    site = tmp_path / "site"
    info = write_dist(site, "colab_bootstrap", "0.2.0", direct_url=direct_url)
    if direct_url == "not json":
        (info / "direct_url.json").write_text("{not json")
    origin = install_origin(path=[str(site)])
    assert origin.kind == kind
    assert str(origin) == text
    assert origin.local == text.startswith(("editable", "folder", "archive"))


def test_not_installed_origin(tmp_path: Path) -> None:
    """Imported from a source folder without metadata: 'not installed', nothing to check."""
    origin = install_origin(path=[str(tmp_path)])
    assert origin == InstallOrigin("not installed")
    status = check_update(origin)
    assert status.status == "skip"
    assert "it runs from a source folder" in status.message


def test_newer_tag_means_update_with_the_install_cell(
    tag_server: TagServer, git_install: InstallOrigin
) -> None:
    """A newer release tag gives 'update available: X → Y' and the exact install cell."""
    tag_server.tags("v0.1.0", "v0.2.0", "v0.10.0", "v0.3.0")
    status = check_update(git_install)
    assert status.status == "update"
    assert status.message.startswith("update available: 0.2.0 → 0.10.0 (tag v0.10.0)")
    assert "Restart session" in status.message
    assert status.fix == f"!pip install -q --force-reinstall git+{REPO_URL}@v0.10.0"
    assert (status.installed, status.latest) == ("0.2.0", "0.10.0")
    (path, headers) = tag_server.requests[0]
    assert path == "/repos/colab-bootstrap/colab-bootstrap/tags?per_page=100"
    assert headers["User-Agent"] == f"colab-bootstrap/{colab_bootstrap.__version__}"
    assert "fix      !pip install -q --force-reinstall" in str(status)
    assert "update available: 0.2.0 → 0.10.0" in status._repr_html_()


def test_same_tag_is_up_to_date(tag_server: TagServer, git_install: InstallOrigin) -> None:
    """The installed version is the newest release: 'up to date', no fix."""
    tag_server.tags("0.1.0", "0.2.0")
    status = check_update(git_install)
    assert status.status == "current"
    assert status.message == "up to date: 0.2.0 (newest release: 0.2.0)"
    assert status.fix is None


def test_prereleases_and_non_version_tags_are_ignored(
    tag_server: TagServer, git_install: InstallOrigin
) -> None:
    """Release candidates, dev builds and names like 'latest' never count as updates."""
    tag_server.tags("v0.3.0rc1", "v0.3.0.dev2", "v0.4.0b1", "latest", "nightly-2026", "v0.2.0")
    status = check_update(git_install)
    assert status.status == "current"
    assert status.latest == "0.2.0"


def test_repository_without_release_tags(tag_server: TagServer, git_install: InstallOrigin) -> None:
    """No release tag at all is a skip that says so."""
    tag_server.tags("latest")
    status = check_update(git_install)
    assert status.status == "skip"
    assert status.message == (
        "could not check for updates (the repository has no release tags yet)"
    )


def test_rate_limit_403_is_a_clear_skip(tag_server: TagServer, git_install: InstallOrigin) -> None:
    """GitHub's 403 with X-RateLimit-Remaining: 0 says 'rate limit' and when it resets."""
    tag_server.answer = Answer(
        status=403,
        body=b'{"message": "API rate limit exceeded for 1.2.3.4."}',
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1767225600"},
    )
    status = check_update(git_install)
    assert status.status == "skip"
    assert status.message == (
        "could not check for updates "
        "(HTTP 403 rate limit of the GitHub API; it resets at 00:00 UTC)"
    )


def test_rate_limit_429_without_headers(tag_server: TagServer, git_install: InstallOrigin) -> None:
    """A 429 whose body speaks of a rate limit is told apart even without the reset header."""
    tag_server.answer = Answer(status=429, body=b'{"message": "secondary rate limit"}')
    status = check_update(git_install)
    assert status.message == ("could not check for updates (HTTP 429 rate limit of the GitHub API)")


def test_other_http_errors_are_skips(tag_server: TagServer, git_install: InstallOrigin) -> None:
    """A 404 (repository renamed, say) is a skip naming the status."""
    tag_server.answer = Answer(status=404, body=b'{"message": "Not Found"}')
    status = check_update(git_install)
    assert status.status == "skip"
    assert status.message.startswith("could not check for updates (HTTP 404 Not Found from ")


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"<html>proxy login</html>", "not JSON"),
        (b'{"message": "moved"}', "unexpected answer: not a list of tags"),
        (b'[{"title": "v1.0"}]', "unexpected answer: not a list of tags"),
        (b"\xff\xfe\x00garbage", "not JSON"),
    ],
)
def test_malformed_answers_are_skips(
    tag_server: TagServer, git_install: InstallOrigin, body: bytes, why: str
) -> None:
    """Anything but a list of tags is 'unexpected answer', never an exception."""
    tag_server.answer = Answer(body=body)
    status = check_update(git_install)
    assert status.status == "skip"
    assert why in status.message


def test_server_that_never_answers_is_a_skip_within_the_timeout(
    tag_server: TagServer, git_install: InstallOrigin
) -> None:
    """A server that accepts and never answers costs the timeout (plus a margin), not a hang."""
    tag_server.answer = Answer(hang=True)
    started = time.monotonic()
    status = check_update(git_install, timeout=0.5)
    elapsed = time.monotonic() - started
    assert status.status == "skip"
    assert status.message == (
        f"could not check for updates (no answer from {tag_server.url} within 0.5 s)"
    )
    assert elapsed < 0.5 + 2.0
    # One request, no retries. The server's handler thread records it once it has parsed it,
    # which on a loaded machine can come after the client gave up: wait for it, then a little
    # longer for any retry.
    give_up = time.monotonic() + 3
    while not tag_server.requests and time.monotonic() < give_up:
        time.sleep(0.02)
    time.sleep(0.2)
    assert len(tag_server.requests) == 1


def test_offline_is_a_skip(git_install: InstallOrigin, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing listening on the port: 'offline', no exception, one short try."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv(API_ENV, f"http://127.0.0.1:{port}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    status = check_update(git_install, timeout=1.0)
    assert status.status == "skip"
    assert status.message == (
        f"could not check for updates (offline: cannot reach http://127.0.0.1:{port} "
        "(ConnectionError))"
    )


def test_environment_variable_turns_the_check_off(
    tag_server: TagServer, git_install: InstallOrigin, monkeypatch: pytest.MonkeyPatch
) -> None:
    """$COLAB_BOOTSTRAP_NO_UPDATE_CHECK=1 skips without any request; '0' leaves it on."""
    tag_server.tags("v9.0.0")
    monkeypatch.setenv(DISABLE_ENV, "1")
    status = check_update(git_install)
    assert status.status == "skip"
    assert status.message == f"update check turned off by ${DISABLE_ENV}"
    assert tag_server.requests == []
    monkeypatch.setenv(DISABLE_ENV, "0")
    assert check_update(git_install).status == "update"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://gitlab.com/me/colab-bootstrap.git", "only GitHub is asked for release tags"),
        ("https://github.com/just-an-owner", "does not name an owner/repository"),
    ],
)
def test_repositories_that_cannot_be_asked(
    url: str, why: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Other hosts and odd URLs are skips with the reason, and nothing is fetched."""
    monkeypatch.delenv(API_ENV, raising=False)
    origin = InstallOrigin("vcs", version="0.2.0", url=url, vcs="git")
    status = check_update(origin)
    assert status.status == "skip"
    assert why in status.message


def test_ssh_urls_and_mirrors(tag_server: TagServer) -> None:
    """git@github.com:o/r.git is understood; with the API overridden any host is accepted."""
    tag_server.tags("v1.0.0")
    for url in ("git@github.com:me/cb.git", "ssh://git@github.com/me/cb", "https://ghe.corp/me/cb"):
        origin = InstallOrigin("vcs", version="0.2.0", url=url, vcs="git")
        status = check_update(origin)
        assert status.status == "update"
        assert status.fix == f"!pip install -q --force-reinstall git+{url}@v1.0.0"
    assert [path for path, _ in tag_server.requests] == ["/repos/me/cb/tags?per_page=100"] * 3


def test_installs_not_from_git_are_skips_that_say_how_to_update(tag_server: TagServer) -> None:
    """Editable, folder, archive and index installs are not checked; nothing is fetched."""
    cases = {
        InstallOrigin("directory", "0.2.0", "file:///src", editable=True): "git pull",
        InstallOrigin("index", "0.2.0"): "pip install -U colab-bootstrap",
        InstallOrigin("archive", "0.2.0", "file:///x.whl"): "reinstall it from where it came",
    }
    for origin, how in cases.items():
        status = check_update(origin)
        assert status.status == "skip"
        assert how in status.message
    assert tag_server.requests == []


def test_unparsable_installed_version_is_a_skip(tag_server: TagServer) -> None:
    """An installed version that is not PEP 440 cannot be compared: skip, say why."""
    tag_server.tags("v1.0.0")
    origin = InstallOrigin("vcs", version="custom", url=REPO_URL, vcs="git")
    assert check_update(origin).message == (
        "could not check for updates (the installed version 'custom' is not a version)"
    )


def test_restart_needed_when_installed_differs_from_imported(tmp_path: Path) -> None:
    """After an upgrade on disk the running code is old: the message names both versions."""
    newer, same, editable = tmp_path / "newer", tmp_path / "same", tmp_path / "editable"
    write_dist(newer, "colab-bootstrap", "9.9.9", direct_url=GIT_ORIGIN)
    write_dist(same, "colab-bootstrap", colab_bootstrap.__version__)
    write_dist(
        editable,
        "colab-bootstrap",
        "9.9.9",
        direct_url={"url": "file:///src", "dir_info": {"editable": True}},
    )
    assert restart_needed(path=[str(newer)]) == (
        f"colab_bootstrap 9.9.9 is installed but {colab_bootstrap.__version__} is running in "
        "this process: restart the runtime (Runtime > Restart session) to run it."
    )
    assert restart_needed(path=[str(same)]) is None
    assert restart_needed(path=[str(editable)]) is None
    assert restart_needed(path=[str(tmp_path / "nothing")]) is None


def test_this_checkout_is_an_editable_install_needing_no_restart() -> None:
    """The test environment installs this checkout editable: the real lookup agrees."""
    origin = install_origin()
    assert origin.kind == "directory"
    assert origin.editable
    assert restart_needed() is None


def test_import_does_not_load_requests_or_packaging() -> None:
    """`import colab_bootstrap` stays cheap: the update and requirement code loads them lazily."""
    code = (
        "import sys, colab_bootstrap, colab_bootstrap._update, colab_bootstrap._requirements; "
        "print(sorted(m for m in ('requests', 'packaging', 'urllib3') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
