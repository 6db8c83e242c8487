"""Fake google.colab.errors: the base class of Colab's own errors."""


class Error(Exception):
    """Base class for all Colab errors."""
