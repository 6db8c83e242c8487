"""Logging without paying for it: ``logging`` is imported on the first message only.

The library never configures logging; its logger gets a NullHandler (as urllib3's does) the first
time it logs, so ``import colab_bootstrap`` and ``setup()`` stay cheap.
"""

from __future__ import annotations

__all__ = ["info"]


def info(name: str, message: str, *args: object) -> None:
    """Log ``message % args`` at INFO on logger ``name`` (a module of this package)."""
    import logging  # noqa: PLC0415 - deferred on purpose

    package = logging.getLogger("colab_bootstrap")
    if not any(isinstance(handler, logging.NullHandler) for handler in package.handlers):
        package.addHandler(logging.NullHandler())
    logging.getLogger(name).info(message, *args)
