"""Server-sent events parsed as the WHATWG standard says, in any chunking."""

from __future__ import annotations

import random

import pytest
from httpx_sse._decoders import SSEDecoder, SSELineDecoder

from restflow.test import ServerSentEvent, SSEError
from restflow.test._sse import EventStreamParser


def parse(*chunks: str, strict: bool = True) -> list[ServerSentEvent]:
    parser = EventStreamParser(strict=strict)
    events = [event for chunk in chunks for event in parser.feed(chunk)]
    return events + parser.close()


def test_fields_comments_and_the_default_event_name() -> None:
    assert parse(": a comment\n\nevent: status\ndata: paid\nid: 7\n\ndata: x\n\n") == [
        ServerSentEvent(event="status", data="paid", id="7"),
        ServerSentEvent(event="message", data="x", id="7"),
    ]


def test_data_lines_are_joined_with_newlines() -> None:
    assert parse("data: one\ndata:two\ndata\ndata:  three\n\n") == [
        ServerSentEvent(data="one\ntwo\n\n three")
    ]


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_every_line_ending(end: str) -> None:
    stream = f"event: a{end}data: 1{end}{end}data: 2{end}{end}"
    assert parse(stream) == [
        ServerSentEvent(event="a", data="1"),
        ServerSentEvent(data="2"),
    ]


def test_a_byte_order_mark_at_the_start_is_dropped() -> None:
    assert parse("\ufeffdata: x\n\n") == [ServerSentEvent(data="x")]
    assert parse("\ufeff", "data: x\n\n") == [ServerSentEvent(data="x")]


def test_the_id_persists_and_a_null_in_it_is_ignored() -> None:
    assert parse(
        "id: 1\ndata: a\n\ndata: b\n\nid: 2\0\ndata: c\n\nid\ndata: d\n\n"
    ) == [
        ServerSentEvent(data="a", id="1"),
        ServerSentEvent(data="b", id="1"),
        ServerSentEvent(data="c", id="1"),
        ServerSentEvent(data="d", id=""),
    ]


def test_retry_belongs_to_its_event() -> None:
    assert parse("retry: 1500\ndata: a\n\ndata: b\n\n") == [
        ServerSentEvent(data="a", retry=1500),
        ServerSentEvent(data="b"),
    ]


def test_an_event_without_data_is_not_dispatched() -> None:
    assert parse("event: ping\n\nid: 4\n\ndata: after\n\n") == [
        ServerSentEvent(event="message", data="after", id="4")
    ]


def test_an_event_the_stream_did_not_finish_is_dropped() -> None:
    assert parse("data: done\n\ndata: never finished\n") == [
        ServerSentEvent(data="done")
    ]


def test_a_final_lone_cr_still_ends_the_event() -> None:
    assert parse("data: x\r\r") == [ServerSentEvent(data="x")]


def test_json_data() -> None:
    assert parse('data: {"a": [1, 2]}\n\n')[0].json() == {"a": [1, 2]}


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("dta: x", "'dta' is not a field of server-sent events"),
        ("retry: soon", "retry must be a number of milliseconds"),
        ("retry: -5", "retry must be a number of milliseconds"),
    ],
)
def test_strict_parsing_names_the_line(line: str, problem: str) -> None:
    with pytest.raises(SSEError) as caught:
        parse(f"data: ok\n\n{line}\n\n")
    assert str(caught.value) == (
        f"line 3 of the event stream, {line!r}: {problem}"
        + (
            " (those are event, data, id and retry; a comment starts with ':')"
            if "field" in problem
            else ""
        )
    )


def test_lenient_parsing_ignores_them_as_a_browser_does() -> None:
    assert parse("dta: x\nretry: soon\ndata: y\n\n", strict=False) == [
        ServerSentEvent(data="y")
    ]


STREAM = (
    ": keep-alive\r\n\r\n"
    'event: status\r\nid: 1\r\ndata: {"status": "paid"}\r\n\r\n'
    "data: first\ndata: second\n\n"
    "retry: 3000\revent: note\rdata: ünïcödé\r\r"
    "id: 9\ndata:no space\n\n"
)


@pytest.mark.parametrize("seed", range(20))
def test_any_chunking_gives_the_same_events(seed: int) -> None:
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(STREAM)), rng.randint(1, 30)))
    chunks = [
        STREAM[a:b] for a, b in zip([0, *cuts], [*cuts, len(STREAM)], strict=True)
    ]
    assert parse(*chunks) == parse(STREAM)


def test_same_events_as_httpx_sse_on_a_well_formed_stream() -> None:
    """httpx-sse's decoder, which our events are modelled on, agrees."""
    lines, decoder, theirs = SSELineDecoder(), SSEDecoder(), []
    for line in [*lines.decode(STREAM), *lines.flush()]:
        if (event := decoder.decode(line)) is not None:
            theirs.append((event.event, event.data, event.id, event.retry))
    ours = [(e.event, e.data, e.id, e.retry) for e in parse(STREAM)]
    assert ours == theirs
