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
    LinkConflictError,
    NotOnColabError,
    ProjectNotFoundError,
    RequirementsError,
)
from ._gpu import Gpu, gpus
from ._hygiene import DedupePlan, dedupe
from ._setup import Project, setup
from ._version import __version__

__all__ = [
    "ColabBootstrapError",
    "ColabBootstrapWarning",
    "DedupePlan",
    "DriveMountError",
    "DriveNotFoundError",
    "Gpu",
    "GpuNotAvailableError",
    "InvalidProjectError",
    "LinkConflictError",
    "NotOnColabError",
    "Project",
    "ProjectNotFoundError",
    "RequirementsError",
    "__version__",
    "dedupe",
    "gpus",
    "setup",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
