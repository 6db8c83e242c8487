"""Fake of Colab's google.colab package for tests (see tests/fakes/README.md)."""

import json
import os
import time


def _root():
    return os.environ.get("FAKE_COLAB_ROOT", "")


def _record(call, **kwargs):
    root = _root()
    if not root:
        return
    with open(os.path.join(root, "calls.jsonl"), "a", encoding="utf-8") as log:
        log.write(json.dumps({"call": call, "pid": os.getpid(), "t": time.time(), **kwargs}) + "\n")
