"""Keep secrets and personal names out of what users paste into bug reports.

Two kinds of text leave the package to be pasted somewhere public: reports (``doctor()``'s
markdown and JSON, the requirements and update answers) and error messages. Both go through
here:

- :func:`credentials` masks the credentials of every URL in a text, in one linear pass:
  ``https://user:secret@host`` becomes ``https://user:***@host``. A user name alone on an
  http(s) URL (``https://token@github.com``, how GitHub tokens are often passed) is hidden
  whole (``https://***@github.com``); on other schemes (``ssh://git@github.com``) it is a login
  name and stays. A credential written as pip's ``${VAR}`` reference is kept as written: it
  names a variable, not its value. :func:`url_secrets` gives the secrets themselves, so a text
  that quotes one outside its URL (an error message) can be cleaned too.
- :class:`Redactor` replaces personal paths (the home folder, the My Drive folder) and the
  Google account e-mail in every spelling a report uses: plain, shell-quoted, JSON-escaped,
  ``repr()``-escaped and URL-quoted.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable, Iterator
from urllib.parse import quote

__all__ = [
    "MASK",
    "Redactor",
    "account_emails",
    "clip",
    "credentials",
    "spellings",
    "url_secrets",
]

#: What a masked credential shows.
MASK = "***"

# A credential that is only pip's environment references, e.g. "${TOKEN}": shown as written.
_ONLY_REFERENCES = re.compile(r"(?:\$\{[A-Za-z0-9_]+\})+")
# Secrets shorter than this are hidden inside their URL only: out of it they would blot words.
_SHORTEST_SECRET = 4
# Where the user-info part of a URL ends (RFC 3986 authority ends at '/', '?' or '#').
_AUTHORITY_END = frozenset("/?#\\ \t\r\n\"'<>`|")
# Drive for desktop names the account's folder "GoogleDrive-<e-mail>".
_ACCOUNT_FOLDER = "GoogleDrive-"
_EMAIL = re.compile(r"[^\s/\\'\"<>@]{1,64}@[A-Za-z0-9.-]{1,255}")


def _scheme_before(text: str, start: int) -> str:
    """The URL scheme that ends at ``start`` (where ``://`` begins), lower case; at most 32."""
    begin = start
    while (
        begin > 0 and start - begin < 32 and (text[begin - 1].isalnum() or text[begin - 1] in "+.-")
    ):
        begin -= 1
    return text[begin:start].lower()


def _secret(scheme: str, userinfo: str) -> str | None:
    """The secret in a URL's user information, or None (a login name, a ``${VAR}``, nothing)."""
    user, colon, password = userinfo.partition(":")
    if not colon and not scheme.endswith(("http", "https")):
        return None
    secret = password if colon else user
    return None if not secret or _ONLY_REFERENCES.fullmatch(secret) else secret


def _userinfos(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, scheme) of the user information of every URL in ``text``, in one pass.

    Each ``://`` is looked at once, and the authority after it is scanned only up to its end,
    so the work is linear in ``len(text)``.
    """
    start = text.find("://")
    length = len(text)
    while start != -1:
        begin = end = start + 3
        at = -1
        while end < length and text[end] not in _AUTHORITY_END:
            if text[end] == "@":
                at = end  # the last '@' of the authority ends the user info
            end += 1
        if at != -1:
            yield begin, at, _scheme_before(text, start)
        start = text.find("://", end)


def credentials(text: str) -> str:
    """``text`` with the credentials of every ``scheme://user:password@host`` URL masked."""
    if "://" not in text or "@" not in text:
        return text
    pieces: list[str] = []
    done = 0
    for begin, at, scheme in _userinfos(text):
        userinfo = text[begin:at]
        secret = _secret(scheme, userinfo)
        if secret is None:
            continue
        pieces.append(text[done:begin])
        pieces.append(userinfo[: len(userinfo) - len(secret)] + MASK)
        done = at
    pieces.append(text[done:])
    return "".join(pieces)


def clip(text: str, limit: int) -> str:
    """``text`` as shown: URL credentials masked, then cut to ``limit`` characters with "…".

    Masked before the cut: a cut through a URL's user information would leave its secret
    without the ``@`` that marks it.
    """
    text = credentials(text)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def url_secrets(urls: Iterable[str]) -> tuple[str, ...]:
    """The secrets in ``urls`` as written and percent-decoded, longest first.

    For cleaning a text that may quote a secret outside its URL (``replace`` each with
    ``MASK``). Secrets under 4 characters are left out: replaced everywhere they would blot out
    ordinary words, and :func:`credentials` still hides them inside their URL.
    """
    from urllib.parse import unquote  # noqa: PLC0415 - only error texts need it

    found: set[str] = set()
    for url in urls:
        if "://" not in url or "@" not in url:
            continue
        for begin, at, scheme in _userinfos(url):
            secret = _secret(scheme, url[begin:at])
            if secret is not None:
                found.update({secret, unquote(secret)})
    return tuple(
        sorted((s for s in found if len(s) >= _SHORTEST_SECRET), key=lambda s: (-len(s), s))
    )


def account_emails(paths: Iterable[str]) -> tuple[str, ...]:
    """The Google account e-mails named by Drive for desktop folders in ``paths``."""
    found: set[str] = set()
    for path in paths:
        index = path.find(_ACCOUNT_FOLDER)
        while index != -1:
            match = _EMAIL.match(path, index + len(_ACCOUNT_FOLDER))
            if match is not None:
                found.add(match.group())
            index = path.find(_ACCOUNT_FOLDER, index + 1)
    return tuple(sorted(found))


def spellings(text: str) -> set[str]:
    """``text`` as it can appear inside a report: plain, shell-quoted, JSON, repr, URL-quoted."""
    quoted = shlex.quote(text)
    shell = quoted[1:-1] if quoted.startswith("'") and quoted.endswith("'") else quoted
    forms = {
        text,
        shell,
        text.replace("'", "'\"'\"'"),  # inside a longer shell-quoted string
        json.dumps(text)[1:-1],
        json.dumps(text, ensure_ascii=False)[1:-1],
        repr(text)[1:-1],
        text.replace("\\", "\\\\").replace("'", "\\'"),  # repr() of a string holding both quotes
        quote(text),
        quote(text, safe="/:@"),
    }
    return {form for form in forms if form}


class Redactor:
    """Replace personal values with placeholders in every spelling, longest first.

    ``Redactor([("/home/o'brien", "~")])`` turns the shell-quoted ``'/home/o'"'"'brien/x'``
    into ``'~/x'``, as it turns the plain ``/home/o'brien/x`` into ``~/x``.
    """

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        table: dict[str, str] = {}
        for value, placeholder in pairs:
            if not value:
                continue
            for form in spellings(value):
                table.setdefault(form, placeholder)
        self._pairs = sorted(table.items(), key=lambda pair: (-len(pair[0]), pair[0]))

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        """Each spelling and its placeholder, longest first."""
        return tuple(self._pairs)

    def __call__(self, text: str) -> str:
        """``text`` with every spelling replaced and URL credentials masked."""
        for value, placeholder in self._pairs:
            if value in text:
                text = text.replace(value, placeholder)
        return credentials(text)
