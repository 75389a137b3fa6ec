"""Bad input never produces a 5xx: fuzzing a real ``openreel serve`` process.

Two fuzzers share one live server. Schemathesis reads the served OpenAPI document and sends
every operation schema-shaped (positive) and schema-breaking (negative) requests; hand-written
Hypothesis strategies send the create, remix and extend endpoints JSON objects and multipart
forms made of random keys and values of every JSON type (unicode with lone surrogates, huge
numbers, NaN, nesting), and the list endpoint random query strings. Every answer must be
below 500, every 4xx must carry the ``{"error": {...}}`` envelope, and after each test the
server must still answer ``/healthz`` and its log must hold no traceback written meanwhile.

Random input is sometimes valid (a 60-second 4K video is a legal request). Every video the
fuzz creates is deleted at once, which cancels its render, and after each test whatever is
still queued or rendering is cancelled in the database, so the workers never fall behind.
Runs are derandomized, so CI sends the same inputs every time; a sweep of hand-picked edge
values backs up the random search.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.core.result import Ok

from openreel.errors import ConflictError, NotFoundError
from openreel.storage.db import Database
from openreel.storage.jobs import JobStore

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveServer, ServerLauncher

pytestmark = pytest.mark.slow


def _fuzz(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


@pytest.fixture(scope="module")
def client(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=live_server.url,
        headers={"Authorization": f"Bearer {live_server.tokens['alice']}"},
        timeout=30,
    ) as http:
        yield http


@pytest.fixture(scope="module")
def completed_video(client: httpx.Client) -> str:
    """A small finished video, so remix, extend and content reach past the 404."""
    response = client.post(
        "/v1/videos", json={"prompt": "a boat at sea", "size": "160x96", "seconds": 1}
    )
    assert response.status_code == 200, response.text
    video_id: str = response.json()["id"]
    for _ in range(600):
        video = client.get(f"/v1/videos/{video_id}").json()
        if video["status"] == "completed":
            return video_id
        assert video["status"] in ("queued", "in_progress"), video
        time.sleep(0.05)
    pytest.fail(f"the seed video never completed: {video}")


@pytest.fixture
def still_healthy(live_server: LiveServer) -> Iterator[Callable[[], None]]:
    """A check to call once a fuzz run is over: ``/healthz`` answers, no traceback logged since.

    At teardown every video still queued or rendering is cancelled in the database (one whose
    create answered 500 cannot be deleted over HTTP), so no leftover render slows the next
    test down.
    """
    start = live_server.log.stat().st_size

    def check() -> None:
        assert httpx.get(live_server.url + "/healthz", timeout=10).status_code == 200
        with live_server.log.open("rb") as handle:
            handle.seek(start)
            written = handle.read().decode(errors="replace")
        at = written.find("Traceback")
        assert at < 0, "the server logged a traceback:\n" + written[max(0, at - 200) : at + 3000]

    yield check
    _cancel_unfinished(live_server.data_dir)


def _cancel_unfinished(data_dir: Path) -> None:
    db = Database.for_data_dir(data_dir)
    try:
        store = JobStore(db)
        store.cancel_queued()
        after = None
        while True:
            page = store.list(None, after=after, limit=100)
            for job in page.items:
                if not job.status.is_final:
                    with contextlib.suppress(ConflictError, NotFoundError):
                        store.request_cancel(job.id)
            if not page.has_more:
                return
            after = page.last_id
    finally:
        db.dispose()


def _check(response_status: int, body: bytes, what: str) -> Any:
    """Asserts the status is below 500 and a 4xx is our error envelope; returns the JSON."""
    assert response_status < 500, f"{what} -> {response_status}: {body[:2000]!r}"
    try:
        data = json.loads(body) if body else None
    except ValueError:
        data = None
    if 400 <= response_status < 500:
        assert isinstance(data, dict), f"{what} -> {response_status} without JSON: {body[:500]!r}"
        error = data.get("error")
        assert isinstance(error, dict), f"{what} -> {response_status}: {data}"
        assert isinstance(error.get("message"), str), data
        assert error["message"], data
        assert isinstance(error.get("type"), str), data
    return data


def _discard(client: httpx.Client, data: Any) -> None:
    """Deletes a video the fuzz created (cancelling its render)."""
    if (
        isinstance(data, dict)
        and data.get("object") == "video"
        and data.get("status") in ("queued", "in_progress")
    ):
        response = client.delete(f"/v1/videos/{data['id']}")
        _check(response.status_code, response.content, f"DELETE the new video {data['id']}")


# ---- schemathesis over the served OpenAPI document ----------------------------------------
#
# The schema is loaded from the live server inside the test and each operation is driven
# through ``APIOperation.as_strategy`` with ``@given``: schemathesis' lazy pytest loader
# (``schemathesis.pytest.from_fixture``) reads ``Node._nodeid``, which pytest 9.2 removed.


def test_openapi_operations_never_answer_5xx(
    live_server: LiveServer,
    client: httpx.Client,
    completed_video: str,
    still_healthy: Callable[[], None],
    subtests: pytest.Subtests,
) -> None:
    schema = schemathesis.openapi.from_url(live_server.url + "/openapi.json")
    auth = {"Authorization": f"Bearer {live_server.tokens['alice']}"}
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"the served OpenAPI document is broken: {result.err()}"
        operations.append(result.ok())
    labels = {operation.label for operation in operations}
    assert {"POST /v1/videos", "GET /v1/videos", "POST /v1/videos/extensions"} <= labels, labels

    outcomes: Counter[tuple[str, int]] = Counter()

    def send(case: Case[Any]) -> None:
        response = case.call(headers=auth, timeout=30)
        outcomes[case.operation.label, response.status_code // 100] += 1
        what = f"{case.method} {case.formatted_path} {case.body!r:.300}"
        _discard(client, _check(response.status_code, response.content, what))

    def aim_at_real_video(case: Case[Any]) -> Case[Any]:
        if isinstance(case.body, dict):
            case.body = {**case.body, "video": {"id": completed_video}}
        return case

    for operation in operations:
        raw = operation.definition.raw
        breakable = "requestBody" in raw or any(
            parameter["in"] == "query" for parameter in raw.get("parameters", [])
        )
        for mode in GenerationMode:
            strategies = [operation.as_strategy(generation_mode=mode)]
            # Random ids stop at the 404; also aim at a real, finished video so remix, extend,
            # content and events see real inputs (never DELETE it: the video is shared).
            if "{video_id}" in operation.path and operation.method.upper() != "DELETE":
                strategies.append(
                    operation.as_strategy(
                        generation_mode=mode, path_parameters={"video_id": completed_video}
                    )
                )
            if operation.label == "POST /v1/videos/extensions":
                strategies.append(strategies[0].map(aim_at_real_video))
            for n, strategy in enumerate(strategies):
                with subtests.test(msg=f"{operation.label} {mode.value} #{n}"):
                    try:
                        _fuzz(25)(given(case=strategy)(send))()
                    except Unsatisfiable:
                        # A bare path id or no input at all: there is nothing that breaks
                        # the schema, so schemathesis has no negative case to send.
                        assert mode is GenerationMode.NEGATIVE, operation.label
                        assert not breakable, operation.label
    still_healthy()

    # The fuzz reached the handlers: some creates were accepted and some refused.
    assert outcomes["POST /v1/videos", 2] > 0, outcomes
    assert outcomes["POST /v1/videos", 4] > 0, outcomes
    assert outcomes["POST /v1/videos/{video_id}/remix", 2] > 0, outcomes


# ---- hand-written: random JSON, forms and query strings -------------------------------------

_CREATE_FIELDS = ("prompt", "model", "seconds", "size", "fps", "seed", "negative_prompt")
_KEYS = (*_CREATE_FIELDS, "input_reference", "video", "id", "image_url", "file_id")
_FORM_KEYS = (*_KEYS, "input_reference[image_url]", "input_reference[file_id]", "video[id]")
_NO_VIDEO = "video_" + "0" * 32

# Pieces of text that break naive code: lone surrogates (JSON carries them as \ud800
# escapes), NUL, a bidi override, a BOM, a combining mark, an astral emoji, a newline.
_TRICKY = ["\ud800", "\udfff", "\x00", "\u202e", "\ufeff", "e\u0301", "🎬", "\n"]
_any_text = st.lists(
    st.one_of(st.characters(exclude_categories=()), st.sampled_from(_TRICKY)), max_size=30
).map("".join)
_form_text = st.text(max_size=30)  # what a form can carry: text that encodes as UTF-8
_numbers = st.one_of(
    st.integers(),
    st.sampled_from([0, -1, 1, 2**63, 2**64, 10**300, 1e308, -1e308, 1e-300, 5e-324, -0.0]),
    st.floats(),  # NaN and infinities included; json.dumps writes them as NaN/Infinity
)
_json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), _numbers, _any_text),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(_KEYS), _any_text), children, max_size=4),
    ),
    max_leaves=10,
)
# Values at and around each field's limits, valid ones included, so that many requests get
# past the first check and reach the deeper ones (and some reach the queue).
_EDGES: dict[str, list[Any]] = {
    "prompt": ["a boat at sea", "", "   ", "x" * 4001, "\ud800 a boat", "a boat \udfff", "\x00"],
    "model": ["openreel-sketch", "sora-2", "", "OPENREEL-SKETCH", "\ud800"],
    "seconds": [1, "1", 0.5, "0.04", 60, 61, "60", 1e308, "1e308", 1e-300, 0, -1, "NaN", True],
    "size": [
        "160x96",
        "64x64",
        "3840x2160",
        "161x96",
        "0x0",
        "１６０x９６",
        "160×96",
        " 160 x 96 ",
    ],
    "fps": [1, 24, 60, 61, 0, "24", 24.0, 24.5, 1e300, -1, "٢٤"],
    "seed": [0, 7, 2**32 - 1, 2**32, 2**63, -1, "7", 1.5, 1e300],
    "negative_prompt": ["rain", "\udfff", "x" * 4001, ""],
    "input_reference": [
        {"image_url": "data:image/png;base64,AAAA"},
        {"image_url": "data:image/png;base64,!!"},
        {"image_url": "https://example.com/a.png"},
        {"file_id": "file-" + "0" * 32},
        {"file_id": 5},
        {"image_url": "data:,", "file_id": "x"},
        "x",
        {},
    ],
    "video": [{"id": _NO_VIDEO}, {"id": 5}, {"id": ""}, {}, "video_x", None],
}


def _utf8(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _field(name: str) -> st.SearchStrategy[Any]:
    edges = st.sampled_from(_EDGES.get(name, [None]))
    return st.one_of(edges, edges, _json_values)


@st.composite
def _near_creates(draw: st.DrawFn) -> dict[str, Any]:
    """A prompt (usually a fine one) plus one to three other fields: an edge value or random JSON."""
    body = {"prompt": draw(st.one_of(st.just("a boat at sea"), _field("prompt")))}
    others = [*_CREATE_FIELDS[1:], "input_reference"]
    for name in draw(st.lists(st.sampled_from(others), min_size=1, max_size=3, unique=True)):
        body[name] = draw(_field(name))
    return body


_json_bodies = st.one_of(
    _near_creates(),
    _near_creates(),
    st.dictionaries(st.one_of(st.sampled_from(_KEYS), _any_text), _json_values, max_size=6),
    _json_values,  # not an object at all
)
_forms = st.lists(
    st.tuples(
        st.one_of(st.sampled_from(_FORM_KEYS), _form_text),
        st.one_of(
            st.sampled_from(
                [str(v) for values in _EDGES.values() for v in values if _utf8(str(v))]
            ),
            _form_text,
        ),
    ),
    max_size=6,
)
_files = st.lists(
    st.tuples(
        st.sampled_from(["input_reference", "file", "prompt", "video[id]"]),
        st.binary(max_size=64),
        st.sampled_from(["image/png", "image/jpeg", "application/octet-stream", "text/plain"]),
    ),
    max_size=2,
)


@pytest.fixture
def fuzzer(
    live_server: LiveServer, server_launcher: ServerLauncher, request: pytest.FixtureRequest
) -> Iterator[httpx.Client]:
    """A user of its own per test, so a row one fuzz manages to break spoils no other test."""
    token = server_launcher.mint(live_server.data_dir, request.node.name[:100])
    with httpx.Client(
        base_url=live_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as http:
        yield http


def _post_json(client: httpx.Client, path: str, payload: Any) -> httpx.Response:
    # Serialized here, not by httpx: ensure_ascii keeps lone surrogates as \u escapes, and
    # NaN/Infinity go out as the tokens Python's own JSON parser accepts.
    content = json.dumps(payload).encode()
    return client.post(path, content=content, headers={"Content-Type": "application/json"})


def _post_form(
    client: httpx.Client, path: str, fields: list[tuple[str, str]], files: list[Any]
) -> httpx.Response:
    parts = [(name, ("f.bin", data, media_type)) for name, data, media_type in files]
    grouped: dict[str, list[str]] = {}
    for name, value in fields:  # repeated names go out as repeated parts
        grouped.setdefault(name, []).append(value)
    return client.post(path, data=grouped, files=parts)


def test_fuzz_create_json_bodies_never_answer_5xx(
    fuzzer: httpx.Client, still_healthy: Callable[[], None]
) -> None:
    outcomes: Counter[int] = Counter()

    @_fuzz(200)
    @given(body=_json_bodies)
    def send(body: Any) -> None:
        response = _post_json(fuzzer, "/v1/videos", body)
        outcomes[response.status_code] += 1
        data = _check(response.status_code, response.content, f"POST /v1/videos {body!r:.300}")
        _discard(fuzzer, data)

    send()
    still_healthy()
    assert outcomes[200] > 0, outcomes  # some were valid (and were deleted at once)
    assert outcomes[400] > 0, outcomes


def test_fuzz_create_edge_values_never_answer_5xx(
    fuzzer: httpx.Client, still_healthy: Callable[[], None]
) -> None:
    # Random search may miss a single bad value; this sweep sends each one, alone, in an
    # otherwise valid request, so every edge is tried on every run.
    failures = []
    for name, values in _EDGES.items():
        for value in values:
            body = {"prompt": "a boat at sea", "size": "160x96", "seconds": 1, name: value}
            response = _post_json(fuzzer, "/v1/videos", body)
            try:
                _discard(fuzzer, _check(response.status_code, response.content, f"{body!r:.200}"))
            except AssertionError as exc:
                failures.append(str(exc).splitlines()[0])
    assert failures == [], "\n".join(failures)
    still_healthy()


def test_fuzz_create_forms_never_answer_5xx(
    fuzzer: httpx.Client, still_healthy: Callable[[], None]
) -> None:
    outcomes: Counter[int] = Counter()

    @_fuzz(100)
    @given(fields=_forms, files=_files, prompt=st.booleans())
    def send(fields: list[tuple[str, str]], files: list[Any], prompt: bool) -> None:
        if prompt:
            fields = [("prompt", "a boat at sea"), *fields]
        response = _post_form(fuzzer, "/v1/videos", fields, files)
        outcomes[response.status_code] += 1
        what = f"POST /v1/videos form {fields!r:.300} files {files!r:.200}"
        _discard(fuzzer, _check(response.status_code, response.content, what))

    send()
    still_healthy()
    assert outcomes[200] > 0, outcomes
    assert outcomes[400] > 0, outcomes


def test_fuzz_remix_and_extend_never_answer_5xx(
    fuzzer: httpx.Client, completed_video: str, still_healthy: Callable[[], None]
) -> None:
    made = fuzzer.post("/v1/videos", json={"prompt": "a castle", "size": "160x96", "seconds": 1})
    assert made.status_code == 200, made.text
    source = made.json()["id"]
    for _ in range(600):
        if fuzzer.get(f"/v1/videos/{source}").json()["status"] == "completed":
            break
        time.sleep(0.05)
    # Our own finished video, someone else's (a 404 for us), and one that does not exist.
    targets = st.sampled_from([source, source, completed_video, _NO_VIDEO])
    outcomes: Counter[int] = Counter()

    @_fuzz(120)
    @given(
        target=targets,
        extend=st.booleans(),
        body=st.one_of(_json_bodies, st.tuples(_forms, _files)),
    )
    def send(target: str, extend: bool, body: Any) -> None:
        path = "/v1/videos/extensions" if extend else f"/v1/videos/{target}/remix"
        if extend and isinstance(body, dict):
            body = {**body, "video": {"id": target}}
        if isinstance(body, tuple):
            fields, files = body
            if extend:
                fields = [("video[id]", target), *fields]
            response = _post_form(fuzzer, path, fields, files)
        else:
            response = _post_json(fuzzer, path, body)
        outcomes[response.status_code] += 1
        what = f"POST {path} {body!r:.300}"
        _discard(fuzzer, _check(response.status_code, response.content, what))

    send()
    still_healthy()
    assert outcomes[200] > 0, outcomes
    assert outcomes[404] > 0, outcomes


def test_fuzz_list_query_strings_never_answer_5xx(
    fuzzer: httpx.Client, still_healthy: Callable[[], None]
) -> None:
    fuzzer.post("/v1/videos", json={"prompt": "a boat", "size": "160x96", "seconds": 1})
    pairs = st.lists(
        st.tuples(
            st.one_of(st.sampled_from(["after", "limit", "order"]), _form_text),
            st.one_of(
                st.sampled_from(["1", "100", "101", "0", "-1", "asc", "desc", "DESC", _NO_VIDEO]),
                _form_text,
                _numbers.map(str),
            ),
        ),
        max_size=5,
    )
    raw = st.text(st.sampled_from("abcdefACDE0189=&%+;/?#[]~-_.:'\"<>\\ éß"), max_size=60)
    outcomes: Counter[int] = Counter()

    @_fuzz(150)
    @given(query=st.one_of(pairs, raw))
    def send(query: list[tuple[str, str]] | str) -> None:
        if isinstance(query, str):
            response = fuzzer.get("/v1/videos?" + query)
        else:
            response = fuzzer.get("/v1/videos", params=tuple(query))
        outcomes[response.status_code] += 1
        _check(response.status_code, response.content, f"GET {response.request.url}")

    send()
    still_healthy()
    assert outcomes[200] > 0, outcomes
    assert outcomes[400] > 0, outcomes


def test_fuzz_delete_while_starting_or_rendering_never_answers_5xx(
    fuzzer: httpx.Client, live_server: LiveServer, still_healthy: Callable[[], None]
) -> None:
    # Timing fuzz: delete videos at every moment of their start (claim, folder made, encoder
    # opening its partial file) and of their render, racing the worker for the job folder.
    deleted = []
    for n in range(40):
        size = "160x96" if n % 2 else "640x360"
        made = fuzzer.post("/v1/videos", json={"prompt": "a boat", "size": size, "seconds": 2})
        assert made.status_code == 200, made.text
        time.sleep((n % 8) * 0.01)
        gone = fuzzer.delete(f"/v1/videos/{made.json()['id']}")
        _check(gone.status_code, gone.content, f"DELETE after {(n % 8) * 10} ms")
        assert gone.status_code == 200, gone.text
        deleted.append(made.json()["id"])
    time.sleep(1.0)  # let the workers notice and stop
    still_healthy()
    jobs = live_server.data_dir / "artifacts" / "jobs"
    left = {
        video_id: sorted(p.name for p in (jobs / video_id).iterdir())
        for video_id in deleted
        if (jobs / video_id).exists()
    }
    assert left == {}, f"folders of deleted videos remain (with these files): {left}"
