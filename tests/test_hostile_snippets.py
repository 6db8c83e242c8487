"""snippets() and register_snippets() and any argument: a result or the documented error."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import colab_bootstrap
from colab_bootstrap import (
    ColabBootstrapError,
    InvalidProjectError,
    InvalidUrlError,
    NotOnColabError,
)
from conftest import FakeColab


@pytest.mark.parametrize(
    "name", ["x" * 300, "a\udcffb", "a/" + "é" * 128, "/".join(["y" * 250] * 17), "MyDrive\\x"]
)
def test_snippets_refuses_a_name_setup_would_refuse(name: str) -> None:
    """A snippet is never written for a name no folder can have: InvalidProjectError."""
    with pytest.raises(InvalidProjectError):
        colab_bootstrap.snippets(name)


class _LooksLikeAUrl:
    def __str__(self) -> str:
        return "https://colab.research.google.com/drive/abc"


@pytest.mark.parametrize(
    "url", [None, 5, b"https://x.y/z", Path("https://x.y/z"), _LooksLikeAUrl(), ""]
)
def test_register_snippets_takes_only_a_url_string(url: object) -> None:
    """Anything but an http(s) URL string is InvalidUrlError, before Colab is asked."""
    with pytest.raises(InvalidUrlError):
        colab_bootstrap.register_snippets(url)  # type: ignore[arg-type]


def test_register_snippets_off_colab_is_not_on_colab_error() -> None:
    """A good URL off Colab: the documented NotOnColabError (with where to paste it)."""
    with pytest.raises(NotOnColabError, match="Custom snippet notebook URL"):
        colab_bootstrap.register_snippets("https://colab.research.google.com/drive/abc")


@settings(max_examples=200, deadline=None)
@given(name=st.one_of(st.none(), st.text(st.characters(exclude_categories=())), st.binary()))
def test_snippets_returns_a_notebook_or_invalid_project_error(name: object) -> None:
    """Any project argument: a notebook dict, or InvalidProjectError (none set up here)."""
    try:
        notebook = colab_bootstrap.snippets(name)  # type: ignore[arg-type]
    except InvalidProjectError as exc:
        assert "\n" not in str(exc)  # noqa: PT017 - any name: the error is the result
    else:
        assert notebook["nbformat"] == 4


def test_a_browser_that_refuses_the_registration_is_a_documented_error(
    fake_colab: FakeColab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Colab's MessageError (the browser said no): a ColabBootstrapError naming the way by hand."""
    monkeypatch.setenv("FAKE_COLAB_BROWSER_ERROR", "snippets are disabled by your administrator")
    url = "https://colab.research.google.com/drive/abc"
    with pytest.raises(ColabBootstrapError, match="disabled by your administrator") as caught:
        colab_bootstrap.register_snippets(url)
    assert "Custom snippet notebook URL" in str(caught.value)
    assert type(caught.value.__cause__).__name__ == "MessageError"
