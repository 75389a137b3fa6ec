"""Every error the API sends: the OpenAI envelope, the right status and the parameter at fault."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from openreel.errors import RateLimitError
from openreel.runtime import open_database
from openreel.storage.principals import PrincipalStore
from openreel.trust.auth import mint_token

if TYPE_CHECKING:
    from tests.api.conftest import Api

TINY = {"model": "openreel-sketch", "seconds": "1", "size": "96x64", "fps": 8}
UNKNOWN = f"video_{'0' * 32}"

BAD_FIELDS: list[tuple[str, Any, str]] = [
    ("prompt", "", "invalid_value"),
    ("prompt", "   ", "invalid_value"),
    ("prompt", "x" * 4001, "invalid_value"),
    ("prompt", 42, "invalid_value"),
    ("negative_prompt", "x" * 4001, "invalid_value"),
    ("seconds", "0", "invalid_value"),
    ("seconds", 0, "invalid_value"),
    ("seconds", "-1", "invalid_value"),
    ("seconds", "abc", "invalid_value"),
    ("seconds", "61", "invalid_value"),
    ("seconds", 61, "invalid_value"),
    ("seconds", "nan", "invalid_value"),
    ("seconds", "0.01", "invalid_value"),
    ("seconds", True, "invalid_value"),
    ("size", "97x64", "invalid_value"),
    ("size", "96x65", "invalid_value"),
    ("size", "32x32", "invalid_value"),
    ("size", "4000x2000", "invalid_value"),
    ("size", "huge", "invalid_value"),
    ("size", "96*64", "invalid_value"),
    ("size", 96, "invalid_value"),
    ("fps", "0", "invalid_value"),
    ("fps", 0, "invalid_value"),
    ("fps", "61", "invalid_value"),
    ("fps", "abc", "invalid_value"),
    ("fps", 8.5, "invalid_value"),
    ("seed", "-1", "invalid_value"),
    ("seed", -1, "invalid_value"),
    ("seed", "abc", "invalid_value"),
    ("seed", 2**32, "invalid_value"),
    ("model", "sora-2", "model_not_found"),
    ("model", "openreel-sketch-xl", "model_not_found"),
]


@pytest.mark.parametrize(("param", "value", "code"), BAD_FIELDS)
def test_create_json_bad_field_is_400_naming_it(
    api: Api, param: str, value: Any, code: str
) -> None:
    body = {"prompt": "a boat", **TINY, param: value}
    response = api.client.post("/v1/videos", json=body, headers=api.auth())
    error = api.error(response, 400, param=param, code=code)
    assert error["type"] == "invalid_request_error"
    if param != "prompt":
        assert param in error["message"]


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("prompt", ""),
        ("seconds", "0"),
        ("seconds", "abc"),
        ("seconds", "61"),
        ("size", "97x64"),
        ("size", "garbage"),
        ("fps", "61"),
        ("fps", "abc"),
        ("seed", "-1"),
        ("seed", "abc"),
        ("model", "sora-2"),
    ],
)
def test_create_multipart_bad_field_is_400_naming_it(api: Api, param: str, value: str) -> None:
    form = {"prompt": "a boat", **{k: str(v) for k, v in TINY.items()}, param: value}
    response = api.client.post(
        "/v1/videos",
        data=form,
        files={"unused": ("x.txt", b"x", "text/plain")},
        headers=api.auth(),
    )
    api.error(response, 400, param=param)


def test_create_missing_prompt_or_not_an_object(api: Api) -> None:
    api.error(
        api.client.post("/v1/videos", json={"seconds": "1"}, headers=api.auth()),
        400,
        param="prompt",
    )
    api.error(api.client.post("/v1/videos", json=["a boat"], headers=api.auth()), 400)
    api.error(
        api.client.post(
            "/v1/videos",
            content=b'{"prompt": ',
            headers=api.auth() | {"content-type": "application/json"},
        ),
        400,
    )


def test_create_bad_request_makes_no_video(api: Api) -> None:
    api.client.post("/v1/videos", json={"prompt": "a boat", "seconds": "abc"}, headers=api.auth())
    listing = api.client.get("/v1/videos", headers=api.auth()).json()
    assert listing["data"] == []


# ----- 401 ------------------------------------------------------------------------------------


def _unauthorized(api: Api, headers: dict[str, str]) -> dict[str, Any]:
    response = api.client.get("/v1/videos", headers=headers)
    error = api.error(response, 401, code=None)
    assert error["type"] == "authentication_error"
    assert response.headers["www-authenticate"].lower().startswith("bearer")
    return error


def test_auth_missing_header_is_401(api: Api) -> None:
    error = _unauthorized(api, {})
    assert error["code"] == "invalid_api_key"
    assert "Bearer" in error["message"]


@pytest.mark.parametrize(
    "header",
    ["Basic YWxpY2U6c2VjcmV0", "Bearer", "Bearer ", "or_abc", "Token or_abc"],
)
def test_auth_malformed_header_is_401(api: Api, header: str) -> None:
    _unauthorized(api, {"Authorization": header})


def test_auth_malformed_token_is_401(api: Api) -> None:
    token = api.tokens["alice"]
    for bad in ("or_notarealtoken", token[:-1] + ("A" if token[-1] != "A" else "B"), "sk-abc"):
        error = _unauthorized(api, {"Authorization": f"Bearer {bad}"})
        assert bad not in error["message"]


def test_auth_unknown_well_formed_token_is_401(api: Api) -> None:
    error = _unauthorized(api, {"Authorization": f"Bearer {mint_token()}"})
    assert error["code"] == "invalid_api_key"


@pytest.fixture
def principal_store(api: Api) -> Iterator[PrincipalStore]:
    db = open_database(api.server.services.settings)  # SQLite or PostgreSQL, as the server
    yield PrincipalStore(db)
    db.dispose()


def test_auth_revoked_token_is_401_on_the_next_request(
    api: Api, principal_store: PrincipalStore
) -> None:
    issued = api.server.services.auth.issue("carol")
    headers = {"Authorization": f"Bearer {issued.token}"}
    assert api.client.get("/v1/videos", headers=headers).status_code == 200
    principal_store.revoke_token(issued.record.id)
    error = _unauthorized(api, headers)
    assert "revoked" in error["message"]
    # Other people's tokens still work.
    assert api.client.get("/v1/videos", headers=api.auth()).status_code == 200


def test_auth_expired_token_is_401(api: Api, principal_store: PrincipalStore) -> None:
    auth = api.server.services.auth
    token = mint_token()
    principal_store.add_token(
        api.principals["alice"].id,
        token_id="tok_expired0000000",
        name="old",
        token_hash=auth.hash(token),
        prefix=token[:10],
        scopes=("videos:read", "videos:write"),
        expires_at=1.0,
    )
    error = _unauthorized(api, {"Authorization": f"Bearer {token}"})
    assert error["code"] == "token_expired"


def test_auth_is_required_on_every_v1_route(api: Api) -> None:
    calls: list[Callable[[], Any]] = [
        lambda: api.client.post("/v1/videos", json={"prompt": "a boat", **TINY}),
        lambda: api.client.get(f"/v1/videos/{UNKNOWN}"),
        lambda: api.client.delete(f"/v1/videos/{UNKNOWN}"),
        lambda: api.client.get(f"/v1/videos/{UNKNOWN}/content"),
        lambda: api.client.get(f"/v1/videos/{UNKNOWN}/events"),
        lambda: api.client.post(f"/v1/videos/{UNKNOWN}/remix", json={"prompt": "x"}),
        lambda: api.client.post(f"/v1/videos/{UNKNOWN}/cancel"),
        lambda: api.client.post("/v1/videos/extensions", json={"prompt": "x"}),
        lambda: api.client.get("/v1/models"),
        lambda: api.client.post("/v1/files", files={"file": ("a.png", b"x", "image/png")}),
    ]
    for call in calls:
        response = call()
        api.error(response, 401)
        assert response.headers["www-authenticate"].lower().startswith("bearer")


# ----- 404 / 405 ------------------------------------------------------------------------------


def test_unknown_video_id_is_404_naming_video_id(api: Api) -> None:
    for video_id in (UNKNOWN, "video_nope", "nope", "..%2F..%2Fsecret.key"):
        for response in (
            api.client.get(f"/v1/videos/{video_id}", headers=api.auth()),
            api.client.get(f"/v1/videos/{video_id}/content", headers=api.auth()),
            api.client.delete(f"/v1/videos/{video_id}", headers=api.auth()),
        ):
            api.error(response, 404, code="not_found")


def test_unknown_route_is_enveloped_404(api: Api) -> None:
    for path in ("/v1/nope", "/nope", "/v1/videos/x/y/z", "/v2/videos"):
        response = api.client.get(path, headers=api.auth())
        error = api.error(response, 404, code="not_found")
        assert path in error["message"]
        assert "detail" not in response.json()


def test_wrong_method_is_enveloped_405_with_allow(api: Api) -> None:
    response = api.client.put("/v1/videos", json={}, headers=api.auth())
    api.error(response, 405, code="method_not_allowed")
    assert "POST" in response.headers["allow"]
    response = api.client.patch(f"/v1/videos/{UNKNOWN}", headers=api.auth())
    api.error(response, 405)
    assert "GET" in response.headers["allow"]


# ----- 409 ------------------------------------------------------------------------------------


def test_wrong_state_is_409(api: Api) -> None:
    running = api.start_long()
    for response in (
        api.client.get(f"/v1/videos/{running['id']}/content", headers=api.auth()),
        api.client.post(
            f"/v1/videos/{running['id']}/remix", json={"prompt": "x"}, headers=api.auth()
        ),
    ):
        error = api.error(response, 409, code="invalid_state")
        assert error["type"] == "invalid_request_error"


# ----- 413 / 415 ------------------------------------------------------------------------------


def test_body_over_the_limit_is_413(make_api: Callable[..., Api]) -> None:
    small = make_api(max_body_bytes=2048)
    response = small.client.post(
        "/v1/videos", json={"prompt": "x" * 3000, **TINY}, headers=small.auth()
    )
    error = small.error(response, 413, code="payload_too_large")
    assert "2048" in error["message"]
    assert response.headers["x-request-id"].startswith("req_")
    ok = small.client.post("/v1/videos", json={"prompt": "a boat", **TINY}, headers=small.auth())
    assert ok.status_code == 200


def test_chunked_body_over_the_limit_is_413(make_api: Callable[..., Api]) -> None:
    small = make_api(max_body_bytes=2048)

    def chunks() -> Iterator[bytes]:
        yield b'{"prompt": "'
        for _ in range(64):
            yield b"x" * 1024
        yield b'"}'

    for content_type in ("application/json", "multipart/form-data; boundary=xyz"):
        response = small.client.post(
            "/v1/videos", content=chunks(), headers=small.auth() | {"content-type": content_type}
        )
        small.error(response, 413, code="payload_too_large")
    response = small.client.post(
        "/v1/files",
        content=chunks(),
        headers=small.auth() | {"content-type": "multipart/form-data; boundary=xyz"},
    )
    small.error(response, 413, code="payload_too_large")


def test_unsupported_content_type_is_415(api: Api) -> None:
    for content_type in ("text/plain", "application/xml"):
        response = api.client.post(
            "/v1/videos",
            content=b"prompt=a boat",
            headers=api.auth() | {"content-type": content_type},
        )
        error = api.error(response, 415, code="unsupported_media_type")
        assert content_type in error["message"]
    response = api.client.post("/v1/videos", content=b"", headers=api.auth())
    api.error(response, 415)


# ----- FastAPI's 422 never shows ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/v1/videos?limit=0", "limit"),
        ("/v1/videos?limit=101", "limit"),
        ("/v1/videos?limit=abc", "limit"),
        ("/v1/videos?order=sideways", "order"),
        (f"/v1/videos?after={'x' * 101}", "after"),
        (f"/v1/videos/{UNKNOWN}/content?variant=gif", "variant"),
    ],
)
def test_bad_query_parameter_is_400_naming_it(api: Api, path: str, param: str) -> None:
    response = api.client.get(path, headers=api.auth())
    error = api.error(response, 400, param=param, code="invalid_value")
    assert param in error["message"]
    assert "detail" not in response.json()


# ----- 500 and 429 ----------------------------------------------------------------------------


def test_unexpected_exception_is_500_with_request_id_and_no_traceback(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(*args: object, **kwargs: object) -> NoReturn:
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(api.server.services.videos, "list", explode)
    with caplog.at_level(logging.ERROR, logger="openreel.api.app"):
        response = api.client.get("/v1/videos", headers=api.auth())
    error = api.error(response, 500, code="internal_error")
    assert error["type"] == "server_error"
    request_id = response.headers["x-request-id"]
    assert request_id.startswith("req_")
    assert request_id in error["message"]
    for leak in ("hunter2", "RuntimeError", "Traceback", "File "):
        assert leak not in response.text
    assert any(request_id in record.getMessage() for record in caplog.records)
    assert any(record.exc_info for record in caplog.records)


def test_unexpected_exception_in_a_route_is_500(api: Api) -> None:
    def boom() -> NoReturn:
        raise RuntimeError("secret internals")

    api.app.add_api_route("/v1/test-boom", boom, methods=["GET"], response_model=None)
    response = api.client.get("/v1/test-boom")
    error = api.error(response, 500, code="internal_error")
    assert response.headers["x-request-id"] in error["message"]
    assert "secret" not in response.text


def test_rate_limit_is_429_with_retry_after(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def limited(*args: object, **kwargs: object) -> NoReturn:
        raise RateLimitError("you have used your minutes for today", retry_after=2.6)

    monkeypatch.setattr(api.server.services.videos, "submit", limited)
    response = api.client.post("/v1/videos", json={"prompt": "a boat", **TINY}, headers=api.auth())
    error = api.error(response, 429, code="rate_limit_exceeded")
    assert error["type"] == "rate_limit_error"
    assert response.headers["retry-after"] == "3"


def test_rate_limit_retry_after_is_at_least_one_second(api: Api) -> None:
    def limited() -> NoReturn:
        raise RateLimitError("slow down", retry_after=0.01)

    api.app.add_api_route("/v1/test-limited", limited, methods=["GET"], response_model=None)
    response = api.client.get("/v1/test-limited")
    api.error(response, 429)
    assert response.headers["retry-after"] == "1"


def test_error_responses_carry_a_request_id(api: Api) -> None:
    seen = set()
    for response in (
        api.client.get("/v1/videos"),
        api.client.get("/v1/nope"),
        api.client.get(f"/v1/videos/{UNKNOWN}", headers=api.auth()),
        api.client.get("/v1/videos?limit=0", headers=api.auth()),
    ):
        assert response.status_code >= 400
        seen.add(response.headers["x-request-id"])
    assert len(seen) == 4
