"""Bytes -> records: line split with offsets, size bound, multi-line, held partial lines."""

from __future__ import annotations

import re

from podkit.log_streamer.records import BuilderStats, Multiline, RecordBuilder


def builder(**kw: object) -> RecordBuilder:
    options: dict[str, object] = {"max_size": 1024, "partial_timeout": 1.0}
    options.update(kw)
    return RecordBuilder("k", "/p", 0, **options)  # type: ignore[arg-type]


def test_lines_carry_their_byte_ranges_and_ids() -> None:
    b = builder()
    records = b.feed(b"one\ntwo\n", 0.0)
    assert [(r.data, r.start, r.end, r.id) for r in records] == [
        (b"one", 0, 4, "k:0"),
        (b"two", 4, 8, "k:4"),
    ]
    assert not b.held


def test_unterminated_line_is_held_until_completed() -> None:
    b = builder()
    assert b.feed(b"par", 0.0) == []
    assert b.held
    records = b.feed(b"tial\nnext", 0.5)
    assert [(r.data, r.start, r.end) for r in records] == [(b"partial", 0, 8)]
    assert b.expire(0.6) == []


def test_unterminated_line_goes_out_after_the_timeout() -> None:
    stats = BuilderStats()
    b = builder(stats=stats)
    b.feed(b"a\nhalf", 0.0)
    assert b.due(0.0) == 1.0
    assert b.expire(0.9) == []
    [record] = b.expire(1.0)
    assert (record.data, record.start, record.end) == (b"half", 2, 6)
    assert stats.partial == 1
    # the rest of that line, when it comes, is a record of its own
    [rest] = b.feed(b" more\n", 2.0)
    assert (rest.data, rest.start, rest.end) == (b" more", 6, 12)


def test_long_lines_are_split_and_counted() -> None:
    stats = BuilderStats()
    b = builder(max_size=4, stats=stats)
    records = b.feed(b"abcdefghij\nxy\n", 0.0)
    assert [(r.data, r.start, r.end, r.split) for r in records] == [
        (b"abcd", 0, 4, True),
        (b"efgh", 4, 8, True),
        (b"ij", 8, 11, True),
        (b"xy", 11, 14, False),
    ]
    assert stats.split == 1


def test_a_long_unterminated_line_is_not_held_forever() -> None:
    b = builder(max_size=4)
    records = b.feed(b"abcdefghij", 0.0)
    assert [r.data for r in records] == [b"abcd", b"efgh"]
    assert [r.data for r in b.feed(b"k\n", 0.1)] == [b"ijk"]


def test_invalid_utf8_is_kept_byte_for_byte() -> None:
    b = builder()
    [record] = b.feed(b"caf\xe9 \xff\n", 0.0)
    assert record.data == b"caf\xe9 \xff"
    assert record.text() == "caf\\xe9 \\xff"


def test_multiline_start_pattern_joins_stack_traces() -> None:
    ml = Multiline(start=re.compile(rb"^\d{4}-"), timeout=1.0)
    b = builder(multiline=ml)
    data = b"2024-01 boom\n  at a\n  at b\n2024-02 next\n"
    records = b.feed(data, 0.0)
    assert [(r.data, r.start, r.end) for r in records] == [
        (b"2024-01 boom\n  at a\n  at b", 0, 27),
    ]
    assert b.held
    assert b.expire(0.5) == []
    [last] = b.expire(1.0)
    assert (last.data, last.start, last.end) == (b"2024-02 next", 27, 40)


def test_multiline_continuation_pattern_and_line_bound() -> None:
    ml = Multiline(continuation=re.compile(rb"^\s"), max_lines=2)
    b = builder(multiline=ml)
    records = b.feed(b"E1\n a\n b\nE2\n", 0.0)
    records += b.expire(0.0, force=True)
    assert [r.data for r in records] == [b"E1\n a", b" b", b"E2"]


def test_multiline_size_bound() -> None:
    ml = Multiline(continuation=re.compile(rb"^\s"))
    b = builder(multiline=ml, max_size=8)
    records = b.feed(b"E1\n aa\n bbbb\n", 0.0) + b.expire(0.0, force=True)
    assert [r.data for r in records] == [b"E1\n aa", b" bbbb"]


def test_offsets_continue_across_feeds() -> None:
    b = RecordBuilder("k", "/p", 100, max_size=64, partial_timeout=1.0)
    first = b.feed(b"ab", 0.0)
    second = b.feed(b"c\nd\n", 0.0)
    assert first == []
    assert [(r.data, r.start, r.end) for r in second] == [(b"abc", 100, 104), (b"d", 104, 106)]
