"""Reading and writing a workspace's remediation policy."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from platform_core.cluster.schemas import CpuQuantity, DnsLabel, MemoryQuantity
from platform_core.remediation.policy import PolicyAction

DEFAULT_ACTIONS: tuple[PolicyAction, ...] = ("restart", "scale", "rollback", "raise_limits")


class RemediationPolicyWrite(BaseModel):
    """The whole policy (PUT replaces it). Every bound is checked in code before an action."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    allowed_actions: list[PolicyAction] = Field(
        default_factory=lambda: list(DEFAULT_ACTIONS),
        max_length=4,
        description="What may run without a person: restart, scale, rollback, raise_limits",
    )
    applications: list[DnsLabel] = Field(
        default_factory=list, max_length=200, description="Only these applications (empty: all)"
    )
    min_replicas: int = Field(default=1, ge=0, le=200)
    max_replicas: int = Field(default=10, ge=1, le=200)
    max_cpu_limit: CpuQuantity = Field(default="2", description="Highest CPU limit it may set")
    max_memory_limit: MemoryQuantity = Field(default="2Gi", description="Highest memory limit")
    max_actions_per_hour: int = Field(default=3, ge=1, le=60, description="Per application")
    cooldown_minutes: int = Field(default=10, ge=0, le=1440, description="Quiet time after one")
    verify_minutes: int = Field(
        default=5, ge=1, le=120, description="Healthy minutes that prove a fix worked"
    )
    escalate_after_minutes: int = Field(
        default=30, ge=5, le=1440, description="Unresolved this long after opening: escalate"
    )

    @model_validator(mode="after")
    def _consistent(self) -> RemediationPolicyWrite:
        if self.min_replicas > self.max_replicas:
            raise ValueError("min_replicas must not exceed max_replicas")
        if len(set(self.allowed_actions)) != len(self.allowed_actions):
            raise ValueError("allowed_actions lists an action twice")
        return self


class RemediationPolicyRead(RemediationPolicyWrite):
    model_config = ConfigDict(extra="ignore")

    workspace_id: str
    workspace: str
    service_key_id: str | None = Field(
        description="The API key remediation acts as here; revoke it to stop remediation"
    )
    updated_at: datetime
