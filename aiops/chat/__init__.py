"""The chat API: sessions, messages (JSON or Server-Sent Events), approvals, tools."""
