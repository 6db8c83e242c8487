"""Fake google.colab.snippets: register(url) records the call."""

from google.colab import _record

__all__ = ["register"]


def register(url):
    _record("snippets.register", url=url)
