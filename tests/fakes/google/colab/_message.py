"""Fake google.colab._message: requests to the browser, which only a notebook kernel can send.

Colab sends them through the kernel application (``IPKernelApp``); outside a kernel, e.g. in a
``!python`` subprocess, there is none and ``blocking_request`` fails as the real one does, with
``AttributeError: 'NoneType' object has no attribute 'kernel'``. A kernel here is an IPython
whose shell has a ``kernel`` (a real ipykernel), or the process whose pid is
``$FAKE_COLAB_KERNEL_PID`` (the tests' own process, or a script that stands in for a notebook).
The browser's answer to a Drive sign-in request is a refusal when
``$FAKE_COLAB_MOUNT_ERROR`` is ``auth``; to any request, when ``$FAKE_COLAB_BROWSER_ERROR`` holds
the error's text.
"""

import os
import sys

from google.colab import errors

__all__ = ["MessageError", "blocking_request", "send_request"]


class MessageError(errors.Error):
    """Thrown on error response from frontend."""


class _KernelApp:
    """What Colab reaches through the kernel application: just enough to send a request."""

    def __init__(self, kernel):
        self.kernel = kernel
        self.session = None


def _kernelapp():
    """The running kernel application, or None (not in a notebook kernel)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    kernel = getattr(shell, "kernel", None)
    if kernel is not None:
        return _KernelApp(kernel)
    if os.environ.get("FAKE_COLAB_KERNEL_PID") == str(os.getpid()):
        return _KernelApp(object())
    return None


_msg_id = 0


def send_request(request_type, request_body, parent=None, expect_reply=True):
    """Send a request to the browser (here: nowhere); its id, as Colab's."""
    instance = _kernelapp()
    if parent is None:
        instance.kernel  # noqa: B018 - Colab reads instance.kernel.shell.parent_header here
    instance.session  # noqa: B018 - ... and sends the message through instance.session
    global _msg_id  # noqa: PLW0603 - Colab's own message counter
    _msg_id += 1
    return _msg_id if expect_reply else None


def blocking_request(request_type, request="", timeout_sec=5, parent=None):
    """Send a request and wait for the browser's reply (here: at once).

    A browser that answers with an error raises ``MessageError`` with the error's text, as
    Colab's does; ``$FAKE_COLAB_BROWSER_ERROR`` is that text for every request.
    """
    send_request(request_type, request, parent=parent, expect_reply=True)
    refusal = os.environ.get("FAKE_COLAB_BROWSER_ERROR")
    if refusal:
        raise MessageError(refusal)
    if request_type == "request_auth" and os.environ.get("FAKE_COLAB_MOUNT_ERROR") == "auth":
        raise MessageError("Error: credential propagation was unsuccessful")
