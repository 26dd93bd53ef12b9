"""``/dashboard``: server-rendered pages over the same data and the same keys as the API."""

import re
import shutil
from collections.abc import Iterator

import httpx
import pytest
from letta_client import Letta

from agentbatch.emulator.server import EmulatorThread
from agentbatch.server import ServerThread
from tests.acceptance.conftest import live_settings
from tests.support.live import point_sdks_at
from tests.support.polling import wait_for

MODEL = "openai/gpt-4o-mini"


@pytest.fixture
def server(
    sqlite_url: str, emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ServerThread]:
    point_sdks_at(monkeypatch, emulator)
    with ServerThread(live_settings(sqlite_url, api_keys="key-alice,key-bob")) as running:
        yield running


def _fragment(server: ServerThread, path: str, key: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.get(f"{server.base_url}{path}", headers=headers)


def test_pages_hold_no_data_and_load_nothing_from_elsewhere(server: ServerThread) -> None:
    page = httpx.get(f"{server.base_url}/dashboard")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "data-fragment='/dashboard/fragments/batches'" in page.text
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=.http", page.text), "no CDN at run time"


def test_fragments_show_only_the_keys_own_batches_and_a_conversation(server: ServerThread) -> None:
    alice = Letta(base_url=server.base_url, api_key="key-alice", max_retries=0)
    bob = Letta(base_url=server.base_url, api_key="key-bob", max_retries=0)
    agent = alice.agents.create(model=MODEL).id
    look = "[[tool:conversation_search]] look"
    mine = alice.batches.create(requests=[{"agent_id": agent, "input": look}]).id
    theirs = bob.batches.create(requests=[{"agent_id": bob.agents.create(model=MODEL).id, "input": "hi"}]).id

    assert _fragment(server, "/dashboard/fragments/batches", None).status_code == 401
    listed = _fragment(server, "/dashboard/fragments/batches", "key-alice").text
    assert mine in listed and theirs not in listed
    assert _fragment(server, f"/dashboard/fragments/batches/{theirs}", "key-alice").status_code == 404

    wait_for(lambda: alice.batches.retrieve(mine).status == "completed", what="the batch to end")
    detail = _fragment(server, f"/dashboard/fragments/batches/{mine}", "key-alice").text
    assert "succeeded <b class='n-succeeded'>1</b>" in detail and "end_turn" in detail
    assert "No callback_url" in detail
    only_errored = _fragment(server, f"/dashboard/fragments/batches/{mine}?status=errored", "key-alice").text
    assert "data-item=" not in only_errored
    talk = _fragment(server, f"/dashboard/fragments/batches/{mine}/agents/{agent}", "key-alice").text
    assert "class='msg user'" in talk and "conversation_search(" in talk and "class='tool-result'" in talk


def _browser() -> object:
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not chromium or not driver_path:
        pytest.skip("no Chromium here (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    from selenium.webdriver.chrome.service import Service

    return webdriver.Chrome(options=options, service=Service(driver_path))


def test_a_browser_sees_a_running_batch_advance_and_a_conversation_render(server: ServerThread) -> None:
    browser = _browser()
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    alice = Letta(base_url=server.base_url, api_key="key-alice", max_retries=0)
    agents = [alice.agents.create(model=MODEL).id for _ in range(4)]
    try:
        browser.get(f"{server.base_url}/dashboard")  # type: ignore[attr-defined]
        key_form = wait_for(lambda: (f := browser.find_element(By.ID, "key")).is_displayed() and f)  # type: ignore[attr-defined]
        key_form.find_element(By.NAME, "key").send_keys("key-alice")
        key_form.find_element(By.TAG_NAME, "button").click()
        wait_for(
            lambda: "No batches" in browser.find_element(By.ID, "batches").text,  # type: ignore[attr-defined]
            what="the page to show this key's (empty) list",
        )
        batch = alice.batches.create(
            requests=[
                {"agent_id": a, "input": f"[[sleep:{1500 * (i + 1)}]] hi"} for i, a in enumerate(agents)
            ]
        ).id
        row = f"tr[data-batch='{batch}'] .done"
        seen = set()

        def progress() -> bool:
            try:  # the fragment is re-rendered every second: an element found may be gone a moment later
                cells = browser.find_elements(By.CSS_SELECTOR, row)  # type: ignore[attr-defined]
                if cells:
                    seen.add(cells[0].text)
            except StaleElementReferenceException:
                return False
            return "4/4" in seen

        wait_for(progress, timeout=30, what="the progress to reach 4/4 in the page")
        assert len(seen) >= 2, f"the count advanced while the page was open: {seen}"
        browser.get(f"{server.base_url}/dashboard/batches/{batch}/agents/{agents[0]}")  # type: ignore[attr-defined]

        def conversation_rendered() -> bool:
            try:
                return "echo:" in browser.find_element(By.ID, "conversation").text  # type: ignore[attr-defined]
            except StaleElementReferenceException:
                return False

        wait_for(conversation_rendered, what="the conversation to render")
    finally:
        browser.quit()  # type: ignore[attr-defined]
