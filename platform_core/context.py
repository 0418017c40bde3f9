"""Who is acting and in which request: passed to every service call that changes state."""

from __future__ import annotations

from dataclasses import dataclass, field

from platform_core.rbac.subject import Subject


@dataclass
class CallContext:
    """The caller plus what the audit log needs to know about the call.

    ``audited`` is set once a service has added an audit record for this call, so the edge only
    writes a fallback record for calls that failed before any service could.
    """

    subject: Subject
    request_id: str | None = None
    client_ip: str | None = None
    audited: bool = field(default=False)
