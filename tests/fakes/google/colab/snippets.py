"""Fake google.colab.snippets: register(url) records the call and asks the browser (a kernel)."""

from google.colab import _message, _record

__all__ = ["register"]


def register(url):
    _record("snippets.register", url=url)
    _message.blocking_request("register_snippets", {"url": url})
