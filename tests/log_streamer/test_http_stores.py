"""The Loki and _bulk outputs against in-test servers that follow each public API's contract
(see tests/log_streamer/stores.py; neither store can be installed on these machines)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from podkit.log_streamer.outputs.spec import parse_output
from tests.log_streamer.stores import BulkStore, LokiStore
from tests.log_streamer.streamer import append, check_numbered, embedded, numbered, settings
from tests.support.waits import async_wait_until


@pytest.fixture
async def loki() -> AsyncIterator[LokiStore]:
    store = LokiStore()
    await store.start()
    yield store
    await store.stop()


def logs_dir(tmp_path: Path) -> Path:
    logs = tmp_path / "logs"
    logs.mkdir()
    return logs


def http_settings(tmp_path: Path, output: str, **changes: Any) -> Any:
    values: dict[str, Any] = {"batch_wait": 0.05, "retry_max_backoff": 0.2}
    values.update(changes)
    return settings(
        tmp_path / "logs",
        tmp_path / "state",
        tmp_path / "unused",
        output=[parse_output(output)],
        **values,
    )


async def test_loki_streams_labels_time_and_gzip(
    tmp_path: Path, loki: LokiStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POD_NAME", "web-0")
    monkeypatch.setenv("POD_NAMESPACE", "shop")
    monkeypatch.setenv("CONTAINER_NAME", "app")
    monkeypatch.delenv("NODE_NAME", raising=False)
    logs = logs_dir(tmp_path)
    append(logs / "a.log", ['{"ts": 1714557600.25, "msg": "hello"}', "not json"])
    s = http_settings(
        tmp_path, f"loki:{loki.url}", label=[("app", "shop")], parser="json", time_key="ts"
    )
    async with embedded(s) as streamer:
        await async_wait_until(lambda: len(loki.lines()) == 2, 30, "2 entries")
        failed = streamer.parser.failed
    [(labels, entries)] = loki.streams.items()
    assert dict(labels) == {
        "app": "shop",
        "container": "app",
        "filename": str(logs / "a.log"),
        "namespace": "shop",
        "pod": "web-0",
    }
    assert entries[0] == (1714557600250000000, '{"ts": 1714557600.25, "msg": "hello"}')
    assert entries[1][1] == "not json"
    assert set(loki.encodings) == {"gzip"}
    assert failed == 1


async def test_loki_retries_429_and_5xx_and_drops_a_400_batch(
    tmp_path: Path, loki: LokiStore
) -> None:
    logs = logs_dir(tmp_path)
    s = http_settings(tmp_path, f"loki:{loki.url}", http_gzip=False)
    loki.fail_next = [(429, "0"), (503, None), (500, None)]
    append(logs / "a.log", (numbered("a", i) for i in range(300)))
    async with embedded(s) as streamer:
        await async_wait_until(lambda: len(loki.lines()) >= 300, 30, "300 entries")
        check_numbered(loki.lines(), {"a": 300})
        channel = streamer.channels[0]
        assert channel.stats.failed > 0
        # a batch the store refuses for good is dropped, counted, and the next goes on
        loki.fail_next = [(400, None)]
        append(logs / "a.log", ["refused line"])
        await async_wait_until(lambda: channel.stats.dropped.get("rejected") == 1, 30, "a drop")
        append(logs / "a.log", ["after the refusal"])
        await async_wait_until(lambda: "after the refusal" in loki.lines(), 30, "the next line")
    assert set(loki.encodings) == {""}


async def test_loki_auth_and_tenant_read_from_files_at_each_request(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("first-token\n")
    wanted = {"value": "Bearer first-token"}
    store = LokiStore(auth=lambda: wanted["value"], tenant="team-a")
    await store.start()
    try:
        logs = logs_dir(tmp_path)
        s = http_settings(
            tmp_path, f"loki:{store.url}", http_bearer_token_file=token_file, loki_tenant="team-a"
        )
        async with embedded(s):
            append(logs / "a.log", ["one"])
            await async_wait_until(lambda: store.lines() == ["one"], 30, "the first line")
            # the token rotates: the server wants the new one, the file has it
            wanted["value"] = "Bearer second-token"
            token_file.write_text("second-token\n")
            append(logs / "a.log", ["two"])
            await async_wait_until(lambda: store.lines() == ["one", "two"], 30, "the second line")
    finally:
        await store.stop()


async def test_loki_down_stops_reading_within_the_memory_bound_then_catches_up(
    tmp_path: Path, loki: LokiStore
) -> None:
    logs = logs_dir(tmp_path)
    s = http_settings(
        tmp_path, f"loki:{loki.url}", buffer_records=100, batch_records=50, read_slice=4096
    )
    loki.fail_next = [(503, None)] * 10_000
    append(logs / "a.log", (numbered("a", i) for i in range(3000)))
    async with embedded(s) as streamer:
        channel = streamer.channels[0]
        await async_wait_until(lambda: channel.stats.failed > 0, 30, "failures")
        await async_wait_until(lambda: channel.buffered >= 100, 30, "a full buffer")
        assert streamer.tailer is not None
        stats = streamer.tailer.state.files[str(logs / "a.log")]
        # the reader stopped: what is buffered stays within the bound plus one read slice,
        # and the file keeps its place (bytes behind)
        assert channel.buffered <= 100 + 4096 // 200 + 1
        assert stats.behind > 0
        loki.fail_next = []
        await async_wait_until(lambda: len(loki.lines()) >= 3000, 60, "every line")
    check_numbered(loki.lines(), {"a": 3000})


async def test_bulk_ids_partial_failures_and_rejections(tmp_path: Path) -> None:
    def fault(doc: dict[str, Any], attempt: int) -> int | None:
        if "BUSY" in doc["message"] and attempt <= 2:
            return 429
        if "BAD" in doc["message"]:
            return 400
        return None

    store = BulkStore(item_fault=fault)
    await store.start()
    try:
        logs = logs_dir(tmp_path)
        lines = [numbered("a", i) for i in range(200)]
        lines[10] += " BUSY"
        lines[20] += " BAD"
        append(logs / "a.log", lines)
        s = http_settings(tmp_path, f"bulk:{store.url}", bulk_index="logs-%Y")
        async with embedded(s) as streamer:
            await async_wait_until(lambda: len(store.docs) >= 199, 30, "199 documents")
            await async_wait_until(
                lambda: streamer.channels[0].buffered == 0, 30, "all acknowledged"
            )
            dropped = dict(streamer.channels[0].stats.dropped)
        kept = [line for i, line in enumerate(lines) if i != 20]
        assert sorted(store.messages()) == sorted(kept)
        busy_id = next(key for key, doc in store.docs.items() if "BUSY" in doc["message"])[1]
        assert store.attempts[busy_id] == 3  # retried alone until accepted
        assert dropped == {"rejected": 1}
        index, doc_id = next(iter(store.docs))
        assert index.startswith("logs-20") and ":" in doc_id
        doc = store.docs[(index, doc_id)]
        assert doc["path"] == str(logs / "a.log") and "@timestamp" in doc and doc["id"] == doc_id
    finally:
        await store.stop()


async def test_bulk_resend_after_losing_the_checkpoint_stores_each_record_once(
    tmp_path: Path,
) -> None:
    password = tmp_path / "password"
    password.write_text("s3cret-pass")
    expected = "Basic " + base64.b64encode(b"elastic:s3cret-pass").decode()
    store = BulkStore(auth=lambda: expected)
    await store.start()
    try:
        logs = logs_dir(tmp_path)
        append(logs / "a.log", (numbered("a", i) for i in range(500)))
        s = http_settings(
            tmp_path,
            f"bulk:{store.url}",
            state_dir=None,  # no checkpoint: every start reads the files again
            http_username="elastic",
            http_password_file=password,
        )
        for _ in range(2):
            async with embedded(s) as streamer:
                await async_wait_until(
                    lambda: store.requests > 0 and streamer.channels[0].stats.sent >= 500,
                    30,
                    "500 sent",
                )
        assert len(store.docs) == 500
        assert store.conflicts == 500  # the second run's creates were all duplicates
        check_numbered(store.messages(), {"a": 500})
    finally:
        await store.stop()


async def test_truncation_of_unread_bytes_without_a_copy_is_counted_and_logged(
    tmp_path: Path, loki: LokiStore
) -> None:
    logs = logs_dir(tmp_path)
    log = logs / "a.log"
    s = http_settings(
        tmp_path, f"loki:{loki.url}", buffer_records=20, batch_records=10, read_slice=2048
    )
    loki.fail_next = [(503, None)] * 10_000
    append(log, (numbered("a", i) for i in range(1000)))
    async with embedded(s) as streamer:
        channel = streamer.channels[0]
        await async_wait_until(lambda: channel.buffered >= 20, 30, "a full buffer")
        log.write_text("after truncation\n")  # truncated while the store is down: no copy
        loki.fail_next = []
        await async_wait_until(lambda: "after truncation" in loki.lines(), 60, "the new content")
        assert streamer.tailer is not None
        lost = streamer.tailer.state.dropped_bytes.get("truncated_unread", 0)
    line_bytes = len(numbered("a", 0)) + 1
    delivered = [line for line in loki.lines() if line != "after truncation"]
    check_numbered(delivered, {"a": len(delivered)})
    # every byte is accounted for: delivered, or counted as lost
    assert lost > 0
    assert len(delivered) * line_bytes + lost == 1000 * line_bytes


async def test_disk_buffer_lets_files_go_while_the_store_is_down_across_a_restart(
    tmp_path: Path, loki: LokiStore
) -> None:
    logs = logs_dir(tmp_path)
    log = logs / "a.log"
    s = http_settings(
        tmp_path,
        f"loki:{loki.url}",
        buffer_records=20,
        batch_records=10,
        disk_buffer_size=2 * 1024 * 1024,
        shutdown_grace=0.5,
    )
    loki.fail_next = [(503, None)] * 100_000
    append(log, (numbered("a", i) for i in range(2000)))
    async with embedded(s) as streamer:
        channel = streamer.channels[0]
        # everything is read (memory, then disk), so the file may go
        await async_wait_until(lambda: channel.spooled_bytes > 0, 30, "records on disk")
        assert streamer.tailer is not None
        await async_wait_until(
            lambda: streamer.tailer.state.files[str(log)].bytes == log.stat().st_size,
            30,
            "the whole file read",
        )
        log.unlink()
    # stopped while the store is still down: the disk buffer is checkpointed, not lost
    assert not log.exists()
    async with embedded(s) as streamer:
        loki.fail_next = []
        await async_wait_until(lambda: len(loki.lines()) >= 2000, 60, "every line")
        await async_wait_until(
            lambda: streamer.channels[0].spooled_bytes == 0, 30, "an empty spool"
        )
    check_numbered(loki.lines(), {"a": 2000})


async def test_a_full_disk_buffer_stops_the_reader_instead_of_dropping(
    tmp_path: Path, loki: LokiStore
) -> None:
    logs = logs_dir(tmp_path)
    log = logs / "a.log"
    s = http_settings(
        tmp_path,
        f"loki:{loki.url}",
        buffer_records=20,
        batch_records=10,
        disk_buffer_size=20_000,
        read_slice=4096,
    )
    loki.fail_next = [(503, None)] * 100_000
    append(log, (numbered("a", i) for i in range(2000)))
    async with embedded(s) as streamer:
        channel = streamer.channels[0]
        await async_wait_until(lambda: channel.spooled_bytes > 10_000, 30, "a filling spool")
        assert streamer.tailer is not None
        await async_wait_until(
            lambda: streamer.tailer.state.files[str(log)].behind > 0, 30, "the reader held back"
        )
        assert channel.spooled_bytes <= 20_000
        loki.fail_next = []
        await async_wait_until(lambda: len(loki.lines()) >= 2000, 60, "every line")
    check_numbered(loki.lines(), {"a": 2000})
