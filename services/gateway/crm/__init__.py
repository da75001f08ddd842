"""The crm language (crmsh's grammar) applied to a CIB.

``execute(cib_root, line, ctx)`` applies one top-level command line
("configure ...", "node ...", "resource ...") in place and returns an
``Outcome``; a user error raises ``CrmError`` (one line) and leaves the CIB
untouched. ``execute_script`` runs many lines like ``crm -f FILE``.

The names below are imported on first use, so that ``paceline.crm.registry``
(the table of levels and commands the one-shot CLI reads) can be loaded
without lxml and the rest of the language.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from paceline.crm.context import AgentMeta, Context, Outcome
    from paceline.crm.dispatch import execute, execute_script, run_lines
    from paceline.crm.errors import CrmError, CrmScriptError
    from paceline.crm.words import split_words

_WHERE = {"AgentMeta": "context", "Context": "context", "Outcome": "context", "execute": "dispatch",
          "execute_script": "dispatch", "run_lines": "dispatch", "CrmError": "errors", "CrmScriptError": "errors",
          "split_words": "words"}

__all__ = ["AgentMeta", "Context", "CrmError", "CrmScriptError", "Outcome", "execute", "execute_script", "run_lines",
           "split_words"]


def __getattr__(name: str) -> Any:
    """``paceline.crm.Context`` and friends, from the module that defines them."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'paceline.crm' has no attribute {name!r}")
    return getattr(importlib.import_module(f"paceline.crm.{module}"), name)
