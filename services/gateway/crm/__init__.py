"""The crm language (crmsh's grammar) applied to a CIB.

``execute(cib_root, line, ctx)`` applies one top-level command line
("configure ...", "node ...", "resource ...") in place and returns an
``Outcome``; a user error raises ``CrmError`` (one line) and leaves the CIB
untouched. ``execute_script`` runs many lines like ``crm -f FILE``.
"""

from paceline.crm.context import AgentMeta, Context, Outcome
from paceline.crm.dispatch import execute, execute_script, run_lines
from paceline.crm.errors import CrmError, CrmScriptError
from paceline.crm.words import split_words

__all__ = ["AgentMeta", "Context", "CrmError", "CrmScriptError", "Outcome", "execute", "execute_script", "run_lines",
           "split_words"]
