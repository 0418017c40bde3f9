"""Pending approvals: the exact paused call, who may decide it, and until when.

An approval stores the tool call as the agent prepared it (tool, validated arguments, call id,
target, one-line description), so approving runs exactly that call with exactly those
arguments; nothing is asked of the model again. A decision is taken once: the first approve or
deny wins atomically, later ones get a conflict. Approvals expire (15 minutes by default).
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel
from redis.asyncio import Redis

from platform_core.errors import Conflict, NotFound
from platform_core.kv import KeySpace

DEFAULT_APPROVAL_TTL_SECONDS = 15 * 60
RETENTION_SECONDS = 24 * 3600
ApprovalStatus = Literal["pending", "approved", "denied", "expired", "superseded"]
# The approval is a hash: the immutable call in "data", the decision in its own fields.
_DECIDE = """
local state = redis.call('HMGET', KEYS[1], 'status', 'expires_at_ts')
if not state[1] then return {0, 'missing'} end
if state[1] ~= 'pending' then return {0, state[1]} end
if tonumber(ARGV[3]) > tonumber(state[2]) then return {0, 'expired'} end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'decided_by', ARGV[2], 'decided_at_ts', ARGV[3])
return {1, ARGV[1]}
"""


class PendingApproval(BaseModel):
    id: str
    organization_id: str
    session_id: str
    requester_kind: str
    requester_id: str
    call_id: str
    tool: str
    risk: str
    arguments: dict[str, Any]
    description: str
    approver: Literal["requester", "admin"]
    workspace_id: str | None = None
    project_path: list[str] = []
    created_at_ts: float
    expires_at_ts: float
    status: ApprovalStatus = "pending"
    decided_by: str | None = None
    decided_at_ts: float | None = None
    result: dict[str, Any] | None = None
    """For a call decided outside a conversation: what running it returned."""

    @property
    def expires_at(self) -> datetime:
        return datetime.fromtimestamp(self.expires_at_ts, UTC)

    @property
    def expired(self) -> bool:
        return self.status == "pending" and time.time() > self.expires_at_ts


class ApprovalStore:
    def __init__(
        self, redis: Redis, keys: KeySpace, *, ttl_seconds: int = DEFAULT_APPROVAL_TTL_SECONDS
    ) -> None:
        self._redis = redis
        self._keys = keys
        self.ttl = ttl_seconds
        self._decide = redis.register_script(_DECIDE)

    def _key(self, approval_id: str) -> str:
        return self._keys.key("approval", approval_id)

    def _index(self, organization_id: str) -> str:
        return self._keys.key("approvals", organization_id)

    async def create(self, **fields: Any) -> PendingApproval:
        now = time.time()
        approval = PendingApproval(
            id=uuid.uuid4().hex,
            created_at_ts=now,
            expires_at_ts=now + self.ttl,
            **fields,
        )
        key = self._key(approval.id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                key,
                mapping={
                    "data": approval.model_dump_json(),
                    "status": "pending",
                    "expires_at_ts": str(approval.expires_at_ts),
                },
            )
            pipe.expire(key, self.ttl + RETENTION_SECONDS)
            pipe.zadd(self._index(approval.organization_id), {approval.id: now})
            pipe.expire(self._index(approval.organization_id), self.ttl + RETENTION_SECONDS)
            await pipe.execute()
        return approval

    async def get(self, approval_id: str, *, organization_id: str) -> PendingApproval:
        """The approval, if it belongs to this organization; otherwise not found."""
        approval = await self._read(approval_id)
        if approval is None or approval.organization_id != organization_id:
            raise NotFound("approval not found")
        if approval.expired:
            approval.status = "expired"
        return approval

    async def find(self, approval_id: str) -> PendingApproval | None:
        """The approval whatever its organization (callers check membership themselves)."""
        return await self._read(approval_id)

    async def _read(self, approval_id: str) -> PendingApproval | None:
        fields = await self._redis.hgetall(self._key(approval_id))
        if not fields or "data" not in fields:
            return None
        approval = PendingApproval.model_validate_json(str(fields["data"]))
        decided_at = fields.get("decided_at_ts")
        result = fields.get("result")
        return approval.model_copy(
            update={
                "status": str(fields.get("status", "pending")),
                "decided_by": fields.get("decided_by"),
                "decided_at_ts": float(decided_at) if decided_at else None,
                "result": json.loads(str(result)) if result else None,
            }
        )

    async def require_admin(self, approval_id: str) -> None:
        """Make an approval one only an admin can decide (the requester is a machine)."""
        approval = await self._read(approval_id)
        if approval is None or approval.approver == "admin":
            return
        data = approval.model_copy(update={"approver": "admin"}).model_dump_json(
            exclude={"status", "decided_by", "decided_at_ts", "result"}
        )
        await self._redis.hset(self._key(approval_id), "data", data)

    async def store_result(self, approval_id: str, result: dict[str, Any]) -> None:
        await self._redis.hset(self._key(approval_id), "result", json.dumps(result))

    async def decide(
        self, approval: PendingApproval, status: ApprovalStatus, *, decided_by: str
    ) -> PendingApproval:
        """Record the decision once; a second decision, or one after expiry, is a conflict."""
        won, state = await self._decide(
            keys=[self._key(approval.id)], args=[status, decided_by, time.time()]
        )
        if not int(won):
            if state == "missing":
                raise NotFound("approval not found")
            raise Conflict(f"this approval is already {state}", details={"status": state})
        return approval.model_copy(update={"status": status, "decided_by": decided_by})

    async def list_pending(
        self, organization_id: str, *, limit: int = 100
    ) -> list[PendingApproval]:
        ids = await self._redis.zrevrange(self._index(organization_id), 0, limit - 1)
        pending = []
        for approval_id in ids:
            approval = await self._read(str(approval_id))
            if approval is not None and approval.status == "pending" and not approval.expired:
                pending.append(approval)
        return pending
