"""User errors of the crm language.

Every message is one line naming the command, the offending token and what was
expected, because sysadmins read it in a terminal after a typo; a traceback
would hide the one thing they need to fix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from paceline.crm.context import Outcome


class CrmError(ValueError):
    """A command that cannot be applied; the CIB it was given is left unchanged."""


class CrmScriptError(CrmError):
    """One or more lines of a script failed while the others were applied.

    crmsh's ``crm -f FILE`` reports a failing line and carries on with the next
    one, so the CIB keeps the effect of every line that succeeded. This error
    says which lines failed (``errors``, each "line N: ...") and carries the
    combined ``outcome`` of the lines that ran; the caller should still save
    the CIB, exactly as crmsh would have, and exit non-zero.
    """

    def __init__(self, errors: list[str], outcome: Outcome):
        super().__init__("\n".join(errors))
        self.errors = errors
        self.outcome = outcome
