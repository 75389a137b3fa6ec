"""The studio in a real browser: sign in and out, make, watch, cancel, browse, remix, extend,
edit, characters, delete."""

from __future__ import annotations

import io
import time
from pathlib import Path

import httpx
from PIL import Image
from playwright.sync_api import Browser, Route, expect
from tests.studio.conftest import TINY, Studio, StudioServer
from tests.support.clips import field_clip, figure_clip
from tests.support.live_server import free_port, mint, start_server


def _png(color: tuple[int, int, int] = (30, 90, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (160, 90), color).save(buffer, "PNG")
    return buffer.getvalue()


def _next_video(studio: Studio, previous: str) -> str:
    """The id of the video the watch panel opens after ``previous`` (a remix or extension).

    Tiny clips finish within moments, so the panel may already show the new video by the time
    the test looks: the new id is read from whatever replaced ``previous``.
    """
    studio.page.wait_for_function(
        "previous => { const v = document.querySelector('#watch video');"
        " const m = document.getElementById('watch-message').textContent;"
        " return (v && v.dataset.id !== previous) || m.startsWith('Started '); }",
        arg=previous,
    )
    found: str = studio.page.evaluate(
        "previous => { const v = document.querySelector('#watch video');"
        " if (v && v.dataset.id !== previous) return v.dataset.id;"
        " return document.getElementById('watch-message').textContent"
        ".replace('Started ', '').replace(/\\.$/, ''); }",
        previous,
    )
    assert found.startswith("video_"), found
    return found


def test_sign_in_keeps_no_token_in_the_page_and_sign_out_ends_it(studio: Studio) -> None:
    server, page = studio.server, studio.page
    server.issue("ann")
    studio.open()
    studio.shot("signin")
    studio.sign_in("ann")
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["openreel_session"]
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Strict"
    token = server.tokens["ann"]
    stored = page.evaluate(
        "JSON.stringify([document.cookie, {...localStorage}, {...sessionStorage}])"
    )
    assert token not in stored
    assert page.input_value("#token") == ""
    page.reload()
    page.wait_for_selector("#view-create:not([hidden])")  # the cookie survives a reload
    page.click("#sign-out")
    page.wait_for_selector("#signin:not([hidden])")
    expect(page.locator("#signin-error")).to_have_text("You are signed out.")
    assert "openreel_session" not in {c["name"] for c in page.context.cookies()}
    page.reload()
    page.wait_for_selector("#signin:not([hidden])")


def test_generate_shows_progress_then_plays_with_provenance(studio: Studio) -> None:
    server, page = studio.server, studio.page
    server.issue("bea")
    fetched: list[tuple[str, str]] = []  # what the page's own scripts asked for
    page.on(
        "request",
        lambda r: (
            fetched.append((r.method, r.url)) if r.resource_type in ("fetch", "xhr") else None
        ),
    )
    studio.sign_in("bea")
    page.select_option("#format", "640x360")
    expect(page.locator("#model")).to_have_value("openreel-sketch")
    expect(page.locator("#seconds")).to_have_attribute("max", "60")
    expect(page.locator("#audio")).to_be_checked()  # the sketch engine makes sound
    expect(page.locator("#audio")).to_be_enabled()
    page.fill("#prompt", "a red fox running through snow")
    expect(page.locator("#prompt-count")).to_have_text("30 / 4000")
    video_id = studio.generate("a red fox running through snow at dusk")
    card = page.locator(f'#jobs li[data-id="{video_id}"]')
    expect(card.locator("progress")).to_be_attached()
    studio.shot("progress")
    state = studio.wait_playing(video_id)
    assert state["readyState"] >= 2
    assert abs(state["duration"] - 2.0) < 0.15, state
    assert state["seekable"] > 1.5, state  # the server answers Range requests
    page.evaluate("document.querySelector('#watch video').currentTime = 1.0")
    page.wait_for_function(
        "() => { const v = document.querySelector('#watch video');"
        " return !v.seeking && v.readyState >= 3 && v.currentTime > 0.9; }"
    )
    # The player plays the sound (not muted) and the browser decodes it.
    assert page.evaluate("document.querySelector('#watch video').muted") is False
    page.wait_for_function(
        "() => document.querySelector('#watch video').webkitAudioDecodedByteCount > 0"
    )
    expect(page.locator("#watch-status")).to_contain_text("sound")
    expect(page.locator("#prov-state")).to_have_text("Trusted: signed by this server")
    expect(page.locator("#prov-model")).to_contain_text("openreel-sketch")
    # Checked on the server by id: the page neither downloads the file nor uploads it.
    assert ("GET", f"{server.url}/v1/videos/{video_id}/provenance") in fetched, fetched
    assert not [u for _, u in fetched if "/content" in u or "/v1/provenance/" in u], fetched
    video = server.call("bea", "GET", f"/v1/videos/{video_id}")
    expect(page.locator("#prov-seed")).to_have_text(str(video["seed"]))
    expect(page.locator("#understood-summary")).to_have_text(video["plan"]["summary"])
    assert video["size"] == "640x360"
    assert video["seconds"] == "2"
    assert video["audio"] is True
    expect(page.locator("#download")).to_have_attribute(
        "href", f"/v1/videos/{video_id}/content?variant=video"
    )
    expect(page.locator(f'#jobs li[data-id="{video_id}"]')).to_have_count(0)
    studio.shot("watch")


def test_cancel_stops_a_running_video(studio: Studio) -> None:
    server, page = studio.server, studio.page
    server.issue("cat")
    studio.sign_in("cat")
    video_id = studio.generate("a long slow pan over a lake", seconds="60", size="640x360")
    card = page.locator(f'#jobs li[data-id="{video_id}"]')
    # Running, with live progress and an estimate of the time left, before it is stopped.
    expect(card.locator(".times")).to_contain_text("left", timeout=60_000)
    expect(card.locator(".phase")).to_contain_text("in progress")
    card.get_by_role("button", name="Cancel").click()
    try:
        expect(card.locator(".times")).to_have_text("Cancelled.", timeout=60_000)
    except AssertionError as failure:
        seen = server.call("cat", "GET", f"/v1/videos/{video_id}")
        raise AssertionError(f"{failure}\nthe server says: {seen}") from None
    studio.shot("cancelled")
    video = server.call("cat", "GET", f"/v1/videos/{video_id}")
    assert video["status"] == "failed"
    assert video["error"]["code"] == "cancelled"


def test_refusal_shows_the_servers_reason_next_to_the_prompt(studio: Studio) -> None:
    studio.server.issue("dan")
    # The browser itself logs the refused request's 400; nothing else may be logged.
    studio.allow_console(r"Failed to load resource: .* 400 \(Bad Request\)")
    studio.sign_in("dan")
    page = studio.page
    page.fill("#prompt", "a naked woman on a beach")
    page.click("#generate")
    error = page.locator("#compose-error")
    expect(error).to_contain_text("refused by moderation")
    expect(error).to_contain_text("Sexual content and nudity are not generated")
    expect(page.locator("#jobs li")).to_have_count(0)
    studio.shot("refused")
    assert studio.server.call("dan", "GET", "/v1/videos")["data"] == []


def test_gallery_reads_the_server_pages_and_scrubs(studio: Studio) -> None:
    server, page = studio.server, studio.page
    server.issue("eve")
    made = [
        server.call("eve", "POST", "/v1/videos", json={"prompt": f"boat number {i}", **TINY})
        for i in range(14)
    ]
    deadline = time.monotonic() + 60
    while any(
        server.call("eve", "GET", f"/v1/videos/{v['id']}")["status"] != "completed" for v in made
    ):
        assert time.monotonic() < deadline, "the gallery's videos never finished"
        time.sleep(0.2)
    studio.sign_in("eve")
    page.reload()  # the history comes from the server, not from the page's memory
    page.wait_for_selector("#view-create:not([hidden])")
    page.click("nav >> text=History")
    tiles = page.locator("#gallery li")
    expect(tiles.first).to_have_attribute("data-id", made[-1]["id"])  # newest first
    tiles.last.scroll_into_view_if_needed()
    expect(tiles).to_have_count(14)  # the second page came through the cursor
    expect(page.locator("#history-more")).to_have_text("That is everything.")
    first = tiles.first
    expect(first.locator(".badge")).to_have_text("completed")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#gallery img')].slice(0, 4)"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    frame = first.locator(".frame")
    frame.hover()
    expect(frame.locator(".scrub.ready")).to_be_attached()
    box = frame.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.9, box["y"] + box["height"] / 2)
    position = frame.locator(".scrub").evaluate("e => e.style.backgroundPosition")
    assert position, "hovering did not move the spritesheet"
    assert position != "0% 0%", position
    page.mouse.move(0, 0)
    studio.shot("history")


