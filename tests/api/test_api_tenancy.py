"""Two principals, random requests: bob never reads, changes or learns of alice's videos.

Hypothesis drives bob through every video route with alice's ids (finished and queued),
random variants, bodies and query strings. Each answer must be 404 (or a 4xx about bob's own
malformed input) and never contain alice's data; afterwards alice's videos are unchanged and
bob's listing has none of them.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.api.conftest import Api

ROUTES = [
    ("GET", "/v1/videos/{id}"),
    ("GET", "/v1/videos/{id}/content"),
    ("GET", "/v1/videos/{id}/events"),
    ("DELETE", "/v1/videos/{id}"),
    ("POST", "/v1/videos/{id}/cancel"),
    ("POST", "/v1/videos/{id}/remix"),
    ("POST", "/v1/videos/extensions"),
    ("GET", "/v1/videos"),
]

bodies = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {},
        optional={
            "prompt": st.text(max_size=20),
            "seconds": st.one_of(st.integers(-2, 30), st.text(max_size=4)),
            "video": st.fixed_dictionaries({"id": st.just("{id}")}),
        },
    ),
)
queries = st.fixed_dictionaries(
    {},
    optional={
        "variant": st.sampled_from(["video", "thumbnail", "spritesheet", "x"]),
        "after": st.just("{id}"),
        "limit": st.integers(1, 100),
        "order": st.sampled_from(["asc", "desc"]),
    },
)


def _fill(value: Any, video_id: str) -> Any:
    if isinstance(value, str):
        return value.replace("{id}", video_id)
    if isinstance(value, dict):
        return {k: _fill(v, video_id) for k, v in value.items()}
    return value


def test_bob_never_touches_alice_videos(api: Api) -> None:
    finished = api.make()
    running = api.start_long()
    queued = api.create()
    targets = [finished["id"], running["id"], queued["id"]]
    before = {v: api.get(v) for v in targets}

    @settings(
        max_examples=150,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(
        route=st.sampled_from(ROUTES),
        target=st.sampled_from(targets),
        body=bodies,
        query=queries,
    )
    def probe(route: tuple[str, str], target: str, body: Any, query: dict[str, Any]) -> None:
        method, path = route
        response = api.client.request(
            method,
            path.replace("{id}", target),
            json=_fill(body, target),
            params=_fill(query, target),
            headers=api.auth("bob"),
        )
        if path == "/v1/videos":
            # bob's own (empty) listing, or a 4xx for a cursor he cannot use
            assert response.status_code in (200, 400, 404), response.text
            if response.status_code == 200:
                assert all(v["id"] not in targets for v in response.json()["data"])
            return
        assert 400 <= response.status_code < 500, (method, path, response.status_code)
        assert response.status_code != 403  # no hint that the video exists
        for video_id in targets:
            assert video_id not in response.text or response.status_code == 404, response.text
        text = response.text
        assert before[target]["prompt"] not in text or not before[target]["prompt"]

    probe()
    for video_id, was in before.items():
        now = api.get(video_id)
        assert now["id"] == was["id"]
        assert now["prompt"] == was["prompt"]
        assert now["status"] != "failed" or was["status"] == "failed"
