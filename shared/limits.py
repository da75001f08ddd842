"""Input size limits, named once: how big each thing Paceline accepts may be, and why.

Every input has a size past which it is refused whole, with one line that names the limit and the size
(:func:`refusal`), before any work is done on it - never a bus error, a timeout or a half-applied change.
The numbers follow from two facts:

* NATS refuses any message larger than its server's ``max_payload``, 1 MiB unless configured otherwise,
  and every request, reply and key-value entry of Paceline is one NATS message. Bodies larger than
  64 KiB travel zlib-compressed (:data:`paceline.shared.codec.COMPRESS_OVER`) and so do stored CIBs
  (``STORE_COMPRESSED_OVER`` in the cib-store's layout), which is what lets a CIB larger than 1 MiB exist.
* The crm language is linear in the length of a line (one regex scan to tokenize, one pass to parse, each
  id looked up in an index made once per command), so a long line costs time in proportion to its
  length - ``bench/crm_parse.py`` measures it - and the limits can be generous.

The caps on decompression (``codec.MAX_BODY``, the cib-store's ``MAX_LOADED``) are not limits on inputs:
they bound what a corrupt or hostile compressed value may expand to, far above anything accepted here.
"""

from __future__ import annotations

KIB = 1024
MIB = 1024 * KIB

#: The largest message the bus carries: NATS's default ``max_payload``. A server configured with a larger
#: one tells its clients so on connecting (:mod:`paceline.shared.quickbus` reads it); this is what Paceline
#: assumes of a bus it knows nothing about.
MAX_BUS_MESSAGE_BYTES = 1 * MIB

#: The longest crm command line (a script's line with its ``\\`` continuations joined), in UTF-8 bytes.
#: A line goes to the gateway in one request, which must fit one bus message: crm text compresses
#: several-fold, so a 1 MiB line does (one of random bytes might not, and would be refused by the bus).
#: 1 MiB is a group of some 95,000 members, or a primitive with 50,000 parameters - far beyond a real
#: configuration - and a command that long takes 0.2 to 3 seconds (``bench/crm_parse.py``), most of it
#: copying and validating the CIB it makes; one command longer than this is a mistake or an attack, and a
#: configuration that large is loaded as many lines (``configure load``, ``-f FILE``).
MAX_CRM_LINE_BYTES = 1 * MIB

#: The longest single word of a crm line - an id, a name, a ``name=value`` pair with its value - in UTF-8
#: bytes. A resource's parameters reach its agent as environment variables (``OCF_RESKEY_name=value``), and
#: Linux refuses to start a program with any one of them longer than 128 KiB (``MAX_ARG_STRLEN``): a longer
#: value could be stored but never used. Half of that leaves room for the name, and for the quoting a
#: value gains when ``configure show`` prints it back.
MAX_CRM_WORD_BYTES = 64 * KIB

#: The largest CIB document (its XML, configuration and status together), in UTF-8 bytes. The CIB crosses
#: the bus whole (a query's reply, a replace, a session's commit) and is kept as one key-value entry,
#: compressed; CIB XML compresses about tenfold, so 8 MiB comes to well under the 1 MiB a message may
#: carry, with room for values that compress less well. It is some 30,000 resources with their operations
#: and constraints - more than Pacemaker itself schedules in reasonable time. The cib-store refuses a
#: configuration write whose document would be larger.
MAX_CIB_BYTES = 8 * MIB


def utf8_size(text: str) -> int:
    """The size of ``text`` in UTF-8 bytes, as it travels on the bus (without a copy when it is ASCII)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def human(size: int) -> str:
    """``1 MiB``, ``64 KiB``, ``100 bytes``: a limit as people say it."""
    for unit, name in ((MIB, "MiB"), (KIB, "KiB")):
        if size >= unit and size % unit == 0:
            return f"{size // unit} {name}"
    return f"{size:,} bytes"


def refusal(what: str, size: int, limit: int, name: str) -> str:
    """One line saying that ``what`` is over a limit: its size, the limit, and the limit's name here.

    ``refusal("the CIB", 9_437_184, MAX_CIB_BYTES, "MAX_CIB_BYTES")`` ->
    ``the CIB is 9,437,184 bytes: over the limit of 8 MiB (MAX_CIB_BYTES)``.
    """
    return f"{what} is {size:,} bytes: over the limit of {human(limit)} ({name})"
