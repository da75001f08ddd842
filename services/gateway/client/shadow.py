"""Shadow CIBs on disk: where they live, what they are named, and which live version each was copied from.

Pacemaker keeps a shadow as the file ``shadow.NAME`` in a directory
(``$CIB_shadow_dir``) and names the active one in ``$CIB_shadow``; Paceline
uses the same names, so a sysadmin's habits and scripts carry over. The
default directory is ``~/.paceline/shadow`` (there is no cluster-owned CIB
directory to write into).

A shadow is a plain CIB file, edited exactly like ``--cib-file``. What the
file cannot say is which version of the live configuration it was copied
from - its own epoch moves with every edit - yet ``cib commit`` needs exactly
that to refuse overwriting changes made on the cluster in the meantime. That
version is kept beside it in ``.shadow.NAME.base`` (a hidden file, so
Pacemaker's and crmsh's listings of ``shadow.*`` do not show it).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from paceline.client.backends import FileBackend, OfflineExplain
from paceline.crm import CrmError
from paceline.shared import cib

PREFIX = "shadow."
#: The word ``cib use`` takes for the cluster (or the --cib-file) itself; never a shadow's name.
LIVE = "live"
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@+-]*")


def shadow_dir() -> Path:
    """``$CIB_shadow_dir`` (Pacemaker's variable) if set, else ``~/.paceline/shadow``."""
    configured = os.environ.get("CIB_shadow_dir")  # noqa: SIM112 - Pacemaker spells it so
    return Path(configured) if configured else Path.home() / ".paceline" / "shadow"


def check_name(name: str, command: str) -> str:
    """A name that is safe as part of a file name and is not the reserved word ``live``."""
    if name == LIVE:
        raise CrmError(f"{command}: {LIVE!r} means the cluster itself and cannot name a shadow CIB")
    if not _NAME.fullmatch(name) or name.endswith(".tmp"):
        raise CrmError(f"{command}: bad shadow CIB name {name!r} (letters, digits and . _ - @ + only, "
                       "no '/', not starting with '.')")
    return name


class ShadowStore:
    """The shadow files of one directory (``explain``: what answers ``resource why`` on a shadow)."""

    def __init__(self, directory: Path | None = None, explain: OfflineExplain | None = None):
        self.dir = directory or shadow_dir()
        self.explain = explain

    def path(self, name: str) -> Path:
        return self.dir / f"{PREFIX}{name}"

    def _base_path(self, name: str) -> Path:
        return self.dir / f".{PREFIX}{name}.base"

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def require(self, name: str, command: str) -> str:
        """``name`` if that shadow exists, else the one-line error every command gives."""
        check_name(name, command)
        if not self.exists(name):
            known = ", ".join(self.names()) or "none"
            raise CrmError(f"{command}: no shadow CIB {name!r} in {self.dir} (shadow CIBs: {known})")
        return name

    def names(self) -> list[str]:
        if not self.dir.is_dir():
            return []
        found = (p.name[len(PREFIX):] for p in self.dir.iterdir() if p.name.startswith(PREFIX) and p.is_file())
        return sorted(n for n in found if _NAME.fullmatch(n) and not n.endswith(".tmp"))

    def base_version(self, name: str) -> str | None:
        """The live version the shadow was copied from; None for one made ``empty`` or imported."""
        try:
            text = self._base_path(name).read_text().strip()
        except FileNotFoundError:
            return None
        return text or None

    def set_base(self, name: str, version: str | None) -> None:
        if version is None:
            self._base_path(name).unlink(missing_ok=True)
        else:
            _write_atomically(self._base_path(name), version + "\n")

    def write(self, name: str, root: cib.Element, base_version: str | None) -> None:
        """Store ``root`` as the shadow ``name`` (replacing it), remembering where it came from."""
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            _write_atomically(self.path(name), cib.serialize(root))
            self.set_base(name, base_version)
        except OSError as exc:
            raise CrmError(f"cannot write shadow CIB {name!r} in {self.dir}: {exc.strerror}") from None

    def delete(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)
        self._base_path(name).unlink(missing_ok=True)

    def backend(self, name: str, local_node: str) -> ShadowBackend:
        return ShadowBackend(self.path(check_name(name, "shadow CIB")), name, local_node, self.explain)


class ShadowBackend(FileBackend):
    """A shadow CIB worked on like ``--cib-file``, but called by its shadow name (the prompt shows it)."""

    def __init__(self, path: Path, name: str, local_node: str, explain: OfflineExplain | None = None):
        super().__init__(str(path), local_node, explain)
        self.name = name

    def load(self) -> tuple[cib.Element, str]:
        if not self.path.is_file():
            raise CrmError(f"shadow CIB {self.name!r} does not exist (no {self.path}); "
                           f"create it with 'cib new {self.name}'")
        return super().load()


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)
