"""``python -m colab_bootstrap``: the command line (see ``_cli``)."""

from __future__ import annotations

import sys

from ._cli import main

__all__ = ["main"]

if __name__ == "__main__":  # pragma: no cover - exercised through subprocess tests
    sys.exit(main())
