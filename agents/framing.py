"""Tool output reaches the model as delimited, untrusted data.

The output of a tool (logs, events, annotations, a function's answer) is written by whoever
controls the workload, so it may contain text crafted to look like instructions. It is wrapped
in a ``<tool-output>`` element the output cannot close (any look-alike tag inside is defused),
marked ``trust="untrusted"``. This is a courtesy to the model; the guarantees are structural and
hold even if the model is fooled: the tools offered, the caller's rights, read-only mode and
approvals are all decided in code, and nothing in tool output can approve anything.
"""

from __future__ import annotations

import re

_TAG = re.compile(r"<\s*/?\s*tool-output", re.I)


def frame(tool: str, status: str, text: str) -> str:
    safe = _TAG.sub(lambda m: m.group(0).replace("<", "&lt;"), text)
    return (
        f'<tool-output tool="{tool}" status="{status}" trust="untrusted">\n{safe}\n</tool-output>'
    )
