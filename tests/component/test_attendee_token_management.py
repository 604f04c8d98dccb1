"""An attendee's end-user tokens are listed (metadata only) and revoked one by
one; a revoked token fails at once, in the header and in the URL alike."""

from __future__ import annotations

from tests.support.calendar import add_attendee, calendar, org_id
from tests.support.stack import Stack


def issue(stack: Stack, key: str, ref: str) -> dict[str, str]:
    response = stack.client.post(f"/v1/attendees/{ref}/tokens", headers=stack.auth(key))
    assert response.status_code == 201, response.text
    return dict(response.json())


def feed(stack: Stack, token: str, *, header: bool) -> int:
    if header:
        response = stack.client.get("/v1/calendar.ics", headers=stack.auth(token))
    else:
        response = stack.client.get("/v1/calendar.ics", params={"token": token})
    return response.status_code


def test_tokens_are_listed_without_their_secret(component_stack: Stack) -> None:
    # Given two tokens for ada and one for bob
    key = component_stack.key(scopes=["students:write"])
    with component_stack.db() as session:
        add_attendee(session, org_id(session), "ada")
        add_attendee(session, org_id(session), "bob")
    first, second = issue(component_stack, key, "ada"), issue(component_stack, key, "ada")
    bobs = issue(component_stack, key, "bob")

    response = component_stack.client.get(
        "/v1/attendees/ada/tokens", headers=component_stack.auth(key)
    )

    assert response.status_code == 200, response.text
    tokens = response.json()["tokens"]
    assert [token["token_id"] for token in tokens] == [first["token_id"], second["token_id"]]
    assert set(tokens[0]) == {
        "token_id", "attendee_ref", "prefix", "scopes", "created_at", "revoked_at"
    }  # fmt: skip
    assert tokens[0]["scopes"] == ["AUTHENTICATED"] and tokens[0]["revoked_at"] is None
    assert tokens[0]["prefix"] == first["token"][:10]
    for token in (first, second, bobs):
        assert token["token"] not in response.text
    assert bobs["token_id"] not in response.text


def test_a_revoked_token_fails_at_once_and_the_others_keep_working(
    component_stack: Stack,
) -> None:
    key = component_stack.key(scopes=["students:write"])
    with component_stack.db() as session:
        add_attendee(session, org_id(session), "ada")
    revoked, kept = issue(component_stack, key, "ada"), issue(component_stack, key, "ada")
    assert calendar(component_stack, revoked["token"]).status_code == 200
    assert feed(component_stack, revoked["token"], header=True) == 200

    response = component_stack.client.delete(
        f"/v1/attendees/ada/tokens/{revoked['token_id']}", headers=component_stack.auth(key)
    )

    assert response.status_code == 204 and response.content == b""
    answer = calendar(component_stack, revoked["token"])
    assert (answer.status_code, answer.json()["error"]["code"]) == (401, "INVALID_TOKEN")
    assert feed(component_stack, revoked["token"], header=True) == 401
    assert feed(component_stack, revoked["token"], header=False) == 401
    enroll = component_stack.client.post(
        "/v1/events/x/enrollments",
        json={"attendee": {"ref": "ada"}},
        headers=component_stack.auth(revoked["token"]),
    )
    assert enroll.status_code == 401
    assert calendar(component_stack, kept["token"]).status_code == 200
    listed = component_stack.client.get(
        "/v1/attendees/ada/tokens", headers=component_stack.auth(key)
    ).json()["tokens"]
    assert [token["revoked_at"] is not None for token in listed] == [True, False]
    # Revoking again is no error and changes nothing
    again = component_stack.client.delete(
        f"/v1/attendees/ada/tokens/{revoked['token_id']}", headers=component_stack.auth(key)
    )
    assert again.status_code == 204


def test_a_token_is_revoked_only_through_its_own_attendee(component_stack: Stack) -> None:
    key = component_stack.key(scopes=["students:write"])
    other_org = component_stack.key("globex", scopes=["students:write"])
    with component_stack.db() as session:
        add_attendee(session, org_id(session), "ada")
        add_attendee(session, org_id(session), "bob")
    adas = issue(component_stack, key, "ada")

    for auth, path in (
        (key, f"/v1/attendees/bob/tokens/{adas['token_id']}"),
        (key, "/v1/attendees/ada/tokens/not-a-uuid"),
        (key, "/v1/attendees/ada/tokens/00000000-0000-0000-0000-000000000000"),
    ):
        response = component_stack.client.delete(path, headers=component_stack.auth(auth))
        assert response.status_code == 404, (path, response.text)
        assert response.json()["error"]["code"] == "TOKEN_NOT_FOUND"
    theirs = component_stack.client.delete(
        f"/v1/attendees/ada/tokens/{adas['token_id']}", headers=component_stack.auth(other_org)
    )
    assert (theirs.status_code, theirs.json()["error"]["code"]) == (404, "ATTENDEE_NOT_FOUND")
    listing = component_stack.client.get(
        "/v1/attendees/ada/tokens", headers=component_stack.auth(other_org)
    )
    assert listing.status_code == 404
    # An end-user token cannot list or revoke tokens, not even its own
    for method in ("GET", "DELETE"):
        suffix = "" if method == "GET" else f"/{adas['token_id']}"
        response = component_stack.client.request(
            method, f"/v1/attendees/ada/tokens{suffix}", headers=component_stack.auth(adas["token"])
        )
        assert response.status_code == 401, response.text
    assert calendar(component_stack, adas["token"]).status_code == 200
