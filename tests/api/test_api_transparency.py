"""The public transparency report over HTTP: figures from a history made through the API, small
counts hidden, nothing personal anywhere, the export, the certificate, off means 404.

Every test runs on SQLite and PostgreSQL (the ``make_api`` fixture), since the figures are SQL
aggregates over JSON in the audit log.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from openreel.config import TransparencyConfig
from openreel.media.c2pa import verify_mp4

from .conftest import TINY, Api

SECRET_PROMPT = "a lighthouse keeper named zorblax feeding seven herons"
SEXUAL = "a naked woman in a sexual scene"
FIGURE = "Barack Obama giving a speech in a park"
PRIVATE_REASON = "complaint about these videos"
PUBLIC_REASON = "sketch engine maintenance window"
ARTISTS = ("Ada Brushwick", "Bela Inkwell", "Cyra Palette")


def _report(api: Api, **params: Any) -> dict[str, Any]:
    response = api.client.get("/v1/transparency", params=params)  # no Authorization header
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    assert report["object"] == "transparency.report"
    return report


def _csv(api: Api, **params: Any) -> tuple[str, dict[tuple[str, str, str], str]]:
    response = api.client.get("/v1/transparency.csv", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["section", "name", "detail", "value"]
    return response.text, {(s, n, d): v for s, n, d, v in rows[1:]}


def _seed(api: Api) -> dict[str, Any]:
    """A history touching every figure; returns what a leak would show (names, tokens...)."""
    root = api.auth("root")
    made = [api.make("alice", prompt=SECRET_PROMPT)["id"] for _ in range(3)]
    made.append(api.make("bob")["id"])
    for _ in range(3):
        refused = api.client.post("/v1/videos", json={"prompt": SEXUAL, **TINY}, headers=api.auth())
        assert refused.status_code == 400, refused.text
    refused = api.client.post(
        "/v1/videos", json={"prompt": FIGURE, **TINY}, headers=api.auth("bob")
    )
    assert refused.status_code == 400, refused.text
    # One token revoked by hand, three suspended by the abuse monitor.
    issued = []
    for name in ("carol", "dave", "erin", "fred"):
        response = api.client.post("/v1/admin/tokens", json={"name": name}, headers=root)
        assert response.status_code == 200, response.text
        issued.append(response.json())
    revoked = api.client.post(f"/v1/admin/tokens/{issued[0]['id']}/revoke", headers=root)
    assert revoked.status_code == 200, revoked.text
    for token in issued[1:]:
        api.server.services.abuse.suspend(token["id"], "used from 40 addresses in 10 minutes")
    # A public pause (of a model) and a private one (of a person), both lifted again.
    bob = api.principals["bob"]
    for body in (
        {"scope": "model", "target": "openreel-sketch", "reason": PUBLIC_REASON},
        {"scope": "principal", "target": bob.name, "reason": PRIVATE_REASON},
    ):
        assert api.client.post("/v1/admin/pauses", json=body, headers=root).status_code == 200
        resume = {k: v for k, v in body.items() if k != "reason"}
        assert (
            api.client.post("/v1/admin/pauses/resume", json=resume, headers=root).status_code == 200
        )
    for artist in ARTISTS:
        added = api.client.post("/v1/admin/artists", json={"name": artist}, headers=root)
        assert added.status_code == 200, added.text
    # One provenance lookup of a video made here.
    lookup = api.client.post(
        "/v1/provenance/lookup",
        files={"file": ("v.mp4", api.content(made[0]), "video/mp4")},
        headers=api.auth("bob"),
    )
    assert lookup.status_code == 200, lookup.text
    return {
        "made": made,
        "secrets": [
            SECRET_PROMPT,
            "zorblax",
            SEXUAL,
            FIGURE,
            "Obama",
            PRIVATE_REASON,
            *ARTISTS,
            *(p.id for p in api.principals.values()),
            *api.tokens.values(),
            *(t["token"] for t in issued),
            *(t["id"] for t in issued),
            *made,
            "testclient",
            "127.0.0.1",
        ],
        # People's names, as whole words ("root", the admin's, is also a word of "root CA").
        "names": ["alice", "bob", "carol", "dave", "erin", "fred"],
    }


def test_report_counts_a_seeded_history_and_hides_small_counts(
    make_api: Callable[..., Api],
) -> None:
    api = make_api(transparency=TransparencyConfig(threshold=3))
    seeded = _seed(api)
    report = _report(api)

    assert report["threshold"] == 3
    assert report["videos"] == {
        "admitted": 4,
        "completed": 4,
        "failed": 0,
        "cancelled": 0,
        "refused": 4,
    }
    assert report["seconds_made"] == 4.0
    assert report["made"] == [
        {"model": "openreel-sketch", "backend": "sketch", "videos": 4, "seconds": 4.0}
    ]
    assert report["refusals"]["by_check"] == [{"check": "moderation_blocked", "count": 4}]
    # 4 refused, one category hidden: the other is withheld too, or 4 - 3 would give it away.
    assert report["refusals"]["by_category"] == [
        {"category": "sexual", "count": None},
        {"category": "public_figure", "count": {"fewer_than": 3}},
    ]
    assert report["refusals"]["by_moderation_check"] == [
        {"check": "rules", "count": None},
        {"check": "public_figures", "count": {"fewer_than": 3}},
    ]
    assert report["artists_opted_out"] == 3
    assert report["tokens_revoked"] == {
        "automatic": 3,
        "by_hand": {"fewer_than": 3},
        "rotated": 0,
    }
    public = report["pauses"]["public"]
    assert [(p["scope"], p["model"], p["reason"]) for p in public] == [
        ("model", "openreel-sketch", PUBLIC_REASON)
    ]
    assert report["pauses"]["of_one_person_or_token"] == {"fewer_than": 3}
    assert report["provenance_lookups"]["lookups"] == {"fewer_than": 3}
    assert report["provenance_lookups"]["made_here"] == {"fewer_than": 3}

    # Nothing personal anywhere: not in the JSON as served, not in the export.
    served = api.client.get("/v1/transparency").text
    exported, _ = _csv(api)
    for secret in seeded["secrets"]:
        assert secret not in served, secret
        assert secret not in exported, secret
    for name in seeded["names"]:
        assert not re.search(rf"\b{name}\b", served, re.IGNORECASE), name
        assert not re.search(rf"\b{name}\b", exported, re.IGNORECASE), name


def test_a_higher_threshold_hides_what_a_lower_one_shows(make_api: Callable[..., Api]) -> None:
    api = make_api(transparency=TransparencyConfig(threshold=5))
    for _ in range(4):
        api.make()
    report = _report(api)
    assert report["videos"]["completed"] == {"fewer_than": 5}
    assert report["seconds_made"] is None
    assert report["made"] == [
        {
            "model": "openreel-sketch",
            "backend": "sketch",
            "videos": {"fewer_than": 5},
            "seconds": None,
        }
    ]
    api.make()
    report = _report(api, until=str(int(time.time()) + 1))  # a new period: not the cached one
    assert report["videos"]["completed"] == 5
    assert report["made"][0]["seconds"] == 5.0


def test_csv_export_has_the_same_figures(make_api: Callable[..., Api]) -> None:
    api = make_api(transparency=TransparencyConfig(threshold=3))
    _seed(api)
    report = _report(api)
    _, cells = _csv(api)
    assert cells[("period", "since", "")] == report["period"]["since"]
    assert cells[("videos", "completed", "")] == "4"
    assert cells[("videos", "seconds_made", "")] == "4.0"
    assert cells[("made", "openreel-sketch (sketch)", "videos")] == "4"
    assert cells[("refusals by category", "sexual", "")] == ""  # withheld
    assert cells[("refusals by category", "public_figure", "")] == "fewer than 3"
    assert cells[("tokens_revoked", "automatic", "")] == "3"
    assert cells[("tokens_revoked", "by_hand", "")] == "fewer than 3"
    assert cells[("artists", "opted_out", "")] == "3"
    pause = [v for (s, n, _), v in cells.items() if s == "pauses" and n.startswith("model")]
    assert pause == [PUBLIC_REASON]
    same = api.client.get("/v1/transparency", params={"format": "csv"})
    assert same.status_code == 200
    assert same.headers["content-type"].startswith("text/csv")


def test_period_selection_and_its_errors(make_api: Callable[..., Api]) -> None:
    api = make_api(transparency=TransparencyConfig(threshold=1, max_days=400))
    api.make()
    assert _report(api, days="1")["videos"]["completed"] == 1
    old = _report(api, since="2020-01-01", until="2020-12-31")
    assert old["videos"]["completed"] == 0
    assert old["period"] == {
        "since": "2020-01-01T00:00:00Z",
        "until": "2021-01-01T00:00:00Z",
        "days": 366.0,
    }
    now = int(time.time())
    assert _report(api, since=str(now - 3600), until=str(now + 60))["videos"]["completed"] == 1
    for params, param in (
        ({"since": "last tuesday"}, "since"),
        ({"until": "2026-13-45"}, "until"),
        ({"days": "0"}, "days"),
        ({"days": "many"}, "days"),
        ({"days": "2", "since": "2026-01-01"}, "days"),
        ({"since": "2026-02-01", "until": "2026-01-01"}, "until"),
        ({"since": "2020-01-01", "until": "2026-01-01"}, "since"),
        ({"format": "xml"}, "format"),
    ):
        error = api.error(api.client.get("/v1/transparency", params=params), 400, param=param)
        assert repr(params[param]) in error["message"], error


def test_turned_off_every_transparency_route_is_a_404(make_api: Callable[..., Api]) -> None:
    api = make_api(transparency=TransparencyConfig(enabled=False))
    for path in (
        "/v1/transparency",
        "/v1/transparency.csv",
        "/v1/transparency/certificate.pem",
        "/transparency",
        "/studio/transparency.js",
        "/studio/transparency.html",
    ):
        api.error(api.client.get(path), 404)
    assert api.client.get("/studio/app.js").status_code == 200  # the studio itself stays


def test_the_page_is_served_without_sign_in(api: Api) -> None:
    page = api.client.get("/transparency")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert '<script type="module" src="/studio/transparency.js">' in page.text
    assert api.client.get("/studio/transparency.js").status_code == 200


def test_certificate_is_downloadable_and_checks_a_video_offline(api: Api, tmp_path: Path) -> None:
    video = api.make()
    report = _report(api)
    response = api.client.get("/v1/transparency/certificate.pem")
    assert response.status_code == 200
    pem = response.content
    certificate = x509.load_pem_x509_certificate(pem)
    digest = certificate.fingerprint(hashes.SHA256())
    published = report["policy"]["provenance"]["certificate"]
    assert published["sha256"] == ":".join(f"{b:02X}" for b in digest)
    assert certificate.public_bytes(serialization.Encoding.PEM) == pem
    # With only the downloaded certificate, a copy of the video checks out as Trusted.
    copy = tmp_path / "copy.mp4"
    copy.write_bytes(api.content(video["id"]))
    assert verify_mp4(copy, trust_anchors=[pem]).status == "Trusted"
    assert verify_mp4(copy, trust_anchors=[]).status != "Trusted"


def test_policy_in_force_is_published(make_api: Callable[..., Api]) -> None:
    api = make_api(prompts="hashed")
    policy = _report(api)["policy"]
    categories = {c["category"]: c["reason"] for c in policy["moderation"]["categories"]}
    assert categories["sexual"] == "Sexual content and nudity are not generated on this server."
    assert "public_figure" in categories
    assert "{name}" not in categories["public_figure"]
    assert "living_artist_style" in categories
    assert policy["prompts"]["retention"] == "hashed"
    assert policy["prompts"]["in_credentials"] == "sha256"


def test_audit_head_and_its_last_verification(api: Api) -> None:
    api.make()
    audit = _report(api)["policy"]["audit"]
    head = api.server.services.audit.head()
    assert head is not None
    assert audit["head"] == {"seq": head.seq, "row_hash": head.row_hash}
    assert audit["last_verified"] is None
    before = time.time()
    verdict = api.server.services.audit.verify()
    assert verdict.verification.ok
    audit = _report(api)["policy"]["audit"]
    verified = audit["last_verified"]
    assert verified["seq"] == head.seq
    assert verified["row_hash"] == head.row_hash
    at = dt.datetime.fromisoformat(verified["at"].replace("Z", "+00:00")).timestamp()
    assert before - 2 <= at <= time.time() + 2


def test_models_carry_their_card(api: Api) -> None:
    listed = api.client.get("/v1/models", headers=api.auth())
    assert listed.status_code == 200
    sketch = next(m for m in listed.json()["data"] if m["id"] == "openreel-sketch")
    one = api.client.get("/v1/models/openreel-sketch", headers=api.auth())
    assert one.status_code == 200
    assert one.json() == sketch
    card = sketch["card"]
    assert card["kind"] == "procedural"
    assert card["maker"] == "OpenReel"
    assert card["sound"] is True  # the engine's soundscape
    assert "makes sound" in card["limits"]
    assert card["training_data"].startswith("none")
    assert _report(api)["models"] == [sketch]
    error = api.error(
        api.client.get("/v1/models/no-such-model", headers=api.auth()), 404, param="model"
    )
    assert "no-such-model" in error["message"]
    api.error(api.client.get("/v1/models/openreel-sketch"), 401)


@pytest.mark.parametrize("route", ["lookup", "verify"])
def test_provenance_questions_are_audited_without_the_file(api: Api, route: str) -> None:
    video = api.make()
    response = api.client.post(
        f"/v1/provenance/{route}",
        files={"file": ("v.mp4", api.content(video["id"]), "video/mp4")},
        headers=api.auth("bob"),
    )
    assert response.status_code == 200, response.text
    rows = api.server.services.audit.list(action=f"provenance.{route}")
    assert len(rows) == 1
    assert rows[0].actor_id == api.principals["bob"].id
    assert rows[0].outcome == ("made_here" if route == "lookup" else "trusted")
    assert rows[0].detail is None


def test_csv_cells_a_spreadsheet_would_run_are_quoted(api: Api) -> None:
    reason = '=HYPERLINK("http://evil.test","update")'
    root = api.auth("root")
    assert (
        api.client.post(
            "/v1/admin/pauses", json={"scope": "all", "reason": reason}, headers=root
        ).status_code
        == 200
    )
    assert (
        api.client.post("/v1/admin/pauses/resume", json={"scope": "all"}, headers=root).status_code
        == 200
    )
    _, cells = _csv(api)
    assert [v for (s, n, _), v in cells.items() if (s, n) == ("pauses", "all")] == ["'" + reason]
    assert _report(api)["pauses"]["public"][0]["reason"] == reason  # the JSON keeps it as is
