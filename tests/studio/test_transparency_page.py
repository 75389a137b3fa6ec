"""The public transparency page in Debian's chromium, signed out, over a seeded history.

The server (``studio_server``, this module's own) keeps the default threshold of 5: the history
has five of some things (shown as numbers) and one of others (shown as "fewer than 5"). The page
must show the same figures as the JSON, and nothing that names a person, a token, an address
or a prompt.
"""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
from tests.studio.conftest import TINY, Studio, StudioServer

PROMPT = "a clockmaker called quillon winding a brass owl"
SEXUAL = "a naked woman in a sexual scene"
FIGURE = "Barack Obama giving a speech in a park"


def _seed(server: StudioServer) -> list[str]:
    """Five videos, five refusals of one category and one of another, one token revoked by
    hand; returns everything that must never appear on the page."""
    server.issue("quintus")
    made = [
        server.call("quintus", "POST", "/v1/videos", json={"prompt": PROMPT, **TINY})["id"]
        for _ in range(5)
    ]
    deadline = time.monotonic() + 120
    for video_id in made:
        while server.call("quintus", "GET", f"/v1/videos/{video_id}")["status"] != "completed":
            assert time.monotonic() < deadline, f"{video_id} never completed"
            time.sleep(0.1)
    headers = {"Authorization": f"Bearer {server.tokens['quintus']}"}
    for prompt in [SEXUAL] * 5 + [FIGURE]:
        refused = httpx.post(
            server.url + "/v1/videos", json={"prompt": prompt, **TINY}, headers=headers, timeout=30
        )
        assert refused.status_code == 400, refused.text
    doomed = server.call("root", "POST", "/v1/admin/tokens", json={"name": "septima"})
    server.call("root", "POST", f"/v1/admin/tokens/{doomed['id']}/revoke")
    return [
        PROMPT,
        "quillon",
        SEXUAL,
        "Obama",
        "quintus",
        "septima",
        doomed["token"],
        doomed["id"],
        *server.tokens.values(),
        *made,
        "127.0.0.1",
        "usr_",
        "tok_",
    ]


def _figure(studio: Studio, name: str) -> str:
    return studio.page.inner_text(f'[data-figure="{name}"]')


def _shown(count: Any) -> str:
    return f"fewer than {count['fewer_than']}" if isinstance(count, dict) else f"{count:,}"


def test_transparency_page_signed_out_matches_the_seeded_history(
    studio: Studio, studio_server: StudioServer
) -> None:
    secrets = _seed(studio_server)
    page = studio.page
    page.goto(studio_server.url + "/transparency")
    page.wait_for_selector("#report:not([hidden])")
    assert page.context.cookies() == []  # nobody signed in, nothing set
    report = httpx.get(studio_server.url + "/v1/transparency", timeout=30).json()

    # The figures of the seeded history, as the JSON has them and as the page shows them.
    assert report["videos"]["completed"] == 5
    assert _figure(studio, "videos.completed") == "5"
    assert _figure(studio, "videos.refused") == "6"
    assert _figure(studio, "seconds_made") == "5"
    by_category = {r["category"]: r["count"] for r in report["refusals"]["by_category"]}
    # One category hidden: the other is withheld with it (the total less it would show it).
    assert by_category == {"sexual": None, "public_figure": {"fewer_than": 5}}
    assert _figure(studio, "category.sexual.1") == "hidden"
    assert _figure(studio, "category.public_figure.1") == "fewer than 5"
    assert _figure(studio, "tokens_revoked.by_hand") == "fewer than 5"
    assert _figure(studio, "made.openreel-sketch.2") == "5"
    for action, count in report["videos"].items():
        assert _figure(studio, f"videos.{action}") == _shown(count)
    assert page.inner_text("#threshold") == "5"

    # The model cards, the policy and the certificate.
    card = page.inner_text('[data-model="openreel-sketch"]')
    assert "procedural" in card
    assert "OpenReel" in card
    assert "Sexual content and nudity are not generated on this server." in page.inner_text(
        "#categories"
    )
    fingerprint = report["policy"]["provenance"]["certificate"]["sha256"]
    assert fingerprint in page.inner_text("#fingerprint")
    pem = httpx.get(studio_server.url + page.get_attribute("#certificate-link", "href"), timeout=30)
    assert pem.status_code == 200
    assert pem.text.startswith("-----BEGIN CERTIFICATE-----")
    head = report["policy"]["audit"]["head"]["row_hash"]
    assert head in page.inner_text("#audit-head")

    # The export link covers the period shown.
    exported = httpx.get(studio_server.url + page.get_attribute("#csv", "href"), timeout=30)
    assert exported.status_code == 200
    assert "videos,completed,,5" in exported.text
    assert "public_figure,,fewer than 5" in exported.text

    # Nothing personal anywhere on the page (its text and its markup).
    html = page.content()
    for secret in secrets:
        assert secret not in html, secret
    assert not re.search(r"\b\d{1,3}(\.\d{1,3}){3}\b", page.inner_text("body"))
    studio.shot("transparency")

    # Another period: the form asks again and the figures follow.
    page.fill("#since", "2020-01-01")
    page.fill("#until", "2020-01-31")
    page.click("#period-form button[type=submit]")
    page.wait_for_function(
        "() => document.querySelector('[data-figure=\"videos.completed\"]').textContent === '0'"
    )
    assert "2020-01-01" in page.inner_text("#period-text")
