"""Sign-in, refresh rotation, revocation and the tokens the API refuses."""

from __future__ import annotations

import time
import uuid

import httpx
import jwt
import pytest

from aiops.state import AppState
from platform_core.auth.keys import KeyRing, generate_private_key_pem
from tests.support.tenants import PASSWORD, make_tenant

WORKSPACES = "/api/v1/organizations/acme/workspaces"


async def _login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/api/v1/auth/token", json={"email": email, "password": password})


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_wrong_password_and_unknown_email_get_the_same_answer(
    client: httpx.AsyncClient, state: AppState
) -> None:
    tenant = await make_tenant(state, "acme")
    wrong = await _login(client, tenant["owner"].user.email, "not-the-password")
    unknown = await _login(client, "ghost@acme.test", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["error"]["message"] == unknown.json()["error"]["message"]


async def test_refresh_rotates_and_the_old_refresh_token_stops_working(
    client: httpx.AsyncClient, state: AppState
) -> None:
    tenant = await make_tenant(state, "acme")
    first = (await _login(client, tenant["owner"].user.email)).json()
    second = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert (
        await client.get(WORKSPACES, headers=_bearer(rotated["access_token"]))
    ).status_code == 200


async def test_reusing_a_refresh_token_revokes_the_whole_family(
    client: httpx.AsyncClient, state: AppState
) -> None:
    tenant = await make_tenant(state, "acme")
    login = (await _login(client, tenant["owner"].user.email)).json()
    rotated = (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": login["refresh_token"]})
    ).json()
    # an attacker replays the stolen, already-used token
    replay = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": login["refresh_token"]}
    )
    assert replay.status_code == 401
    assert "already used" in replay.json()["error"]["message"]
    # the legitimate client's newer tokens of that family are dead too
    again = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]}
    )
    assert again.status_code == 401
    for token in (login["access_token"], rotated["access_token"]):
        assert (await client.get(WORKSPACES, headers=_bearer(token))).status_code == 401
    # other login sessions of the same person are not affected
    other = (await _login(client, tenant["owner"].user.email)).json()
    assert (await client.get(WORKSPACES, headers=_bearer(other["access_token"]))).status_code == 200


async def test_logout_revokes_the_session(client: httpx.AsyncClient, state: AppState) -> None:
    tenant = await make_tenant(state, "acme")
    login = (await _login(client, tenant["owner"].user.email)).json()
    headers = _bearer(login["access_token"])
    assert (await client.post("/api/v1/auth/logout", headers=headers)).status_code == 204
    assert (await client.get(WORKSPACES, headers=headers)).status_code == 401
    refresh = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": login["refresh_token"]}
    )
    assert refresh.status_code == 401


def _forge(keys: KeyRing, state: AppState, **claims: object) -> str:
    now = int(time.time())
    payload = {
        "iss": state.settings.jwt_issuer,
        "aud": state.settings.jwt_audience,
        "sub": claims.pop("sub"),
        "typ": "access",
        "sid": str(uuid.uuid4()),
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + 600,
        **claims,
    }
    return jwt.encode(payload, keys.private_key, algorithm="RS256", headers={"kid": keys.kid})


@pytest.mark.parametrize(
    "case",
    [
        "expired",
        "foreign_key",
        "foreign_key_same_kid",
        "tampered",
        "alg_none",
        "wrong_audience",
        "wrong_issuer",
        "garbage",
        "deleted_user",
    ],
)
async def test_bad_tokens_are_refused(
    case: str, client: httpx.AsyncClient, state: AppState
) -> None:
    tenant = await make_tenant(state, "acme")
    own_keys = state.auth.keys
    sub = str(tenant["owner"].user.id)
    foreign = KeyRing(generate_private_key_pem())
    token = {
        "expired": lambda: _forge(own_keys, state, sub=sub, exp=int(time.time()) - 60),
        "foreign_key": lambda: _forge(foreign, state, sub=sub),
        "foreign_key_same_kid": lambda: jwt.encode(
            jwt.decode(_forge(own_keys, state, sub=sub), options={"verify_signature": False}),
            foreign.private_key,
            algorithm="RS256",
            headers={"kid": own_keys.kid},
        ),
        "tampered": lambda: _tamper(tenant["viewer"].token, sub),
        "alg_none": lambda: jwt.encode(
            jwt.decode(_forge(own_keys, state, sub=sub), options={"verify_signature": False}),
            key=None,
            algorithm="none",
            headers={"kid": own_keys.kid},
        ),
        "wrong_audience": lambda: _forge(own_keys, state, sub=sub, aud="someone-else"),
        "wrong_issuer": lambda: _forge(own_keys, state, sub=sub, iss="evil"),
        "garbage": lambda: "not.a.jwt",
        "deleted_user": lambda: _forge(own_keys, state, sub=str(uuid.uuid4())),
    }[case]()
    response = await client.get(WORKSPACES, headers=_bearer(token))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    assert "Traceback" not in response.text


