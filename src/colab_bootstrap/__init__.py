"""colab_bootstrap: one cell to mount Drive, check the GPU and wire your dev folder on Colab.

>>> import colab_bootstrap
>>> colab_bootstrap.setup("fastai_course2")  # doctest: +SKIP
"""

from __future__ import annotations

import logging

from ._errors import (
    ColabBootstrapError,
    ColabBootstrapWarning,
    DriveMountError,
    DriveNotFoundError,
    GpuNotAvailableError,
    InvalidProjectError,
    InvalidUrlError,
    LinkConflictError,
    NotOnColabError,
    ProjectNotFoundError,
    RequirementsError,
)
from ._gpu import Gpu, gpus
from ._setup import Project, setup
from ._snippets import register_snippets, snippets
from ._version import __version__

__all__ = [
    "ColabBootstrapError",
    "ColabBootstrapWarning",
    "DriveMountError",
    "DriveNotFoundError",
    "Gpu",
    "GpuNotAvailableError",
    "InvalidProjectError",
    "InvalidUrlError",
    "LinkConflictError",
    "NotOnColabError",
    "Project",
    "ProjectNotFoundError",
    "RequirementsError",
    "__version__",
    "gpus",
    "register_snippets",
    "setup",
    "snippets",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