def test_remix_and_delete_from_the_watch_panel(studio: Studio) -> None:
    server, page = studio.server, studio.page
    server.issue("fay")
    source = server.call(
        "fay", "POST", "/v1/videos", json={"prompt": "a lighthouse at dusk", **TINY}
    )
    deadline = time.monotonic() + 30
    while server.call("fay", "GET", f"/v1/videos/{source['id']}")["status"] != "completed":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    studio.sign_in("fay")
    page.click("nav >> text=History")
    page.locator(f'#gallery li[data-id="{source["id"]}"] button').click()
    studio.wait_playing(source["id"])
    page.fill("#remix-prompt", "a lighthouse in a snowstorm")
    page.click("#remix-form button[type=submit]")
    remix_id = _next_video(studio, source["id"])
    studio.wait_playing(remix_id)
    remix = server.call("fay", "GET", f"/v1/videos/{remix_id}")
    assert remix["remixed_from_video_id"] == source["id"]
    assert remix["prompt"] == "a lighthouse in a snowstorm"
    assert remix["seed"] == source["seed"]
    page.fill("#extend-seconds", "1")
    page.fill("#extend-prompt", "the snow stops")
    page.click("#extend-form button[type=submit]")
    extended_id = _next_video(studio, remix_id)
    played = studio.wait_playing(extended_id)
    assert abs(played["duration"] - 2.0) < 0.2, played  # 1 s remix + 1 s more, stitched
    extended = server.call("fay", "GET", f"/v1/videos/{extended_id}")
    assert extended["extended_from_video_id"] == remix_id
    page.click("nav >> text=History")
    page.locator(f'#gallery li[data-id="{remix_id}"] button').click()
    studio.wait_playing(remix_id)
    delete = page.locator("#delete")
    delete.click()
    expect(delete).to_have_text("Press again to delete")
    delete.click()
    expect(page.locator("#watch")).to_be_hidden()
    page.click("nav >> text=History")
    expect(page.locator(f'#gallery li[data-id="{remix_id}"]')).to_have_count(0)
    gone = httpx.get(
        f"{server.url}/v1/videos/{remix_id}",
        headers={"Authorization": f"Bearer {server.tokens['fay']}"},
    )
    assert gone.status_code == 404


