"""IPython, when present: the shell, autoreload (with the ``imp`` repair), the user namespace.

IPython is never imported here: if the process is not already running inside IPython, the
module is not in ``sys.modules`` and every function answers "no shell".
"""

from __future__ import annotations

import importlib
import sys
import types

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Literal

    #: What autoreload is doing in this kernel.
    AutoreloadState = Literal["off", "mode 0", "mode 1", "mode 2", "loaded", "no IPython"]

__all__ = ["autoreload_state", "cell_history", "enable_autoreload", "get_shell", "user_namespace"]

_EXTENSION = "autoreload"
# IPython 7 records the extension as "autoreload", IPython 8.x+ by its full module name.
_LOADED_NAMES = frozenset({_EXTENSION, "IPython.extensions.autoreload"})


def get_shell() -> Any | None:
    """Return the running IPython shell, or None outside IPython."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return None
    get = getattr(ipython, "get_ipython", None)
    return get() if callable(get) else None


def user_namespace() -> dict[str, Any]:
    """The notebook's namespace: IPython's ``user_ns``, else ``__main__``'s globals."""
    shell = get_shell()
    if shell is not None:
        namespace: dict[str, Any] = shell.user_ns
        return namespace
    return vars(sys.modules["__main__"])


def cell_history(shell: Any) -> list[str] | None:
    """The cells the shell ran, in order, as the Python it ran (magics already turned into calls).

    IPython keeps them in its history manager's ``input_hist_parsed`` (the list ``In`` shows);
    None when this shell keeps none.
    """
    manager = getattr(shell, "history_manager", None)
    cells = getattr(manager, "input_hist_parsed", None)
    if not isinstance(cells, list):
        return None
    return list(cells)


def _load_with_imp_shim(shell: Any) -> bool:
    """Load IPython's autoreload, also where ``imp`` is gone (IPython 7.x on Python 3.12+).

    IPython 7.34's autoreload does ``from imp import reload`` and nothing else with ``imp``
    (IPython 7 imports it as the top-level module ``autoreload``). When that import fails, a
    stand-in ``imp`` holding ``importlib.reload`` is registered for the load only, then
    removed, so no other code ever sees it. Returns True when the stand-in was needed.
    """
    try:
        shell.extension_manager.load_extension(_EXTENSION)
    except ModuleNotFoundError as exc:
        if exc.name != "imp" or "imp" in sys.modules:
            raise
    else:
        return False
    shim = types.ModuleType("imp", "colab_bootstrap stand-in: only reload, for IPython 7.x")
    shim.reload = importlib.reload  # type: ignore[attr-defined]
    sys.modules["imp"] = shim
    try:
        shell.extension_manager.load_extension(_EXTENSION)
    finally:
        if sys.modules.get("imp") is shim:
            del sys.modules["imp"]
    return True


def _autoreload_magics(shell: Any) -> Any | None:
    registry = getattr(getattr(shell, "magics_manager", None), "registry", {})
    return registry.get("AutoreloadMagics")


def autoreload_state(shell: Any | None = None) -> AutoreloadState:
    """Describe autoreload in this kernel: "off", "mode 2", "mode 1", "mode 0" or "no IPython"."""
    shell = get_shell() if shell is None else shell
    if shell is None:
        return "no IPython"
    if not _LOADED_NAMES & set(getattr(shell.extension_manager, "loaded", ())):
        return "off"
    magics = _autoreload_magics(shell)
    reloader = getattr(magics, "_reloader", None)
    if reloader is None:  # pragma: no cover - every IPython since 7 has _reloader
        return "loaded"
    if not reloader.enabled:
        return "mode 0"
    return "mode 2" if reloader.check_all else "mode 1"


def enable_autoreload(shell: Any | None = None) -> str:
    """Load the autoreload extension and set mode 2; return what was done, never raise.

    Returns one of "enabled", "enabled (repaired IPython's missing 'imp')", "already on",
    "does not apply (not running in IPython)", or "failed: <reason and fix>".
    """
    shell = get_shell() if shell is None else shell
    if shell is None:
        return "does not apply (not running in IPython)"
    if autoreload_state(shell) == "mode 2":
        return "already on"
    repaired = False
    try:
        if not _LOADED_NAMES & set(shell.extension_manager.loaded):
            repaired = _load_with_imp_shim(shell)
        shell.run_line_magic("autoreload", "2")
    except Exception as exc:  # noqa: BLE001 - a broken extension must not break setup()
        return (
            f"failed: {type(exc).__name__}: {exc}. Python still works, but edited files are "
            "not reloaded: call colab_bootstrap.reset() after an edit."
        )
    return "enabled (repaired IPython's missing 'imp')" if repaired else "enabled"
