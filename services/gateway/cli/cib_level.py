"""crmsh's ``cib`` level: shadow CIBs - a whole change prepared in a file, then committed as one version.

``cib new NAME`` copies the CIB (live, or the ``--cib-file``; its *origin*)
into a shadow and switches to it; from then on every level - configure, node,
resource, status - reads and writes the shadow file exactly as with
``--cib-file``, and the cluster sees nothing. ``cib commit`` writes the
shadow's configuration to the origin through the same commit path the
configure level uses: one version, compare-and-set on the version the shadow
was copied from, so a change made on the cluster meanwhile is reported rather
than silently overwritten (``force`` overwrites it, as ``crm_shadow --force``
does). A one-shot ``paceline cib ...`` cannot switch anything; it says how to
use the shadow instead (``CIB_shadow=NAME paceline ...``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from paceline.cli.commands import CLI
from paceline.cli.session import commit_configuration
from paceline.cli.simulate import explain_offline
from paceline.client.backends import Backend, CommitConflict
from paceline.client.shadow import LIVE, ShadowBackend, ShadowStore, check_name
from paceline.crm import CrmError, show
from paceline.shared import cib

NEW_FLAGS = ("withstatus", "force", "empty")

Origin = Backend | Callable[[], Backend]


class CibLevel:
    """The shadow in use (``current``, None for the origin) and the commands that manage shadows.

    ``origin`` is the backend a shadow is copied from and committed to, or a
    function making it when first needed, so that commands that only touch
    files (``list``, ``use``, ``delete``) never need a cluster.
    """

    def __init__(self, origin: Origin, local_node: str, *, current: str | None = None,
                 store: ShadowStore | None = None, one_shot: bool = False):
        self._origin: Backend | None = None if callable(origin) else origin
        self._make_origin = origin if callable(origin) else None
        self.local_node = local_node
        self.store = store or ShadowStore(explain=explain_offline)
        self.current = current
        self.one_shot = one_shot
        self._shadow: ShadowBackend | None = None

    # ------------------------------------------------------------ where commands go
    def origin(self) -> Backend:
        if self._origin is None:
            assert self._make_origin is not None
            self._origin = self._make_origin()
        return self._origin

    def backend(self) -> Backend:
        """The shadow in use, or the origin: what every level's commands read and write."""
        if self.current is None:
            return self.origin()
        if self._shadow is None or self._shadow.name != self.current:
            self._shadow = self.store.backend(self.current, self.local_node)
        return self._shadow

    def close(self) -> None:
        """Close the origin's bus connection, if one was made."""
        if self._origin is not None:
            self._origin.close()

    # ------------------------------------------------------------ commands
    def execute(self, words: list[str]) -> str:
        """``cib COMMAND ARGS``: the command's method (``(self, args) -> str``) from the registry."""
        command = CLI.get("cib").command(words)
        return str(command.run()(self, words[1:]))

    def new(self, args: list[str]) -> str:
        names = [a for a in args if a not in NEW_FLAGS]
        if len(names) != 1:
            raise CrmError(f"cib new: expected NAME [{'] ['.join(NEW_FLAGS)}], got {' '.join(args) or 'nothing'}")
        name = check_name(names[0], "cib new")
        self._refuse_overwrite(name, "force" in args, "cib new")
        if "empty" in args:
            root, base, source = cib.empty(), None, "an empty configuration"
        else:
            root, base = self._copy_origin("withstatus" in args)
            source = f"{self.origin().name} (version {base})"
        self.store.write(name, root, base)
        return self._switch(name, f"INFO: shadow CIB {name!r} created from {source}")

    def use(self, args: list[str]) -> str:
        if len(args) > 1:
            raise CrmError(f"cib use: expected [NAME|{LIVE}], got {' '.join(args)}")
        name = args[0] if args else LIVE
        if name == LIVE:
            if self.one_shot:
                return "INFO: a one-shot command always works on the cluster unless CIB_shadow is set; unset it"
            self.current = None
            return ""
        return self._switch(self.store.require(name, "cib use"), "")

    def commit(self, args: list[str]) -> str:
        force = "force" in args
        names = [a for a in args if a != "force"]
        if len(names) > 1:
            raise CrmError(f"cib commit: expected [NAME] [force], got {' '.join(args)}")
        name = self._named(names, "cib commit")
        root, _ = self.store.backend(name, self.local_node).load()
        origin = self.origin()
        base = self.store.base_version(name)
        if force:
            base = origin.load()[1]
        elif base is None:
            raise CrmError(f"cib commit: shadow CIB {name!r} was not copied from {origin.name}, so there is no "
                           f"version to check against; 'cib commit {name} force' replaces the configuration")
        try:
            version = commit_configuration(origin, root, base)
        except CommitConflict:
            now = origin.load()[1]
            raise CrmError(f"cib commit: the configuration of {origin.name} changed since shadow CIB {name!r} was "
                           f"copied from it (version {base}, now {now}); nothing was written - see 'cib diff "
                           f"{name}', start over with 'cib reset {name}', or overwrite with 'cib commit {name} "
                           "force'") from None
        self.store.set_base(name, version)
        return f"INFO: shadow CIB {name!r} committed to {origin.name} as version {version}"

    def delete(self, args: list[str]) -> str:
        if len(args) != 1:
            raise CrmError("cib delete: expected NAME")
        name = self.store.require(args[0], "cib delete")
        if name == self.current:
            how = "unset CIB_shadow" if self.one_shot else f"'cib use {LIVE}'"
            raise CrmError(f"cib delete: shadow CIB {name!r} is in use; {how} first")
        self.store.delete(name)
        return ""

    def reset(self, args: list[str]) -> str:
        names = [a for a in args if a != "withstatus"]
        if len(names) != 1:
            raise CrmError("cib reset: expected NAME [withstatus]")
        name = self.store.require(names[0], "cib reset")
        root, base = self._copy_origin("withstatus" in args)
        self.store.write(name, root, base)
        return f"INFO: shadow CIB {name!r} copied again from {self.origin().name} (version {base})"

    def list_shadows(self, args: list[str]) -> str:
        if args:
            raise CrmError(f"cib list: unexpected {args[0]!r} (list takes no arguments)")
        names = self.store.names()
        if not names:
            return f"INFO: no shadow CIBs in {self.store.dir}"
        return "\n".join(f"{'*' if n == self.current else ' '} {n}" for n in names)

    def diff(self, args: list[str]) -> str:
        """What committing would change: crm lines only in the origin (-) and only in the shadow (+)."""
        if len(args) > 1:
            raise CrmError("cib diff: expected [NAME]")
        name = self._named(args, "cib diff")
        shadow, _ = self.store.backend(name, self.local_node).load()
        live, _ = self.origin().load()
        return crm_diff(live, shadow)

    def import_file(self, args: list[str]) -> str:
        force = "force" in args
        rest = [a for a in args if a != "force"]
        if len(rest) != 2:
            raise CrmError("cib import: expected FILE NAME [force]")
        path, name = Path(rest[0]), check_name(rest[1], "cib import")
        self._refuse_overwrite(name, force, "cib import")
        try:
            root = cib.parse_cib(path.read_bytes())
        except OSError as exc:
            raise CrmError(f"cib import: cannot read {path}: {exc.strerror}") from None
        except cib.CibError as exc:
            raise CrmError(f"cib import: {path}: {exc}") from None
        self.store.write(name, root, None)
        return self._switch(name, f"INFO: shadow CIB {name!r} imported from {path}")

    # ------------------------------------------------------------ helpers
    def _copy_origin(self, with_status: bool) -> tuple[cib.Element, str]:
        """The origin's CIB and version; without ``with_status`` its status section is left empty."""
        root, version = self.origin().load()
        status = root.find("status")
        if status is not None and not with_status:
            status[:] = []
        return root, version

    def _refuse_overwrite(self, name: str, force: bool, command: str) -> None:
        if self.store.exists(name) and not force:
            raise CrmError(f"{command}: shadow CIB {name!r} already exists; add 'force' to overwrite it")

    def _named(self, names: list[str], command: str) -> str:
        """The shadow named, else the one in use."""
        if names:
            return self.store.require(names[0], command)
        if self.current is None:
            raise CrmError(f"{command}: no shadow CIB in use; name one ({', '.join(self.store.names()) or 'none'})")
        return self.store.require(self.current, command)

    def _switch(self, name: str, message: str) -> str:
        """Make ``name`` the shadow in use; a one-shot command can only say how to use it."""
        if self.one_shot:
            hint = (f"INFO: a one-shot command cannot switch to it; run 'CIB_shadow={name} paceline ...' "
                    f"(or 'cib use {name}' in the shell)")
            return f"{message}\n{hint}" if message else hint
        self.current = name
        return message


def crm_diff(before: cib.Element, after: cib.Element) -> str:
    """Objects in crm syntax: ``- `` lines gone or changed in ``after``, ``+ `` lines new or changed."""
    old, new = dict(show.objects(before)), dict(show.objects(after))
    lines: list[str] = []
    for ident, text in old.items():
        if new.get(ident) != text:
            lines += [f"- {line}" for line in text.splitlines()]
    for ident, text in new.items():
        if old.get(ident) != text:
            lines += [f"+ {line}" for line in text.splitlines()]
    return "\n".join(lines)