def test_admin_controls_only_for_admins(studio: Studio) -> None:
    server, page = studio.server, studio.page
    server.issue("gus")
    studio.sign_in("gus")
    expect(page.locator("#admin-tab")).to_be_hidden()
    expect(page.locator("#view-admin")).to_be_hidden()
    page.click("#sign-out")
    page.wait_for_selector("#signin:not([hidden])")
    studio.sign_in("root")
    page.click("#admin-tab")
    expect(page.locator("#tokens tr").first).to_be_visible()
    page.fill("#token-name", "hal")
    page.click("#token-form button[type=submit]")
    expect(page.locator("#token-secret")).to_contain_text("or_")
    expect(page.locator("#tokens")).to_contain_text("hal")
    page.fill("#pause-reason", "maintenance window")
    page.click("#pause-form button[type=submit]")
    expect(page.locator("#pauses")).to_contain_text("maintenance window")
    page.fill("#artist-name", "Ada Example")
    page.click("#artist-form button[type=submit]")
    expect(page.locator("#artists")).to_contain_text("Ada Example")
    expect(page.locator("#audit")).to_contain_text("token")
    studio.shot("admin")
    page.locator("#pauses").get_by_role("button", name="Resume").click()
    expect(page.locator("#pauses")).to_contain_text("Nothing is paused.")
    assert server.call("root", "GET", "/v1/admin/pauses")["data"] == []


def test_revoked_token_signs_the_page_out(studio: Studio) -> None:
    server, page = studio.server, studio.page
    server.issue("ida")
    studio.sign_in("ida")
    tokens = server.call("root", "GET", "/v1/admin/tokens", params={"name": "ida"})["data"]
    server.call("root", "POST", f"/v1/admin/tokens/{tokens[0]['id']}/revoke")
    page.reload()
    page.wait_for_selector("#signin:not([hidden])")
    expect(page.locator("#signin-error")).to_contain_text("revoked")


