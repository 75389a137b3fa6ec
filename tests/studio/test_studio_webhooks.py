"""The studio's Webhooks view in Debian's chromium: add an endpoint (secret shown once), see a
finished video's delivery, send it again, rotate the secret, delete the endpoint."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
from openai import OpenAI
from playwright.sync_api import expect
from tests.e2e.conftest import free_port, mint, start_server
from tests.studio.conftest import TINY, Studio, StudioServer
from tests.support.waiting import wait_for
from tests.support.webhook_receiver import receiving

SDK = OpenAI(api_key="unused", base_url="http://127.0.0.1:9/v1")


@pytest.fixture(scope="module")
def studio_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StudioServer]:
    """This module's server lets webhooks reach a receiver on loopback over http."""
    data_dir = tmp_path_factory.mktemp("studio-webhooks")
    root = mint(data_dir, "root", "--admin")
    port = free_port()
    env = {
        "OPENREEL_WEBHOOKS__ALLOW_PRIVATE": "true",
        "OPENREEL_WEBHOOKS__ALLOW_HTTP": "true",
        "OPENREEL_WEBHOOKS__POLL_SECONDS": "0.2",
    }
    proc = start_server(data_dir, port, data_dir / "server.log", workers=1, env=env)
    server = StudioServer(f"http://127.0.0.1:{port}", {"root": root}, proc)
    try:
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_add_see_deliveries_resend_rotate_and_delete(studio: Studio) -> None:
    server, page = studio.server, studio.page
    server.issue("wendy")
    studio.sign_in("wendy")
    page.click("button.tab[data-view=webhooks]")
    expect(page.locator("#webhooks")).to_contain_text("No webhooks yet.")
    # A refused URL: the server's reason, next to the form.
    studio.allow_console("400")
    page.fill("#webhook-url", "ftp://example.com/x")
    page.click("#webhook-form button[type=submit]")
    expect(page.locator("#webhooks-error")).to_contain_text("url must be an http:// or https://")
    with receiving() as receiver:
        page.fill("#webhook-url", receiver.url)
        page.click("#webhook-form button[type=submit]")
        expect(page.locator("#webhook-secret")).to_contain_text("whsec_")
        secret = page.inner_text("#webhook-secret").rsplit(" ", 1)[-1]
        expect(page.locator("#webhooks")).to_contain_text(receiver.url)
        assert secret not in str(server.call("wendy", "GET", "/v1/webhooks"))
        video = server.call("wendy", "POST", "/v1/videos", json={"prompt": "a kite", **TINY})
        [received] = receiver.wait_for(1, timeout=60)
        SDK.webhooks.unwrap(received.body, received.headers, secret=secret)
        page.get_by_role("button", name="Deliveries").click()
        row = page.locator("#deliveries tr").first
        expect(row).to_contain_text(video["id"])

        def shows_delivered() -> bool:
            if "delivered" in page.inner_text("#deliveries"):
                return True
            page.get_by_role("button", name="Deliveries").click()  # read the list again
            return False

        wait_for(shows_delivered, timeout=20, interval=0.2)
        expect(row).to_contain_text("200")
        page.get_by_role("button", name="Send again").click()
        second = receiver.wait_for(2)[1]
        assert second.headers["webhook-id"] == received.headers["webhook-id"]
        page.get_by_role("button", name="Rotate secret").click()
        expect(page.locator("#webhook-secret")).to_contain_text("New secret")
        rotated = page.inner_text("#webhook-secret").rsplit(" ", 1)[-1]
        assert rotated.startswith("whsec_")
        assert rotated != secret
        studio.shot("webhooks")
        page.get_by_role("button", name="Delete").click()
        expect(page.locator("#webhooks")).to_contain_text("No webhooks yet.")
        expect(page.locator("#deliveries-card")).to_be_hidden()
    assert server.call("wendy", "GET", "/v1/webhooks")["data"] == []
