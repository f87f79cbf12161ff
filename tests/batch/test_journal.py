"""The journal's grouped commits (``sent`` on disk before it returns, ``done_soon`` by the end of the turn) and the batch's httpx client."""

from __future__ import annotations

import asyncio
from pathlib import Path

from imagewire.batch.journal import Journal
from imagewire.batch.manifest import items_from


def _journal(tmp_path: Path, count: int) -> Journal:
    journal = Journal(tmp_path / "journal.sqlite")
    manifest = items_from([{"id": f"i{k}", "prompt": "p", "model": "dall-e-2"} for k in range(count)])
    journal.add(manifest.items)
    return journal


def test_sent_is_on_disk_when_it_returns_and_carries_the_waiting_done_marks(tmp_path: Path) -> None:
    journal = _journal(tmp_path, 3)

    async def turn() -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
        journal.sent("i0")
        journal.sent("i1")
        on_disk = Journal.peek(tmp_path)  # another connection, as a later run would read it
        journal.done_soon("i0", ["images/i0.png"], 0.02)
        before = Journal.peek(tmp_path)  # not yet committed: a run killed now finds i0 sent (unknown)
        journal.sent("i2")  # one transaction: i0 done and i2 sent
        after = Journal.peek(tmp_path)
        return on_disk, before, after

    on_disk, before, after = asyncio.run(turn())
    assert on_disk == {"pending": 1, "sent": 2}
    assert before == {"sent": 2, "pending": 1}
    assert after == {"done": 1, "sent": 2}
    journal.close()


def test_done_soon_is_committed_at_the_end_of_the_turn(tmp_path: Path) -> None:
    journal = _journal(tmp_path, 2)

    async def turns() -> dict[str, int]:
        for item_id in ("i0", "i1"):
            journal.sent(item_id)
            journal.done_soon(item_id, [f"images/{item_id}.png"], None)
        await asyncio.sleep(0)  # the loop runs the flush it was given
        return Journal.peek(tmp_path)

    assert asyncio.run(turns()) == {"done": 2}
    rows = {row.id: row for row in journal.rows()}
    assert rows["i1"].files == ("images/i1.png",)
    journal.close()


def test_done_soon_outside_a_loop_and_close_commit_at_once(tmp_path: Path) -> None:
    journal = _journal(tmp_path, 1)
    journal.sent("i0")
    journal.done_soon("i0", ["images/i0.png"], None)
    assert Journal.peek(tmp_path) == {"done": 1}
    journal.close()


def test_batch_http_parses_each_url_once_and_failures_name_their_request(tmp_path: Path) -> None:
    import httpx
    import pytest

    from imagewire.batch.transport import HTTP, Transport

    async def go() -> None:
        http = HTTP(Transport())
        url = "http://127.0.0.1:9/v1/images/generations"  # the discard port: nothing listens
        first, second = http.build_request("POST", url), http.build_request("POST", url)
        assert first.url == second.url
        assert http._merge_url(url) is http._merge_url(url)  # parsed once
        with pytest.raises(httpx.ConnectError) as caught:
            await http.send(first)
        assert caught.value.request is first
        await http.aclose()

    asyncio.run(go())


def test_sent_soon_marks_of_one_turn_share_a_commit_that_precedes_every_send(tmp_path: Path) -> None:
    journal = _journal(tmp_path, 3)

    async def turn() -> tuple[dict[str, int], dict[str, int], bool]:
        journal.sent("i0")
        journal.done_soon("i0", ["images/i0.png"], 0.02)
        first, second = journal.sent_soon("i1"), journal.sent_soon("i2")
        before = Journal.peek(tmp_path)  # nothing of this turn is on disk yet, so nothing may be sent
        await first
        after = Journal.peek(tmp_path)
        return before, after, first is second and second.done()

    before, after, shared = asyncio.run(turn())
    assert before == {"sent": 1, "pending": 2}
    assert after == {"done": 1, "sent": 2}  # one transaction: the answer of i0 and the sends of i1, i2
    assert shared
    assert [row.attempts for row in journal.rows()] == [1, 1, 1]
    journal.close()


def test_a_failed_commit_reaches_every_waiting_sender(tmp_path: Path) -> None:
    import sqlite3

    import pytest

    journal = _journal(tmp_path, 2)

    async def turn() -> None:
        waiting = journal.sent_soon("i0")
        journal.db.close()  # the commit at the end of the turn cannot happen
        with pytest.raises(sqlite3.ProgrammingError):
            await waiting

    asyncio.run(turn())


def test_batch_http_builds_the_headers_httpx_would_send(tmp_path: Path) -> None:
    import httpx

    from imagewire.batch.transport import HTTP, Transport

    async def go() -> None:
        http = HTTP(Transport())
        plain = httpx.AsyncClient()
        url = "http://127.0.0.1:9/v1/images/generations"
        headers = {"Authorization": "Bearer sk-test", "Content-Type": "application/json"}
        for body, where in ((b'{"prompt": "a"}', url), (b'{"prompt": "a longer one"}', httpx.URL(url))):
            fast = http.build_request("POST", where, content=body, headers=headers, timeout=5.0)
            slow = plain.build_request("POST", where, content=body, headers=headers, timeout=5.0)
            assert sorted(fast.headers.raw) == sorted(slow.headers.raw)
            assert (fast.url, fast.content, fast.extensions) == (slow.url, slow.content, slow.extensions)
        assert len(http._heads) == 1  # the headers of one shape are made once (the URL as text or parsed)
        await http.aclose()
        await plain.aclose()

    asyncio.run(go())


def test_report_json_lists_one_item_a_line_and_reads_back(tmp_path: Path) -> None:
    import json

    from imagewire.batch import report

    journal = _journal(tmp_path, 3)
    journal.sent("i0")
    journal.done("i0", ["images/i0.png"], 0.02)
    journal.failed("i1", 'refused: "no"')
    data = report.write(tmp_path, journal)
    text = (tmp_path / "report.json").read_text()
    assert json.loads(text) == data
    assert sum(1 for line in text.splitlines() if line.lstrip().startswith('{"id"')) == 3
    journal.close()