def test_phone_screen_and_keyboard_only(studio: Studio, studio_server: StudioServer) -> None:
    page = studio.page
    studio_server.issue("joy")
    page.set_viewport_size({"width": 390, "height": 844})
    studio.open()
    page.focus("#token")
    page.keyboard.type(studio_server.tokens["joy"])
    page.keyboard.press("Enter")
    page.wait_for_selector("#view-create:not([hidden])")
    page.wait_for_function("() => document.activeElement.id === 'prompt'")
    page.keyboard.type("a paper boat on a pond")
    page.select_option("#format", "640x360")
    page.focus("#seconds")
    page.keyboard.press("Control+a")
    page.keyboard.type("2")
    for _ in range(40):
        if page.evaluate("document.activeElement.id") == "generate":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "generate"
    page.keyboard.press("Enter")
    video_id = page.wait_for_function(
        "() => document.querySelector('#jobs li, #watch video')?.dataset.id"
    ).json_value()
    assert str(video_id).startswith("video_")
    studio.wait_playing(video_id)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    wide = page.evaluate(
        """[...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
        .map(e => `${e.tagName}#${e.id}.${e.className}`)"""
    )
    assert overflow <= 0, f"the page is {overflow}px wider than a phone screen: {wide}"
    unlabelled = page.evaluate(
        """[...document.querySelectorAll('input, select, textarea, button')]
        .filter(e => e.offsetParent !== null)
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                     && !e.textContent.trim())
        .map(e => e.id || e.outerHTML.slice(0, 60))"""
    )
    assert unlabelled == []
    studio.shot("phone")


def test_reference_image_drop_preview_size_check_and_upload(studio: Studio) -> None:
    server, page = studio.server, studio.page
    server.issue("kim")
    limits = httpx.get(f"{server.url}/v1/studio/limits").json()
    limit = min(limits["image_max_bytes"], limits["upload_max_bytes"])
    studio.sign_in("kim")
    expect(page.locator("#reference-hint")).to_have_text(
        f"PNG, JPEG or WebP, at most {limit >> 20} MB."
    )
    expect(page.locator("#reference")).to_have_attribute("accept", ",".join(limits["image_types"]))
    page.set_input_files(
        "#reference",
        files=[{"name": "big.png", "mimeType": "image/png", "buffer": b"0" * (limit + (1 << 20))}],
    )
    expect(page.locator("#compose-error")).to_contain_text(f"the limit is {limit >> 20} MB")
    page.set_input_files(
        "#reference", files=[{"name": "a.gif", "mimeType": "image/gif", "buffer": b"GIF89a"}]
    )
    expect(page.locator("#compose-error")).to_contain_text(
        "must be PNG, JPEG or WebP; got image/gif"
    )
    expect(page.locator("#reference-preview")).to_be_hidden()
    dropped = page.evaluate_handle(
        """bytes => { const data = new DataTransfer();
        data.items.add(new File([new Uint8Array(bytes)], 'sky.png', {type: 'image/png'}));
        return data; }""",
        list(_png()),
    )
    page.dispatch_event("#drop", "drop", {"dataTransfer": dropped})
    expect(page.locator("#reference-preview")).to_be_visible()
    expect(page.locator("#compose-error")).to_have_text("")
    page.wait_for_function(
        "() => document.getElementById('reference-preview').naturalWidth === 160"
    )
    studio.shot("reference")
    video_id = studio.generate("a sailboat at sea")
    studio.wait_playing(video_id)
    video = server.call("kim", "GET", f"/v1/videos/{video_id}")
    assert "backdrop from input_reference" in video["plan"]["summary"]
    page.click("#reference-clear")
    expect(page.locator("#reference-preview")).to_be_hidden()


def test_limits_come_from_the_server_and_the_native_file_control_is_hidden(
    studio: Studio,
) -> None:
    server, page = studio.server, studio.page
    server.issue("nia")
    limits = httpx.get(f"{server.url}/v1/studio/limits").json()
    studio.sign_in("nia")
    most = str(limits["prompt_max_chars"])
    for field in ("#prompt", "#negative", "#remix-prompt", "#extend-prompt"):
        expect(page.locator(field)).to_have_attribute("maxlength", most)
    expect(page.locator("#prompt-count")).to_have_text(f"0 / {most}")
    # The browser's own "Choose File / No file chosen" control is out of sight...
    native = page.locator("#reference")
    box = native.bounding_box()
    assert box is not None
    assert box["width"] <= 1, box
    assert box["height"] <= 1, box
    assert native.evaluate("e => getComputedStyle(e).opacity") == "0"
    expect(page.locator(".drop-text")).to_be_visible()
    # ...yet the keyboard still reaches it, and its label shows where the focus is.
    page.focus("#negative")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "reference"
    assert page.locator(".drop-text").evaluate("e => getComputedStyle(e).outlineStyle") == "solid"
    studio.shot("drop-zone")


