"""A configure session: changes staged on a working copy of the CIB, written only on ``commit``.

crmsh's configure level lets a sysadmin build a whole change (a resource, its
constraints, a property) and look at it before the cluster acts on any part of
it. The session keeps the CIB it read (``base``) with its version, applies
every command to ``work``, and ``commit`` writes ``work`` as one new version
only if the cluster's configuration is still ``base`` - otherwise the
conflict is reported and nothing is overwritten.
"""

from __future__ import annotations

import copy
import os
import shlex
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from paceline.cli.commands import CLI
from paceline.client.backends import Backend
from paceline.crm import CrmError, dispatch, reload, show
from paceline.shared import cib

#: Configuration sections ``erase`` empties (nodes stay, as in crmsh).
ERASED = ("crm_config", "resources", "constraints", "rsc_defaults", "op_defaults", "tags")


def commit_configuration(backend: Backend, work: cib.Element, base_version: str) -> str:
    """Write ``work``'s configuration as one version, only on top of ``base_version``; the new version.

    The one commit path for staged changes, whether they were staged in a
    configure session or in a shadow CIB: a configuration that fails
    validation is refused here, a conflict (``CommitConflict``) by the backend.
    """
    problems = cib.validate(work)
    if problems:
        raise CrmError(f"commit: {len(problems)} problem(s), nothing written: {'; '.join(problems)}")
    return backend.commit(work, base_version)


def _configuration(root: cib.Element) -> str:
    conf = root.find("configuration")
    return cib.serialize(conf) if conf is not None else ""


class ConfigureSession:
    """A working copy of the CIB and the version it was read at; the session commands are its methods
    (see :data:`paceline.cli.commands.CLI`: ``(session, args) -> str``)."""

    def __init__(self, backend: Backend):
        self.backend = backend
        self.refresh()

    def refresh(self, args: Sequence[str] = ()) -> str:
        """Read the CIB again; staged changes are gone (the shell asks first)."""
        self.base, self.version = self.backend.load()
        self.work = copy.deepcopy(self.base)
        self.ctx = self.backend.context(self.work)
        return ""

    @property
    def dirty(self) -> bool:
        return _configuration(self.base) != _configuration(self.work)

    def execute(self, words: list[str]) -> str:
        """One configure-level command: a session command here, anything else is crm on the working copy."""
        cmd, args = words[0], words[1:]
        if cmd == "show" and args == ["changed"]:
            return self.changed()
        command = CLI.get("configure").find(cmd)
        if command is not None and command.session:
            return str(command.run()(self, args))
        return dispatch.run_words(self.work, ["configure", *words], self.ctx).output

    def commit(self, args: Sequence[str] = ()) -> str:
        if not self.dirty:
            return "INFO: nothing to commit"
        version = commit_configuration(self.backend, self.work, self.version)
        self.refresh()
        return f"INFO: committed as version {version}"

    def erase(self, args: Sequence[str]) -> str:
        if args:
            raise CrmError(f"configure erase: unexpected {args[0]!r} (erase takes no arguments)")
        conf = self.work.find("configuration")
        if conf is None:
            return ""
        for name in ERASED:
            el = conf.find(name)
            if el is not None:
                el[:] = []
        return ""

    def changed(self) -> str:
        before = dict(show.objects(self.base))
        after = dict(show.objects(self.work))
        lines = [text for ident, text in after.items() if before.get(ident) != text]
        lines += [f"# deleted: {ident}" for ident in before if ident not in after]
        return "\n".join(lines)

    def edit(self, idents: Sequence[str]) -> str:
        """Open $EDITOR on the objects' crm text; what comes back replaces them (gone lines delete)."""
        known = dict(show.objects(self.work))
        for ident in idents:
            if ident not in known:
                raise CrmError(f"configure edit: object {ident!r} does not exist")
        shown = set(idents) if idents else {i for i, text in known.items() if not text.startswith("node ")}
        text = show.show(self.work, list(idents)) + "\n"
        with tempfile.TemporaryDirectory(prefix="paceline-edit-") as tmp:
            path = Path(tmp) / "configuration.crm"
            path.write_text(text)
            editor = os.environ.get("EDITOR") or os.environ.get("VISUAL") or "vi"
            code = subprocess.call(f"{editor} {shlex.quote(str(path))}", shell=True)
            if code != 0:
                raise CrmError(f"configure edit: the editor ({editor}) exited with status {code}; nothing changed")
            new_text = path.read_text()
        if new_text == text:
            return "INFO: nothing changed"
        reload.update(self.work, new_text, self.ctx, shown)
        return ""

    def save(self, args: Sequence[str]) -> str:
        xml = bool(args) and args[0] == "xml"
        args = args[1:] if xml else args
        if len(args) != 1:
            raise CrmError("configure save: expected [xml] FILE")
        body = _configuration(self.work) if xml else show.show(self.work, []) + "\n"
        try:
            Path(args[0]).write_text(body)
        except OSError as exc:
            raise CrmError(f"configure save: cannot write {args[0]}: {exc.strerror}") from None
        return ""

    def load(self, args: Sequence[str]) -> str:
        if len(args) != 2 or args[0] not in ("replace", "update"):
            raise CrmError("configure load: expected replace|update FILE")
        try:
            text = Path(args[1]).read_text()
        except OSError as exc:
            raise CrmError(f"configure load: cannot read {args[1]}: {exc.strerror}") from None
        try:
            if args[0] == "replace":
                out = reload.replace(self.work, text, self.ctx)
            else:
                out = reload.update(self.work, text, self.ctx)
        except CrmError as exc:
            raise CrmError(f"configure load {args[0]} {args[1]}: {exc}") from None
        return out.output
