"""Snippet notebooks for Colab: ``snippets()`` builds one, ``register_snippets()`` registers it.

Colab offers the code cells of a "snippet notebook" in Insert > Code snippets: each ``# Title``
markdown cell names the code cells under it, and Colab's search finds them by that title. A
notebook registered under Tools > Settings > Site > Custom snippet notebook URL (or from a cell,
``google.colab.snippets.register(url)``) puts the setup cell one click away. The notebook is built
here as a plain dict: writing one needs no nbformat.
"""

from __future__ import annotations

import inspect
import os
import re
from typing import Any

from . import _colab, _locate
from ._errors import InvalidProjectError, InvalidUrlError
from ._session import SESSION, Location

__all__ = ["DEFAULT_INSTALL_URL", "INSTALL_LINE", "register_snippets", "snippets"]

#: What the setup snippet installs, as ``!pip install -q <this>``.
DEFAULT_INSTALL_URL = "git+https://github.com/colab-bootstrap/colab-bootstrap"
#: The install cell's line. Re-running it in the same runtime does no work: a 15 ms import
#: check instead of pip's clone and build (about 1.2 s, more on Colab's network). A newer
#: release is reported by check_update() / doctor() with the --force-reinstall line to run.
#: Like every ``!pip`` line, it counts on the shell's ``python`` and ``pip`` being the
#: notebook's interpreter, as on Colab.
INSTALL_LINE = '!python -c "import colab_bootstrap" 2>/dev/null || pip install -q {url}'

# One word that survives both IPython's `!` line (which expands $name and {expr}) and /bin/sh
# (quotes, globs, redirections, separators): nothing else goes after `pip install -q`.
_SHELL_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~:/@%+=,#!-]*")
_SNIPPET_URL = re.compile(r"https?://[^\s\"'<>]+")

# (cell id, title, what it does, the code). The setup snippet comes first and is built per
# project; these follow it, each calling one public function of the installed package.
_TOOLS: tuple[tuple[str, str, str, str], ...] = (
    (
        "doctor",
        "colab_bootstrap: doctor",
        "Checks the runtime, Drive, the project folder and the loaded modules, and says how "
        "to fix each problem it finds. Changes nothing.",
        "colab_bootstrap.doctor()",
    ),
    (
        "reset",
        "colab_bootstrap: reset",
        "Reloads the project modules whose files changed since they were imported (even when "
        "autoreload missed the edit) and rebinds the names `from module import *` gave you.",
        "colab_bootstrap.reset()",
    ),
    (
        "reset-remount",
        "colab_bootstrap: reset with remount",
        "Like reset, after remounting Google Drive (at the mountpoint setup used): for edits "
        "that Drive has not shown to this runtime yet, or stale `name (1).py` copies.",
        "colab_bootstrap.reset(remount=True)",
    ),
    (
        "dedupe",
        "colab_bootstrap: dedupe (dry run)",
        "Lists the `name (1).py` copies Drive sync made in the project and what dedupe would "
        "keep. A dry run: nothing is moved (`dedupe(apply=True)` carries the plan out).",
        "colab_bootstrap.dedupe()",
    ),
)


