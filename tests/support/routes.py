"""The API's mutating operations, with a valid body for each, taken from the OpenAPI document.

Tests that must cover "every mutating call" iterate over this; a new mutating route without a
body here fails those tests until it is added.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

ORG = "/api/v1/organizations/{org}"
WS = ORG + "/workspaces/{workspace}"
PROJECT = WS + "/projects/{project}"
MUTATING = ("post", "put", "patch", "delete")


def valid_bodies(user_id: str) -> dict[tuple[str, str], dict[str, Any] | None]:
    """A body that passes validation for each mutating operation; ``user_id`` is a member."""
    return {
        ("POST", "/api/v1/auth/token"): {"email": "nobody@example.org", "password": "wrong-pass"},
        ("POST", "/api/v1/auth/refresh"): {"refresh_token": "hxr_" + "x" * 40},
        ("POST", "/api/v1/auth/logout"): None,
        ("POST", "/api/v1/organizations"): {"name": "fresh-org"},
        ("POST", "/api/v1/invitations/accept"): {"token": "hxi_" + "x" * 40},
        ("PATCH", ORG): {"display_name": "Renamed"},
        ("DELETE", ORG): None,
        ("PATCH", ORG + "/members/{user_id}"): {"role": "admin"},
        ("DELETE", ORG + "/members/{user_id}"): None,
        ("POST", ORG + "/invitations"): {"email": "new.person@example.org", "role": "member"},
        ("DELETE", ORG + "/invitations/{invitation_id}"): None,
        ("POST", ORG + "/workspaces"): {"name": "extra-ws"},
        ("PATCH", WS): {"display_name": "Renamed"},
        ("DELETE", WS): None,
        ("POST", WS + "/members"): {"user_id": user_id, "role": "admin"},
        ("DELETE", WS + "/members/{binding_id}"): None,
        ("POST", WS + "/projects"): {"name": "extra-project"},
        ("PATCH", PROJECT): {"display_name": "Renamed"},
        ("DELETE", PROJECT): None,
        ("POST", PROJECT + "/members"): {"user_id": user_id, "role": "admin"},
        ("DELETE", PROJECT + "/members/{binding_id}"): None,
        ("POST", ORG + "/groups"): {"name": "extra-group"},
        ("PATCH", ORG + "/groups/{group}"): {"description": "changed"},
        ("DELETE", ORG + "/groups/{group}"): None,
        ("POST", ORG + "/groups/{group}/members"): {"user_id": user_id},
        ("DELETE", ORG + "/groups/{group}/members/{user_id}"): None,
        ("POST", ORG + "/api-keys"): {"name": "extra-key"},
        ("DELETE", ORG + "/api-keys/{key_id}"): None,
        ("PUT", ORG + "/agent-settings"): {"read_only": True},
        ("POST", ORG + "/incidents/{incident_id}/resolve"): {"note": "fixed by hand"},
        ("PUT", WS + "/remediation-policy"): {"max_replicas": 6},
        ("DELETE", WS + "/remediation-policy"): None,
        ("POST", ORG + "/notification-channels"): {
            "name": "ops-webhook",
            "settings": {
                "kind": "webhook",
                "url": "https://hooks.example.org/aiops",
                "secret": "s" * 32,
            },
        },
        ("PUT", ORG + "/notification-channels/{channel_id}"): {
            "name": "ops-hook",
            "settings": {"kind": "slack_webhook", "url": "https://hooks.slack.com/services/T/B/x"},
        },
        ("DELETE", ORG + "/notification-channels/{channel_id}"): None,
        ("POST", ORG + "/notification-channels/{channel_id}/test"): None,
        ("POST", "/api/v1/alerts/alertmanager"): {
            "status": "firing",
            "alerts": [
                {
                    "status": "firing",
                    "labels": {
                        "alertname": "HighErrorRate",
                        "workspace": "acme-ws",
                        "namespace": "app",
                        "app": "web",
                    },
                }
            ],
        },
        ("POST", "/api/v1/integrations/slack/link-codes"): {"organization": "acme"},
        ("DELETE", "/api/v1/integrations/slack/links/{link_id}"): None,
        ("POST", "/api/v1/chat/sessions"): {"organization": "acme"},
        ("PATCH", "/api/v1/chat/sessions/{session_id}"): {"title": "renamed"},
        ("DELETE", "/api/v1/chat/sessions/{session_id}"): None,
        ("POST", "/api/v1/chat/sessions/{session_id}/messages"): {"content": "hello"},
        ("POST", "/api/v1/chat/approvals/{approval_id}/approve"): None,
        ("POST", "/api/v1/chat/approvals/{approval_id}/deny"): None,
    }


def mutating_operations(app: FastAPI) -> list[tuple[str, str]]:
    return sorted(
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if method in MUTATING
    )
