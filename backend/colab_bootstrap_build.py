"""The build backend of colab-bootstrap: a PEP 517 / PEP 660 backend with no requirements.

Why a backend of our own: the install cell (``!pip install git+https://...``) runs on every
fresh Colab runtime. With a backend from PyPI, pip first creates an isolated build environment
and starts a second pip to download and install the backend into it (hatchling brought five
wheels), which cost more than building and installing the package itself. ``[build-system]``
here requires nothing, so pip skips that step: it runs three small hooks of this module and
installs the wheel. Python 3.9 and 3.10 have no ``tomllib``; there the hooks ask for ``tomli``
(a dynamic requirement), so only those interpreters install anything to build.

What it builds is read from ``pyproject.toml``: the ``[project]`` table (PEP 621; a key this
module does not know is an error, so metadata is never dropped silently) and
``[tool.colab_bootstrap_build]``:

- ``package``: the import package's folder, put into the wheel as its top level;
- ``version-file``: the file whose ``__version__ = "..."`` line is the version (one source);
- ``sdist``: the files and folders the source distribution carries.

Wheels and sdists are reproducible: entries are sorted, with fixed modes and timestamps
(``SOURCE_DATE_EPOCH`` when set), so the same tree gives the same bytes.
"""

from __future__ import annotations

# Only light modules at the top: pip starts a fresh interpreter for each hook, and the cheapest
# hook (get_requires_*) needs none of the others. Each hook imports what it uses.
import os
import re  # already loaded by pip's hook runner (it imports json)
import sys

TYPE_CHECKING = False  # typing itself costs 2 ms per hook; mypy reads this name as True
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "build_editable",
    "build_sdist",
    "build_wheel",
    "get_requires_for_build_editable",
    "get_requires_for_build_sdist",
    "get_requires_for_build_wheel",
    "prepare_metadata_for_build_editable",
    "prepare_metadata_for_build_wheel",
]

#: The oldest time a zip file can hold (1980-01-01), used when SOURCE_DATE_EPOCH is unset.
_ZIP_EPOCH = 315532800
#: Folders never packed (caches and version-control data), and byte-code files.
_NEVER = frozenset({"__pycache__", ".git", ".nox", ".venv", ".mypy_cache", ".ruff_cache"})
_BYTECODE = (".pyc", ".pyo")
#: The ``[project]`` keys this backend turns into metadata; any other key is an error.
_KNOWN = {
    "name",
    "version",
    "dynamic",
    "description",
    "readme",
    "license",
    "license-files",
    "requires-python",
    "authors",
    "maintainers",
    "keywords",
    "classifiers",
    "dependencies",
    "optional-dependencies",
    "scripts",
    "gui-scripts",
    "entry-points",
    "urls",
}


class BuildError(Exception):
    """pyproject.toml asks for something this backend does not build."""


# --- the PEP 517 / 660 hooks -------------------------------------------------------------------


def get_requires_for_build_wheel(config_settings: dict[str, Any] | None = None) -> list[str]:
    """What the other hooks need: ``tomli`` before Python 3.11, else nothing."""
    return ["tomli>=1.1"] if sys.version_info < (3, 11) else []


get_requires_for_build_sdist = get_requires_for_build_wheel
get_requires_for_build_editable = get_requires_for_build_wheel


