"""E-mail notifications: the MIME message and one SMTP attempt through aiosmtplib."""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib

from aiops.notifications.channels import EmailChannel
from aiops.notifications.messages import Notification
from aiops.notifications.rendering import render_email, truncate
from aiops.notifications.results import Attempt

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _token(text: str) -> str:
    return _UNSAFE.sub("-", text).strip("-")[:64] or "x"


def build_message(channel: EmailChannel, notification: Notification) -> EmailMessage:
    """A multipart/alternative message (plain text and HTML) addressed per ``channel``.

    Every message about one incident references the same id, so mail clients thread them.
    """
    rendered = render_email(notification)
    domain = channel.from_address.rsplit("@", 1)[1]
    message = EmailMessage()
    message["Subject"] = rendered.subject
    message["From"] = channel.from_address
    message["To"] = ", ".join(channel.to)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=domain)
    thread = f"<incident.{_token(notification.organization)}.{_token(notification.incident_id)}"
    message["References"] = f"{thread}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies
    message["X-Hexabase-Event"] = notification.event
    message["X-Hexabase-Incident"] = _token(notification.incident_id)
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


def _refused(errors: dict[str, aiosmtplib.SMTPResponse]) -> str | None:
    if not errors:
        return None
    listed = "; ".join(f"{rcpt} ({reply.code})" for rcpt, reply in sorted(errors.items()))
    return truncate(f"refused recipients: {listed}", 500)


async def send_message(
    channel: EmailChannel, message: EmailMessage, *, time_limit: float
) -> Attempt:
    """One SMTP session. Temporary failures (4xx replies, connection trouble) may be retried."""
    password = channel.password.get_secret_value() if channel.password else None
    try:
        errors, _ = await aiosmtplib.send(
            message,
            hostname=channel.smtp_host,
            port=channel.smtp_port,
            username=channel.username,
            password=password,
            use_tls=channel.use_tls,
            start_tls=False if channel.use_tls else channel.starttls,
            timeout=time_limit,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [item.code for item in exc.recipients]
        temporary = bool(codes) and all(400 <= code < 500 for code in codes)
        return Attempt(
            ok=False,
            retry=temporary,
            status=codes[0] if codes else None,
            error=_refused({item.recipient: _reply(item) for item in exc.recipients}),
        )
    except aiosmtplib.SMTPResponseException as exc:
        return Attempt(
            ok=False,
            retry=400 <= exc.code < 500,
            status=exc.code,
            error=truncate(f"SMTP {exc.code}: {exc.message}", 300),
        )
    except (aiosmtplib.SMTPTimeoutError, aiosmtplib.SMTPConnectError) as exc:
        return Attempt(ok=False, retry=True, error=truncate(f"{type(exc).__name__}: {exc}", 300))
    except aiosmtplib.SMTPServerDisconnected as exc:
        return Attempt(ok=False, retry=True, error=truncate(f"disconnected: {exc}", 300))
    except aiosmtplib.SMTPException as exc:  # e.g. the server does not offer STARTTLS
        return Attempt(ok=False, error=truncate(f"{type(exc).__name__}: {exc}", 300))
    except OSError as exc:
        return Attempt(ok=False, retry=True, error=truncate(f"{type(exc).__name__}: {exc}", 300))
    return Attempt(ok=True, status=250, error=_refused(errors))


def _reply(error: aiosmtplib.SMTPRecipientRefused) -> aiosmtplib.SMTPResponse:
    return aiosmtplib.SMTPResponse(error.code, error.message)
