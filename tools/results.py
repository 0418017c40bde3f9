"""What a tool returns: a status, structured data for people and charts, and text for the model.

The text is compact and fits the output budget; when something had to be cut, ``note`` tells the
model how to narrow the next query instead.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

ToolStatus = Literal["ok", "error", "no_data", "approval_required"]


class ToolResult(BaseModel):
    status: ToolStatus
    summary: str = Field(description="Compact text for the model")
    data: Any = None
    note: str | None = None
    approval_id: str | None = None

    @classmethod
    def ok(cls, summary: str, data: Any = None, *, note: str | None = None) -> ToolResult:
        return cls(status="ok", summary=summary, data=data, note=note)

    @classmethod
    def no_data(cls, summary: str, *, note: str | None = None) -> ToolResult:
        return cls(status="no_data", summary=summary, note=note)

    @classmethod
    def error(cls, summary: str, *, note: str | None = None) -> ToolResult:
        return cls(status="error", summary=summary, note=note)

    def text(self) -> str:
        """Status, summary and note as the model reads them."""
        parts = [f"status: {self.status}", self.summary]
        if self.note:
            parts.append(f"note: {self.note}")
        return "\n".join(part for part in parts if part)
