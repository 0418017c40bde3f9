"""Relational persistence: SQLAlchemy 2 (async) models, engine and Alembic migrations."""

from platform_core.db.base import Base, TimestampMixin, utcnow
from platform_core.db.engine import Database

__all__ = ["Base", "Database", "TimestampMixin", "utcnow"]
