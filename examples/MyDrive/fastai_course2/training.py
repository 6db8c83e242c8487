"""The training loop, written on a Windows laptop and synced to Drive."""

import os

from preprocessing import normalize

# Works on the Windows laptop, not on Colab's Linux: use os.path.join("..", "..", "data").
DATA_DIR = "..\\..\\data\\imagenette"


def batches(items, size):
    """Yield lists of at most ``size`` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def fit(model, items, mean, std, epochs=1, size=64):
    """Feed normalized batches to ``model`` for ``epochs`` passes; return the batches seen."""
    seen = 0
    for _ in range(epochs):
        for batch in batches(items, size):
            model([normalize(x, mean, std) for x in batch])
            seen += 1
    return seen


def data_files():
    """The files in DATA_DIR (fails on Colab: that folder name only exists on Windows)."""
    return sorted(os.listdir(DATA_DIR))