def _tamper(token: str, new_sub: str) -> str:
    """Swap the payload of a validly signed token, keeping its signature."""
    header, _, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["sub"] = new_sub
    forged_payload = jwt.utils.base64url_encode(jwt.api_jws.json.dumps(claims).encode()).decode()
    return f"{header}.{forged_payload}.{signature}"


async def test_missing_credentials_are_401_with_a_hint(client: httpx.AsyncClient) -> None:
    response = await client.get(WORKSPACES)
    assert response.status_code == 401
    assert "Authorization" in response.json()["error"]["message"]


async def test_jwks_publishes_the_key_that_verifies_access_tokens(
    client: httpx.AsyncClient, state: AppState
) -> None:
    tenant = await make_tenant(state, "acme")
    jwks = (await client.get("/.well-known/jwks.json")).json()
    assert jwks == (await client.get("/api/v1/auth/jwks")).json()
    token = tenant["owner"].token
    kid = jwt.get_unverified_header(token)["kid"]
    jwk = next(k for k in jwks["keys"] if k["kid"] == kid)
    key = jwt.PyJWK(jwk).key
    claims = jwt.decode(token, key, algorithms=["RS256"], audience=state.settings.jwt_audience)
    assert claims["sub"] == str(tenant["owner"].user.id)
    assert "d" not in jwk  # never the private part


async def test_api_keys_work_until_revoked_and_are_shown_once(
    client: httpx.AsyncClient, state: AppState
) -> None:
    tenant = await make_tenant(state, "acme")
    keys_url = "/api/v1/organizations/acme/api-keys"
    owner = tenant["owner"]
    created = await client.post(
        keys_url,
        headers=owner.headers,
        json={
            "name": "ci-bot",
            "role": "member",
            "workspace": tenant.workspace.name,
            "workspace_role": "viewer",
        },
    )
    assert created.status_code == 201
    key = created.json()["key"]
    listed = await client.get(keys_url, headers=owner.headers)
    assert key not in listed.text and listed.json()[0]["prefix"] in key

    bot = {"X-API-Key": key}
    assert (await client.get(WORKSPACES, headers=bot)).status_code == 200
    assert (await client.get(WORKSPACES, headers=_bearer(key))).status_code == 200
    # a viewer key cannot write
    project = await client.post(
        f"{WORKSPACES}/{tenant.workspace.name}/projects", headers=bot, json={"name": "p"}
    )
    assert project.status_code == 403
    revoked = await client.delete(f"{keys_url}/{created.json()['id']}", headers=owner.headers)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert (await client.get(WORKSPACES, headers=bot)).status_code == 401


async def test_service_tokens_never_exceed_the_user_and_stay_in_their_workspace(
    client: httpx.AsyncClient, state: AppState
) -> None:
    tenant = await make_tenant(state, "acme")
    owner = tenant["owner"]
    other_ws = await client.post(WORKSPACES, headers=owner.headers, json={"name": "second"})
    assert other_ws.status_code == 201
    async with state.db.session() as session:
        subject = await state.auth.authenticate(session, tenant["editor"].token)
        owner_subject = await state.auth.authenticate(session, owner.token)
    editor_token = state.auth.service_token(subject, tenant.org.id, tenant.workspace.id).token
    pinned_owner = state.auth.service_token(owner_subject, tenant.org.id, tenant.workspace.id).token

    ws_url = f"{WORKSPACES}/{tenant.workspace.name}"
    me = await client.get("/api/v1/auth/me", headers=_bearer(editor_token))
    assert me.json()["kind"] == "service"
    assert (await client.get(ws_url, headers=_bearer(editor_token))).status_code == 200
    # the editor cannot delete the workspace through the agent either
    assert (await client.delete(ws_url, headers=_bearer(editor_token))).status_code == 403
    # pinned to one workspace: the owner's agent token does not see the other one
    listed = await client.get(WORKSPACES, headers=_bearer(pinned_owner))
    assert [w["name"] for w in listed.json()] == [tenant.workspace.name]
    assert (
        await client.get(f"{WORKSPACES}/second", headers=_bearer(pinned_owner))
    ).status_code == 404
    refused = await client.post(WORKSPACES, headers=_bearer(pinned_owner), json={"name": "third"})
    assert refused.status_code in (403, 404)

    claims = jwt.decode(editor_token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] <= state.settings.service_token_ttl_seconds
