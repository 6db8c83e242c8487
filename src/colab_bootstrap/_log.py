"""Logging without paying for it: ``logging`` is imported on the first message only.

The library never configures logging; it attaches a NullHandler to its own logger (as urllib3
does) the first time it logs, so ``import colab_bootstrap`` and ``setup()`` stay cheap.
"""

from __future__ import annotations

__all__ = ["debug", "info"]

_ready = False


def _logger(name: str) -> object:
    import logging  # noqa: PLC0415 - deferred on purpose

    global _ready  # noqa: PLW0603 - one NullHandler per process
    if not _ready:
        logging.getLogger("colab_bootstrap").addHandler(logging.NullHandler())
        _ready = True
    return logging.getLogger(name)


def info(name: str, message: str, *args: object) -> None:
    """Log ``message % args`` at INFO on logger ``name``."""
    _logger(name).info(message, *args)  # type: ignore[attr-defined]


def debug(name: str, message: str, *args: object) -> None:
    """Log ``message % args`` at DEBUG on logger ``name``."""
    _logger(name).debug(message, *args)  # type: ignore[attr-defined]
