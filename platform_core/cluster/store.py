"""The simulated twin's state, kept with the rest of the platform's data.

One row per twin (the service runs one, ``default``): its complete snapshot as JSON. The service
saves it periodically and at shutdown and loads it at start, so a demo survives restarts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from platform_core.db import Database
from platform_core.db.base import Base, utcnow


class TwinSnapshot(Base):
    __tablename__ = "twin_snapshots"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)


class TwinStore:
    def __init__(self, db: Database, *, name: str = "default") -> None:
        self._db = db
        self._name = name

    async def load(self) -> dict[str, Any] | None:
        async with self._db.session() as session:
            row = await session.get(TwinSnapshot, self._name)
            return row.data if row is not None else None

    async def save(self, data: dict[str, Any]) -> None:
        async with self._db.session() as session:
            row = await session.get(TwinSnapshot, self._name)
            if row is None:
                session.add(TwinSnapshot(id=self._name, data=data))
            else:
                row.data = data
                row.saved_at = utcnow()
            await session.commit()