def test_history_and_session_survive_a_server_restart(browser: Browser, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    token = mint(data_dir, "lee")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_server(data_dir, port, data_dir / "server.log", workers=1)
    server = StudioServer(url, {"lee": token}, proc)
    context = browser.new_context()
    errors: list[str] = []
    try:
        made = server.call("lee", "POST", "/v1/videos", json={"prompt": "a kite", **TINY})
        deadline = time.monotonic() + 30
        # Finished first, so the page follows nothing while the server is down (it would
        # log refused connections, as any page does when its server goes away).
        while server.call("lee", "GET", f"/v1/videos/{made['id']}")["status"] != "completed":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(url + "/")
        page.fill("#token", token)
        page.click("#signin-form button[type=submit]")
        page.wait_for_selector("#view-create:not([hidden])")
        proc.terminate()
        proc.wait(timeout=30)
        proc = start_server(data_dir, port, data_dir / "server2.log", workers=1)
        page.reload()
        page.wait_for_selector("#view-create:not([hidden])")  # the cookie still works
        page.click("nav >> text=History")
        tile = page.locator(f'#gallery li[data-id="{made["id"]}"]')
        expect(tile).to_have_count(1)
        expect(tile.locator(".badge")).to_have_text("completed", timeout=30_000)
    finally:
        context.close()
        proc.terminate()
        proc.wait(timeout=30)
    assert errors == []


def test_progress_falls_back_to_polling_when_events_fail(studio: Studio) -> None:
    server, page = studio.server, studio.page
    server.issue("max")
    # The blocked stream is logged by the browser itself; the page must carry on by polling.
    studio.allow_console(r"Failed to load resource: net::ERR_FAILED")
    blocked: list[str] = []

    def refuse(route: Route) -> None:
        blocked.append(route.request.url)
        route.abort()

    page.route("**/v1/videos/*/events", refuse)
    studio.sign_in("max")
    video_id = studio.generate("a windmill on a hill")
    played = studio.wait_playing(video_id)
    assert abs(played["duration"] - 2.0) < 0.15, played
    assert blocked, "the page never tried the event stream"


def test_edit_and_extend_with_an_upload_and_the_characters_panel(
    studio: Studio, tmp_path: Path
) -> None:
    server, page = studio.server, studio.page
    server.issue("gil")
    source = server.call(
        "gil", "POST", "/v1/videos", json={"prompt": "a lighthouse with birds", **TINY}
    )
    deadline = time.monotonic() + 30
    while server.call("gil", "GET", f"/v1/videos/{source['id']}")["status"] != "completed":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    studio.sign_in("gil")
    page.click("nav >> text=History")
    page.locator(f'#gallery li[data-id="{source["id"]}"] button').click()
    studio.wait_playing(source["id"])
    # Edit the open video by its id...
    page.fill("#edit-prompt", "at night")
    page.click("#edit-form button[type=submit]")
    edited_id = _next_video(studio, source["id"])
    studio.wait_playing(edited_id)
    edited = server.call("gil", "GET", f"/v1/videos/{edited_id}")
    assert edited["edited_from_video_id"] == source["id"]
    assert edited["plan"]["changes"] == ["time_of_day: golden_hour -> night"]
    # ...then an uploaded file instead, extended.
    upload = tmp_path / "field.mp4"
    field_clip(upload, size=(128, 80))
    page.set_input_files("#extend-file", str(upload))
    page.fill("#extend-seconds", "1")
    page.fill("#extend-prompt", "a sailboat on a lake")
    page.click("#extend-form button[type=submit]")
    extended_id = _next_video(studio, edited_id)
    played = studio.wait_playing(extended_id)
    assert abs(played["duration"] - 2.5) < 0.2, played  # 1.5 s uploaded + 1 s new
    extended = server.call("gil", "GET", f"/v1/videos/{extended_id}")
    assert extended["plan"]["source"] == {"video_id": None, "uploaded": True}

    # The characters panel: create from a clip, insert its name, delete it.
    page.click("nav >> text=Create")
    clip = tmp_path / "ada.mp4"
    figure_clip(clip)
    page.fill("#character-name", "Ada")
    page.set_input_files("#character-file", str(clip))
    page.click("#character-create")
    item = page.locator("#characters li", has_text="Ada")
    expect(item).to_have_count(1)
    listed = server.call("gil", "GET", "/v1/videos/characters")["data"]
    assert [c["name"] for c in listed] == ["Ada"]
    page.fill("#prompt", "walks on the beach")
    page.evaluate("document.getElementById('prompt').setSelectionRange(0, 0)")
    item.locator("text=Insert in prompt").click()
    assert page.input_value("#prompt") == "Ada walks on the beach"
    item.locator("text=Delete").click()
    expect(page.locator("#characters li")).to_have_count(0)
    assert server.call("gil", "GET", "/v1/videos/characters")["data"] == []
