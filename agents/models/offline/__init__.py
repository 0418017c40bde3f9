"""The offline planner: a deterministic chat model that needs no model at all.

It reads the request in the conversation, recognises what is asked (``intents``), and plans the
tool calls to answer it (``plans``), one step per call, like a model would: the runtime, the
toolset, approvals and budgets treat it exactly as any other chat model. It is the embedded
default and the fallback when a configured model fails, and it says plainly what it cannot do.
"""

from agents.models.offline.planner import OfflinePlanner

__all__ = ["OfflinePlanner"]
