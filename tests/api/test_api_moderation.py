"""Moderation over HTTP: refused prompts, what they cost (nothing) and leave (an audit row),
and the artists' opt-out registry, managed by admins and asked for by anyone.

A refusal is a 400 ``moderation_blocked`` naming ``prompt`` and, beyond the OpenAI envelope,
the policy ``category``; no job row, no quota charge, and an audit row that carries the
category and the check but never the prompt.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.api.conftest import ERROR_KEYS, TINY, Api

from openreel.config import ModerationConfig, QuotaConfig
from openreel.trust.moderation.examples import load_corpus

SEXUAL = "a naked woman in a sexual scene"
ORDINARY = "a small boat on a calm lake"
ARTIST = "Hayao Miyazaki"
ALIAS = "Ghibli"
ARTIST_STYLE = "living_artist_style"


# ----- helpers ---------------------------------------------------------------------------------


def _create(api: Api, prompt: str, who: str = "alice") -> Any:
    return api.client.post("/v1/videos", json={"prompt": prompt, **TINY}, headers=api.auth(who))


def _blocked(response: Any, category: str) -> dict[str, Any]:
    """Checks a moderation refusal: 400, the envelope plus ``category``; returns the error."""
    assert response.status_code == 400, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert error["type"] == "invalid_request_error", error
    assert error["code"] == "moderation_blocked", error
    assert error["param"] == "prompt", error
    assert isinstance(error["message"], str)
    assert "refused by moderation" in error["message"], error
    assert set(error) == ERROR_KEYS | {"category"}, error
    assert error["category"] == category, error
    return error


def _videos(api: Api, who: str = "alice") -> list[str]:
    response = api.client.get("/v1/videos", params={"limit": 100}, headers=api.auth(who))
    assert response.status_code == 200, response.text
    return [video["id"] for video in response.json()["data"]]


def _usage(api: Api, who: str = "alice") -> dict[str, Any]:
    response = api.client.get("/v1/usage", headers=api.auth(who))
    assert response.status_code == 200, response.text
    usage: dict[str, Any] = response.json()
    return usage


def _audit(api: Api, **params: Any) -> list[dict[str, Any]]:
    response = api.client.get(
        "/v1/admin/audit", params={"limit": 500, **params}, headers=api.auth("root")
    )
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["data"]
    return rows


def _add_artist(api: Api, **body: Any) -> dict[str, Any]:
    response = api.client.post("/v1/admin/artists", json=body, headers=api.auth("root"))
    assert response.status_code == 200, response.text
    entry: dict[str, Any] = response.json()
    return entry


def _patch_artist(api: Api, entry_id: str, **body: Any) -> dict[str, Any]:
    response = api.client.patch(
        f"/v1/admin/artists/{entry_id}", json=body, headers=api.auth("root")
    )
    assert response.status_code == 200, response.text
    entry: dict[str, Any] = response.json()
    return entry


def _artists(api: Api, **params: Any) -> list[dict[str, Any]]:
    response = api.client.get("/v1/admin/artists", params=params, headers=api.auth("root"))
    assert response.status_code == 200, response.text
    assert response.json()["object"] == "list"
    entries: list[dict[str, Any]] = response.json()["data"]
    return entries


# ----- refusals --------------------------------------------------------------------------------


def test_refused_prompt_creates_nothing_charges_nothing_and_is_audited(
    make_api: Callable[..., Api],
) -> None:
    api = make_api(quota=QuotaConfig(seconds=10, videos=0))
    made = api.make()
    before_videos = _videos(api)
    before_usage = _usage(api)
    assert before_usage["seconds_used"] == 1

    error = _blocked(_create(api, SEXUAL), "sexual")
    assert "(sexual)" in error["message"]
    assert "Sexual content and nudity are not generated" in error["message"]
    assert "[matched a policy rule]" in error["message"]  # the check that fired
    assert SEXUAL not in error["message"]

    assert _videos(api) == before_videos == [made["id"]]
    after_usage = _usage(api)
    assert after_usage["seconds_used"] == before_usage["seconds_used"]
    assert after_usage["seconds_left"] == before_usage["seconds_left"]
    assert after_usage["active_videos"] == before_usage["active_videos"] == 0
    jobs = api.data_dir / "artifacts" / "jobs"
    assert [p.name for p in jobs.iterdir()] == [made["id"]]

    [refused] = _audit(api, action="video.refused")
    assert refused["outcome"] == "denied:moderation_blocked"
    assert refused["actor_id"] == api.principals["alice"].id
    assert refused["token_id"] is not None
    assert refused["target_id"] is None
    assert refused["detail"]["category"] == "sexual"
    assert refused["detail"]["check"] == "rules"
    assert refused["detail"]["rule"].startswith("sexual#")  # which rule, by its id
    everything = str(_audit(api))
    assert "naked" not in everything
    assert SEXUAL not in everything
    assert api.client.get("/v1/admin/audit/verify", headers=api.auth("root")).json()["ok"]


def test_remix_with_a_refused_prompt_leaves_the_source_untouched(api: Api) -> None:
    source = api.make(prompt=ORDINARY)
    remix = api.client.post(
        f"/v1/videos/{source['id']}/remix", json={"prompt": SEXUAL}, headers=api.auth()
    )
    _blocked(remix, "sexual")
    assert _videos(api) == [source["id"]]
    assert api.get(source["id"]) == source
    assert api.content(source["id"])[4:8] == b"ftyp"
    [refused] = _audit(api, action="video.refused")
    assert refused["detail"]["category"] == "sexual"
    fine = api.client.post(
        f"/v1/videos/{source['id']}/remix",
        json={"prompt": "a small boat on a stormy lake"},
        headers=api.auth(),
    )
    assert fine.status_code == 200, fine.text
    assert fine.json()["remixed_from_video_id"] == source["id"]


def test_public_figure_is_refused_and_an_ordinary_prompt_is_not(api: Api) -> None:
    error = _blocked(_create(api, "Barack Obama giving a speech in a park"), "public_figure")
    assert "Barack Obama" in error["message"]
    _blocked(_create(api, "a video of OBAMA waving", "bob"), "public_figure")
    [audited, _] = _audit(api, action="video.refused")
    assert audited["detail"]["check"] == "public_figures"
    ok = _create(api, ORDINARY)
    assert ok.status_code == 200, ok.text
    assert ok.json()["status"] in ("queued", "in_progress")
    assert _create(api, "an Obama-style campaign poster of a cat").status_code == 200


# ----- the artists' registry -------------------------------------------------------------------


def test_admin_registers_an_artist_and_their_style_is_refused_until_allowed(api: Api) -> None:
    entry = _add_artist(api, name=ARTIST, aliases=[ALIAS], contact="studio@example.org")
    assert entry["id"].startswith("art_")
    assert entry["object"] == "artist_optout"
    assert (entry["name"], entry["aliases"]) == (ARTIST, [ALIAS])
    assert (entry["status"], entry["allow_style"]) == ("active", False)
    assert entry["created_by"] == api.principals["root"].id

    by_name = _blocked(_create(api, f"a forest spirit in the style of {ARTIST}"), ARTIST_STYLE)
    assert ARTIST in by_name["message"]
    assert "opt-out registry" in by_name["message"]
    by_alias = _blocked(_create(api, f"a {ALIAS}-like flying castle", "bob"), ARTIST_STYLE)
    assert ARTIST in by_alias["message"]  # the refusal names the artist, not the alias typed
    assert entry["id"] not in by_alias["message"]  # nor the registry entry
    assert _audit(api, action="video.refused")[0]["detail"]["check"] == "artists"
    documentary = _create(api, f"a documentary interview with {ARTIST} in his studio")
    assert documentary.status_code == 200, documentary.text  # naming is not asking for a style

    listed = _artists(api)
    assert [(e["id"], e["status"], e["contact"]) for e in listed] == [
        (entry["id"], "active", "studio@example.org")
    ]
    assert _artists(api, status="pending") == []
    one = api.client.get(f"/v1/admin/artists/{entry['id']}", headers=api.auth("root"))
    assert one.json() == listed[0]

    allowed = _patch_artist(api, entry["id"], allow_style=True)
    assert allowed["allow_style"] is True
    assert allowed["aliases"] == [ALIAS]  # absent fields stay as they were
    assert _create(api, f"a forest spirit in the style of {ARTIST}").status_code == 200
    _patch_artist(api, entry["id"], allow_style=False)
    _blocked(_create(api, f"a {ALIAS}-like flying castle"), ARTIST_STYLE)

    removed = api.client.delete(f"/v1/admin/artists/{entry['id']}", headers=api.auth("root"))
    assert removed.status_code == 200, removed.text
    assert removed.json() == {
        "id": entry["id"],
        "object": "artist_optout.deleted",
        "deleted": True,
    }
    assert _create(api, f"a {ALIAS}-like flying castle").status_code == 200
    assert _artists(api) == []
    api.error(
        api.client.get(f"/v1/admin/artists/{entry['id']}", headers=api.auth("root")),
        404,
    )
    again = api.client.delete(f"/v1/admin/artists/{entry['id']}", headers=api.auth("root"))
    assert again.json()["deleted"] is False


def test_artist_registry_is_for_admins_only(api: Api) -> None:
    entry = _add_artist(api, name=ARTIST)
    for who in ("alice", "bob"):
        headers = api.auth(who)
        api.error(api.client.get("/v1/admin/artists", headers=headers), 403)
        api.error(api.client.post("/v1/admin/artists", json={"name": "X"}, headers=headers), 403)
        url = f"/v1/admin/artists/{entry['id']}"
        api.error(api.client.get(url, headers=headers), 403)
        api.error(api.client.patch(url, json={"allow_style": True}, headers=headers), 403)
        api.error(api.client.delete(url, headers=headers), 403)
    api.error(api.client.get("/v1/admin/artists"), 401)
    assert [e["allow_style"] for e in _artists(api)] == [False]


def test_artist_registry_refuses_duplicates_and_bad_bodies(api: Api) -> None:
    root = api.auth("root")
    entry = _add_artist(api, name=ARTIST, aliases=[ALIAS])
    post = api.client.post
    duplicate = api.error(post("/v1/admin/artists", json={"name": ARTIST}, headers=root), 409)
    assert duplicate["param"] == "name"
    folded = post("/v1/admin/artists", json={"name": "  hayao MIYAZAKI "}, headers=root)
    api.error(folded, 409, param="name")

    empty = api.error(post("/v1/admin/artists", json={"name": ""}, headers=root), 400)
    assert empty["param"] == "name"
    assert empty["code"] == "invalid_value"
    many = {"name": "Someone Else", "aliases": [f"alias {i}" for i in range(21)]}
    assert "20" in api.error(post("/v1/admin/artists", json=many, headers=root), 400)["message"]
    unknown = {"name": "Someone Else", "favourite_colour": "blue"}
    api.error(post("/v1/admin/artists", json=unknown, headers=root), 400, param="favourite_colour")
    api.error(post("/v1/admin/artists", json={"aliases": []}, headers=root), 400, param="name")
    api.error(post("/v1/admin/artists", content=b"{not json", headers=root), 400)

    url = f"/v1/admin/artists/{entry['id']}"
    api.error(api.client.patch(url, json={"status": "gone"}, headers=root), 400, param="status")
    api.error(api.client.patch(url, json={"name": "New"}, headers=root), 400, param="name")
    missing = api.client.patch(
        "/v1/admin/artists/art_000000000000000000000000", json={"allow_style": True}, headers=root
    )
    api.error(missing, 404)
    assert [e["name"] for e in _artists(api)] == [ARTIST]  # nothing else got in


def test_artist_name_without_letters_is_refused(api: Api) -> None:
    # The store's rule is "must contain letters"; a name of punctuation alone compiles into a
    # style pattern with an empty name, which refuses ordinary prompts such as "a dog, like a
    # cat" for everyone.
    root = api.auth("root")
    for name in ("-", "!!!"):
        refused = api.client.post("/v1/admin/artists", json={"name": name}, headers=root)
        assert "letters" in api.error(refused, 400, param="name")["message"]
        requested = api.client.post("/v1/artists/optout", json={"name": name}, headers=api.auth())
        api.error(requested, 400, param="name")
    alias = api.client.post(
        "/v1/admin/artists", json={"name": "Someone Real", "aliases": ["-"]}, headers=root
    )
    api.error(alias, 400, param="aliases")
    assert _artists(api) == []
    assert _create(api, "a dog, like a cat, chasing a ball").status_code == 200


def test_optout_request_waits_for_approval(api: Api) -> None:
    filed = api.client.post(
        "/v1/artists/optout",
        json={"name": ARTIST, "aliases": [ALIAS], "contact": "studio@example.org"},
        headers=api.auth(),
    )
    assert filed.status_code == 200, filed.text
    receipt = filed.json()
    assert set(receipt) == {"id", "object", "status"}
    assert receipt["object"] == "artist_optout.request"
    assert receipt["status"] == "pending"
    entry_id = receipt["id"]

    prompt = f"a forest spirit in the style of {ARTIST}"
    assert _create(api, prompt).status_code == 200  # not enforced while pending
    [pending] = _artists(api, status="pending")
    assert pending["id"] == entry_id
    assert pending["source"] == "request"
    assert pending["contact"] == "studio@example.org"
    assert pending["created_by"] == api.principals["alice"].id
    assert _artists(api, status="active") == []

    approved = _patch_artist(api, entry_id, status="active")
    assert approved["status"] == "active"
    _blocked(_create(api, prompt), ARTIST_STYLE)
    _blocked(_create(api, f"a {ALIAS}-esque valley", "bob"), ARTIST_STYLE)

    for who in ("alice", "bob"):
        again = api.client.post(
            "/v1/artists/optout", json={"name": ARTIST.upper()}, headers=api.auth(who)
        )
        conflict = api.error(again, 409, param="name")
        assert entry_id not in conflict["message"]
        assert entry_id not in again.text
    api.error(
        api.client.post("/v1/artists/optout", json={"name": ""}, headers=api.auth()),
        400,
        param="name",
    )
    api.error(
        api.client.post(
            "/v1/artists/optout", json={"name": "X", "allow_style": True}, headers=api.auth()
        ),
        400,
        param="allow_style",
    )
    api.error(api.client.post("/v1/artists/optout", json={"name": "Y"}), 401)


# ----- the semantic model ----------------------------------------------------------------------


def test_semantic_check_refuses_a_paraphrase_no_rule_lists(make_api: Callable[..., Api]) -> None:
    api = make_api(moderation=ModerationConfig(semantic="on"))
    paraphrase = "a woman taking off all her clothes in a sensual private show"
    _blocked(_create(api, paraphrase), "sexual")
    [refused] = _audit(api, action="video.refused")
    assert refused["outcome"] == "denied:moderation_blocked"
    assert refused["detail"]["check"] == "semantic"
    assert refused["detail"]["category"] == "sexual"
    # What fired: the classifier's category and threshold, and its probability.
    assert refused["detail"]["rule"].startswith("classifier:sexual@")
    threshold = float(refused["detail"]["rule"].rsplit("@", 1)[1])
    assert threshold <= refused["detail"]["score"] <= 1
    # And what it resembled: the corpus's nearest sexual examples, by line, closest first.
    nearest = refused["detail"]["nearest"]
    assert len(nearest) == 3
    corpus = load_corpus()
    for near in nearest:
        assert near["label"] == "sexual"
        assert corpus[near["line"] - 1].label == "sexual"
        assert corpus[near["line"] - 1].prompt.startswith(near["prompt"])
        assert 0.5 < near["similarity"] <= 1.0
    similarities = [near["similarity"] for near in nearest]
    assert similarities == sorted(similarities, reverse=True)
    assert paraphrase not in str(_audit(api))
    assert _videos(api) == []
    # (The shipped classifier refuses "a couple dancing at their wedding": a known false
    # refusal, kept in test_semantic.py's KNOWN_FALSE_REFUSALS.)
    assert _create(api, "a cat sleeping on a sunny windowsill").status_code == 200
