"""User accounts (created by the CLI, by accepting an invitation, or later through OIDC)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from platform_core.auth.passwords import MIN_PASSWORD_LENGTH, Passwords
from platform_core.errors import Conflict, InvalidInput
from platform_core.tenancy.models import User
from platform_core.tenancy.repository import user_by_email


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or len(email) > 320:
        raise InvalidInput("that is not an email address", details={"field": "email"})
    return email


async def create_user(
    session: AsyncSession,
    passwords: Passwords,
    *,
    email: str,
    name: str,
    password: str | None,
) -> User:
    email = normalize_email(email)
    if await user_by_email(session, email) is not None:
        raise Conflict("a user with this email already exists", details={"email": email})
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"the password must have at least {MIN_PASSWORD_LENGTH} characters",
            details={"field": "password"},
        )
    user = User(
        email=email,
        name=name.strip() or email,
        password_hash=passwords.hash(password) if password else None,
    )
    session.add(user)
    await session.flush()
    return user
