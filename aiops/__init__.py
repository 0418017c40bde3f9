"""Hexabase AIOps: the service (REST API, chat, bots, scheduler and CLI)."""

__version__ = "0.1.0"