def _literal(value: object) -> str:
    """Python source for ``value`` (str, path, bool, int or None), strings double-quoted."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if value is None or isinstance(value, (bool, int)):
        return repr(value)
    if isinstance(value, str):
        text = repr(value)
        if text.startswith("'") and '"' not in value:
            text = f'"{text[1:-1]}"'
        return text
    raise TypeError(
        f"setup option value {value!r} ({type(value).__name__}) cannot be written into a "
        "notebook cell; pass a str, path, bool, int or None."
    )


def _setup_call(project: str, options: dict[str, object]) -> str:
    from ._setup import setup  # noqa: PLC0415 - only its signature is needed, and only here

    accepted = [
        name
        for name, parameter in inspect.signature(setup).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise TypeError(
            f"snippets() got setup option(s) {', '.join(map(repr, unknown))} that setup() does "
            f"not take; it takes {', '.join(accepted)}."
        )
    arguments = [_literal(project)] + [f"{k}={_literal(v)}" for k, v in options.items()]
    return f"colab_bootstrap.setup({', '.join(arguments)})"


def _location_options(location: Location) -> dict[str, object]:
    """The location options a setup() call was given, for writing it again."""
    options: dict[str, object] = {}
    if location.drive_dir is not None:
        options["drive_dir"] = location.drive_dir
    if location.mountpoint != Location.given(None, None, None, SESSION.defaults).mountpoint:
        options["mountpoint"] = location.mountpoint
    if location.content_dir is not None:
        options["content_dir"] = location.content_dir
    return options


def _check_install_url(install_url: object) -> str:
    if not isinstance(install_url, str) or not _SHELL_WORD.fullmatch(install_url):
        raise InvalidUrlError(
            f"install_url {install_url!r} cannot go on the `!pip install` line: it must be one "
            "word made of letters, digits and . _ ~ : / @ % + = , # ! - (no spaces, quotes, $, "
            "braces or < >). Percent-encode other characters (a space is %20), e.g. "
            f"{DEFAULT_INSTALL_URL + '@main'!r}."
        )
    return install_url


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _markdown(cell_id: str, title: str, body: str) -> dict[str, Any]:
    return {
        "cell_type": "markdown",
        "id": f"{cell_id}-title",
        "metadata": {},
        "source": _lines(f"# {title}\n\n{body}"),
    }


def _code(cell_id: str, source: str) -> dict[str, Any]:
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": f"{cell_id}-code",
        "metadata": {},
        "outputs": [],
        "source": _lines(source),
    }


def snippets(
    project: str | None = None,
    *,
    install_url: str = DEFAULT_INSTALL_URL,
    **setup_options: object,
) -> dict[str, Any]:
    """Build a Colab snippet notebook for ``project`` (an nbformat 4 notebook as a dict).

    The snippets, each an H1 markdown title with a code cell under it:
    "colab_bootstrap: set up <project>" (install cell plus ``setup()``), "... doctor",
    "... reset", "... reset with remount" and "... dedupe (dry run)". Save the dict as JSON
    (``json.dump``) to get the ``.ipynb`` file, or use ``colab-bootstrap snippet PROJECT``.

    Args:
        project: the folder relative to My Drive, as ``setup()`` takes it; default the project
            set up last in this process, with the ``drive_dir``, ``mountpoint``,
            ``content_dir`` and ``link_name`` that ``setup()`` was given (``setup_options`` win).
        install_url: what the setup snippet's install line (``INSTALL_LINE``) installs when
            colab_bootstrap is not importable yet.
        **setup_options: keyword arguments written into the ``setup()`` call, e.g.
            ``gpu="require"``; only ``setup()``'s own keyword arguments are accepted.

    Raises:
        InvalidProjectError: a bad project name, or none given and none set up.
        InvalidUrlError: an install URL that cannot go on a shell line as one word.
        TypeError: an option ``setup()`` does not take, or a value that is not a literal.
    """
    if project is None:
        current = SESSION.current()
        if current is None:
            raise InvalidProjectError(
                "snippets() needs a project and none was set up in this process: pass the "
                "folder, e.g. colab_bootstrap.snippets('fastai_course2')."
            )
        project = current.project.name
        given = _location_options(current.location)
        link = current.project.link
        if link is not None and link.name != current.project.path.name:
            given["link_name"] = link.name
        setup_options = {**given, **setup_options}
    name = str(_locate.validate_project(project))
    url = _check_install_url(install_url)
    install = INSTALL_LINE.format(url=url)
    setup_source = f"{install}\nimport colab_bootstrap\n{_setup_call(name, setup_options)}"
    cells = [
        _markdown(
            "setup",
            f"colab_bootstrap: set up {name}",
            f"Installs colab_bootstrap, mounts Google Drive, checks the GPU and makes the "
            f"folder `{name}` in My Drive importable, with autoreload on. Safe to re-run.",
        ),
        _code("setup", setup_source),
    ]
    for cell_id, title, body, call in _TOOLS:
        cells += [
            _markdown(cell_id, title, body),
            _code(cell_id, f"import colab_bootstrap\n{call}"),
        ]
    return {
        "cells": cells,
        "metadata": {
            "colab": {"provenance": []},
            "kernelspec": {"display_name": "Python 3", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def register_snippets(url: str) -> None:
    """Make Colab offer the snippets of the notebook at ``url`` (Colab only).

    Calls ``google.colab.snippets.register``. Off Colab, paste the URL in Colab under
    Tools > Settings > Site > Custom snippet notebook URL instead.

    Raises:
        InvalidUrlError: ``url`` is not an http(s) URL (or not a string at all).
        NotOnColabError: not on a Colab runtime.
        NotInNotebookError: on Colab, but not in a notebook cell (``!python``, the command
            line): Colab asks the browser through the notebook's kernel.
        ColabBootstrapError: Colab's ``snippets.register`` failed otherwise (its first line,
            and where to paste the URL by hand; the full error is the ``__cause__``).
    """
    given: object = url  # typed str, but a notebook passes anything: None, a Path, bytes
    if not isinstance(given, str) or not _SNIPPET_URL.fullmatch(given):
        raise InvalidUrlError(
            f"{url!r} is not a notebook URL. Open the snippet notebook in Colab and copy the "
            "address from the browser, e.g. 'https://colab.research.google.com/drive/<id>'."
        )
    _colab.register_snippets(url)