def prepare_metadata_for_build_wheel(
    metadata_directory: str, config_settings: dict[str, Any] | None = None
) -> str:
    """Write the ``.dist-info`` folder into ``metadata_directory``; return its name."""
    project = _Project.load(os.getcwd())
    for name, data in project.dist_info_files():
        path = os.path.join(metadata_directory, project.dist_info, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as file:
            file.write(data)
    return project.dist_info


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def build_wheel(
    wheel_directory: str,
    config_settings: dict[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    """Build the wheel into ``wheel_directory``; return its file name."""
    return _Project.load(os.getcwd()).write_wheel(wheel_directory, editable=False)


def build_editable(
    wheel_directory: str,
    config_settings: dict[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    """Build an editable wheel: a ``.pth`` file that puts the source folder on ``sys.path``."""
    return _Project.load(os.getcwd()).write_wheel(wheel_directory, editable=True)


def build_sdist(sdist_directory: str, config_settings: dict[str, Any] | None = None) -> str:
    """Build the source distribution into ``sdist_directory``; return its file name."""
    return _Project.load(os.getcwd()).write_sdist(sdist_directory)


# --- the project ---------------------------------------------------------------------------


def _read(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read()


def _read_toml(path: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib  # noqa: PLC0415
    else:  # pragma: no cover - run by the 3.9 and 3.10 sessions, measured on 3.12
        import tomli as tomllib  # noqa: PLC0415
    data: dict[str, Any] = tomllib.loads(_read(path).decode("utf-8"))
    return data


def _normalized(name: str) -> str:
    """The name as file names spell it (PEP 503 normalised, then ``-`` to ``_``)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def _record_hash(data: bytes) -> str:
    import base64  # noqa: PLC0415
    import hashlib  # noqa: PLC0415

    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return f"sha256={digest.decode('ascii')}"


def _timestamp() -> int:
    return max(int(os.environ.get("SOURCE_DATE_EPOCH", _ZIP_EPOCH)), _ZIP_EPOCH)


class _Project:
    """What ``pyproject.toml`` says, and the files it names."""

    def __init__(self, root: str, table: dict[str, Any], tool: dict[str, Any]) -> None:
        unknown = sorted(set(table) - _KNOWN)
        if unknown:
            raise BuildError(f"[project] keys this backend does not build: {', '.join(unknown)}")
        self.root = root
        self.table = table
        self.tool = tool
        self.name: str = table["name"]
        self.version = self._version()
        self.stem = f"{_normalized(self.name)}-{self.version}"
        self.dist_info = f"{self.stem}.dist-info"
        self.package = os.path.join(root, tool["package"])

    @classmethod
    def load(cls, root: str) -> _Project:
        data = _read_toml(os.path.join(root, "pyproject.toml"))
        tool = data.get("tool", {}).get("colab_bootstrap_build", {})
        return cls(root, data["project"], tool)

    def _version(self) -> str:
        if "version" in self.table:
            return str(self.table["version"])
        if "version" not in self.table.get("dynamic", []):
            raise BuildError("[project] has no version and does not list it in dynamic")
        text = _read(os.path.join(self.root, self.tool["version-file"])).decode("utf-8")
        found = re.search(r"""^__version__\s*=\s*["']([^"']+)["']""", text, re.MULTILINE)
        if not found:
            raise BuildError(f"no __version__ = '...' line in {self.tool['version-file']}")
        return found.group(1)

    # --- metadata (core metadata 2.4) ---------------------------------------------------------

    def metadata(self) -> bytes:
        table = self.table
        lines = ["Metadata-Version: 2.4", f"Name: {self.name}", f"Version: {self.version}"]
        if "description" in table:
            lines.append(f"Summary: {table['description']}")
        lines += self._people("authors", "Author") + self._people("maintainers", "Maintainer")
        license_ = table.get("license")
        if isinstance(license_, str):
            lines.append(f"License-Expression: {license_}")
        elif license_ is not None:
            raise BuildError("write [project] license as an SPDX expression string (PEP 639)")
        lines += [f"License-File: {name}" for name in self.license_files()]
        if table.get("keywords"):
            lines.append(f"Keywords: {','.join(table['keywords'])}")
        lines += [f"Classifier: {c}" for c in table.get("classifiers", [])]
        if "requires-python" in table:
            lines.append(f"Requires-Python: {table['requires-python']}")
        lines += self._requirements()
        lines += [f"Project-URL: {label}, {url}" for label, url in table.get("urls", {}).items()]
        readme, content_type = self._readme()
        if content_type:
            lines.append(f"Description-Content-Type: {content_type}")
        text = "\n".join(lines) + "\n"
        if readme:
            text += "\n" + readme
        return text.encode("utf-8")

    def _people(self, key: str, field: str) -> list[str]:
        people = self.table.get(key, [])
        names = [p["name"] for p in people if "name" in p and "email" not in p]
        emails = [
            f"{p['name']} <{p['email']}>" if "name" in p else p["email"]
            for p in people
            if "email" in p
        ]
        lines = []
        if names:
            lines.append(f"{field}: {', '.join(names)}")
        if emails:
            lines.append(f"{field}-email: {', '.join(emails)}")
        return lines

    def _requirements(self) -> list[str]:
        lines = [f"Requires-Dist: {d}" for d in self.table.get("dependencies", [])]
        for extra, deps in self.table.get("optional-dependencies", {}).items():
            lines.append(f"Provides-Extra: {extra}")
            lines += [f"Requires-Dist: {self._with_extra(d, extra)}" for d in deps]
        return lines

    @staticmethod
    def _with_extra(requirement: str, extra: str) -> str:
        requirement, _, marker = requirement.partition(";")
        condition = f"extra == {extra!r}"
        both = f"({marker.strip()}) and {condition}" if marker.strip() else condition
        return f"{requirement.strip()}; {both}"

    def _readme(self) -> tuple[str, str]:
        readme = self.table.get("readme")
        if readme is None:
            return "", ""
        if isinstance(readme, str):
            readme = {"file": readme}
        if "file" in readme:
            text = _read(os.path.join(self.root, readme["file"])).decode("utf-8")
        else:
            text = readme["text"]
        suffix = os.path.splitext(readme.get("file", ""))[1].lower()
        default = {".md": "text/markdown", ".rst": "text/x-rst"}.get(suffix, "text/plain")
        return text, readme.get("content-type", default)

    def license_files(self) -> list[str]:
        import glob  # noqa: PLC0415

        found: set[str] = set()
        for pattern in self.table.get("license-files", []):
            matches = (
                glob.glob(pattern, root_dir=self.root)
                if sys.version_info >= (3, 10)
                else [
                    os.path.relpath(p, self.root)
                    for p in glob.glob(os.path.join(self.root, pattern))
                ]
            )
            files = [m for m in matches if os.path.isfile(os.path.join(self.root, m))]
            if not files:
                raise BuildError(f"license-files pattern {pattern!r} matches no file")
            found.update(m.replace(os.sep, "/") for m in files)
        return sorted(found)

    def entry_points(self) -> bytes:
        groups: dict[str, dict[str, str]] = {}
        if self.table.get("scripts"):
            groups["console_scripts"] = self.table["scripts"]
        if self.table.get("gui-scripts"):
            groups["gui_scripts"] = self.table["gui-scripts"]
        groups.update(self.table.get("entry-points", {}))
        text = "".join(
            f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in entries.items()) + "\n"
            for group, entries in groups.items()
        )
        return text.encode("utf-8")

    def dist_info_files(self) -> list[tuple[str, bytes]]:
        """The ``.dist-info`` files but RECORD, as (name inside the folder, bytes)."""
        wheel = (
            "Wheel-Version: 1.0\nGenerator: colab_bootstrap_build\nRoot-Is-Purelib: true\n"
            "Tag: py3-none-any\n"
        )
        files = [("METADATA", self.metadata()), ("WHEEL", wheel.encode("ascii"))]
        points = self.entry_points()
        if points:
            files.append(("entry_points.txt", points))
        files += [
            (f"licenses/{n}", _read(os.path.join(self.root, n))) for n in self.license_files()
        ]
        return files

    # --- archives -----------------------------------------------------------------------------

    def _tree(self, top: str) -> list[str]:
        """Every file under ``top`` (or ``top`` itself) relative to the root, sorted.

        Caches and byte-code are left out (``_NEVER``, ``_BYTECODE``); a named path that is
        missing is an error, so a renamed folder cannot silently drop out of the sdist.
        """
        path = os.path.join(self.root, top)
        if os.path.isfile(path):
            return [top]
        if not os.path.isdir(path):
            raise BuildError(f"{top} does not exist")
        files = []
        for folder, dirs, names in os.walk(path):
            dirs[:] = [d for d in dirs if d not in _NEVER]
            relative = os.path.relpath(folder, self.root)
            files += [os.path.join(relative, n) for n in names if not n.endswith(_BYTECODE)]
        return sorted(f.replace(os.sep, "/") for f in files)

    def write_wheel(self, directory: str, *, editable: bool) -> str:
        import zipfile  # noqa: PLC0415

        entries: list[tuple[str, bytes]] = []
        package = self.tool["package"].rstrip("/")
        if editable:
            source = os.path.dirname(os.path.abspath(os.path.join(self.root, package)))
            entries.append((f"_{_normalized(self.name)}_editable.pth", f"{source}\n".encode()))
        else:
            inside = os.path.dirname(package)
            entries += [
                (os.path.relpath(p, inside).replace(os.sep, "/"), _read(os.path.join(self.root, p)))
                for p in self._tree(package)
            ]
        entries += [(f"{self.dist_info}/{n}", d) for n, d in self.dist_info_files()]
        record = "".join(f"{n},{_record_hash(d)},{len(d)}\n" for n, d in entries)
        record += f"{self.dist_info}/RECORD,,\n"
        entries.append((f"{self.dist_info}/RECORD", record.encode()))
        name = f"{self.stem}-py3-none-any.whl"
        os.makedirs(directory, exist_ok=True)
        stamp = _zip_time(_timestamp())
        with zipfile.ZipFile(os.path.join(directory, name), "w") as archive:
            for path, data in entries:
                info = zipfile.ZipInfo(path, stamp)
                info.external_attr = 0o644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data)
        return name

    def write_sdist(self, directory: str) -> str:
        import gzip  # noqa: PLC0415
        import io  # noqa: PLC0415
        import tarfile  # noqa: PLC0415

        paths = sorted({p for top in self.tool["sdist"] for p in self._tree(top)})
        when = _timestamp()
        members = [(f"{self.stem}/PKG-INFO", self.metadata(), 0o644)]
        for path in paths:
            full = os.path.join(self.root, path)
            mode = 0o755 if os.stat(full).st_mode & 0o111 else 0o644
            members.append((f"{self.stem}/{path}", _read(full), mode))
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
            for path, data, mode in members:
                info = tarfile.TarInfo(path)
                info.size, info.mode, info.mtime = len(data), mode, when
                archive.addfile(info, io.BytesIO(data))
        name = f"{self.stem}.tar.gz"
        os.makedirs(directory, exist_ok=True)
        with (
            open(os.path.join(directory, name), "wb") as out,
            gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=when) as packed,
        ):
            packed.write(buffer.getvalue())
        return name


def _zip_time(when: int) -> tuple[int, int, int, int, int, int]:
    import time  # noqa: PLC0415

    moment = time.gmtime(when)
    return (
        moment.tm_year,
        moment.tm_mon,
        moment.tm_mday,
        moment.tm_hour,
        moment.tm_min,
        moment.tm_sec,
    )
