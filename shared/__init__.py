"""Code every Paceline service shares: bus, codec, subjects, messages, config, logging, metrics, the CIB.

``VERSION`` is Paceline's version, named once: pyproject.toml reads it from here,
and every service, tool and status page that shows a version imports it.
"""

VERSION = "0.1.0"
