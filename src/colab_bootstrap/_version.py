"""The version of colab_bootstrap: the one place it is written."""

__version__ = "0.1.0"
