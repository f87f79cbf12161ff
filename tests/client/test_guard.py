"""The client's guards against hostile answers: bounded decoding, the deadline, stream limits, addresses."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib

import pytest

from imagewire_client import _guard as guard

MB = 1024 * 1024


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def chunks(data: bytes, size: int = 65536) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def bomb(megabytes: int) -> bytes:
    engine = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return b"".join([*(engine.compress(bytes(MB)) for _ in range(megabytes)), engine.flush()])


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        (None, lambda b: b),
        ("identity", lambda b: b),
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda b: zlib.compress(b)[2:-4]),  # raw deflate, no zlib header
        ("gzip", lambda b: gzip.compress(b[:10]) + gzip.compress(b[10:])),  # two gzip members
    ],
)
def test_answers_decode_whole_within_the_limit(encoding: str | None, encode: object) -> None:
    got = guard.read_all(chunks(encode(BODY), 100), encoding, len(BODY), "the answer", guard.Deadline(None))  # type: ignore[operator]
    assert got == BODY


BODY = b'{"data": [' + b'{"b64_json": "QUJD"},' * 1000 + b"{}]}"


def refused_within_memory(compressed: bytes, encoding: str) -> None:
    """A bomb of ``encoding`` is refused at the 1 MB limit while decoding, never holding 4 MB."""
    tracemalloc.start()
    try:
        with pytest.raises(guard.LimitExceeded, match="larger than 1,048,576 bytes"):
            guard.read_all(chunks(compressed), encoding, MB, "the answer", guard.Deadline(None))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * MB


def test_a_gzip_bomb_is_refused_while_decoding_without_holding_it() -> None:
    refused_within_memory(bomb(256), "gzip")  # 256 MB once decoded, about 250 kB sent


def test_an_unknown_encoding_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported Content-Encoding 'compress'"):
        guard.read_all([b"x"], "compress", 10, "the answer", guard.Deadline(None))


def test_codings_applied_one_after_the_other_are_undone_in_turn_each_bounded() -> None:
    twice = gzip.compress(zlib.compress(BODY))  # deflate first, then gzip
    assert guard.read_all(chunks(twice, 50), "deflate, gzip", len(BODY), "the answer", guard.Deadline(None)) == BODY
    refused_within_memory(gzip.compress(bomb(64)), "gzip, gzip")  # the inner decoder is bounded too


def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    with pytest.raises(guard.LimitExceeded, match="larger than 10 bytes"):
        guard.Body(None, 10, "the answer", guard.Deadline(None), length=11)
    body = guard.Body("gzip", 10, "the answer", guard.Deadline(None), length=11)  # compressed: counted decoded
    body.add(gzip.compress(b"0123456789"))
    assert body.bytes() == b"0123456789"
    lying = guard.Body(None, 10, "the answer", guard.Deadline(None), length=5)  # the count still holds
    with pytest.raises(guard.LimitExceeded):
        lying.add(b"0123456789A")


def test_a_corrupt_coding_is_a_typed_error() -> None:
    with pytest.raises(guard.Undecodable, match="not valid gzip"):
        guard.read_all([b"not gzip at all"], "gzip", 100, "the answer", guard.Deadline(None))


def test_brotli_answers_decode_and_a_brotli_bomb_is_refused_while_decoding() -> None:
    brotli = pytest.importorskip("brotli", reason="brotli is not installed: br answers are left to httpx")
    if guard._brotli() is None:
        pytest.skip(f"brotli {brotli.__version__} decodes without an output limit (brotli >= 1.2 does)")
    assert guard.read_all(chunks(brotli.compress(BODY), 100), "br", len(BODY), "x", guard.Deadline(None)) == BODY
    refused_within_memory(brotli.compress(bytes(256 * MB), quality=5), "br")  # a few hundred bytes sent


def test_zstd_answers_decode_and_a_zstd_bomb_is_refused_while_decoding() -> None:
    zstandard = pytest.importorskip("zstandard", reason="zstandard is not installed: zstd answers are left to httpx")
    frames = zstandard.ZstdCompressor().compress(BODY[:100]) + zstandard.ZstdCompressor().compress(BODY[100:])
    assert guard.read_all(chunks(frames, 7), "zstd", len(BODY), "x", guard.Deadline(None)) == BODY
    refused_within_memory(zstandard.ZstdCompressor(level=19).compress(bytes(256 * MB)), "zstd")


def test_the_deadline_counts_across_chunks() -> None:
    clock = Clock()
    deadline = guard.Deadline(2.0, clock)
    assert deadline.bound(5.0) == 2.0 and deadline.bound(None) == 2.0

    def slow() -> object:
        for _ in range(10):
            clock.now += 1
            yield b"x"

    with pytest.raises(guard.DeadlineExceeded, match="deadline of 2 s"):
        guard.read_all(slow(), None, 100, "the answer", deadline)  # type: ignore[arg-type]
    assert guard.Deadline(None).bound(3.0) == 3.0


def test_stream_lines_events_and_their_limits() -> None:
    stream = guard.Stream(None, 64, None)
    lines = [*stream.feed(b"event: x\ndata: {}\n\n: keep-alive\r\ndata: a"), *stream.feed(b"b\n"), *stream.finish()]
    assert lines == ["event: x", "data: {}", "", ": keep-alive", "data: ab"]
    with pytest.raises(guard.LimitExceeded, match="a line of the event stream"):
        list(guard.Stream(None, 64, None).feed(b"data: " + b"A" * 100))
    with pytest.raises(guard.LimitExceeded, match="an event of the stream"):
        list(guard.Stream(None, 64, None).feed(b"data: " + b"A" * 40 + b"\ndata: " + b"A" * 40 + b"\n"))
    compressed = gzip.compress(b"data: " + b"A" * (8 * MB))  # one endless event, compressed
    with pytest.raises(guard.LimitExceeded):
        for piece in chunks(compressed):
            list(guard.Stream("gzip", MB, None).feed(piece))


def test_a_stream_of_keep_alives_only_fails_after_the_idle_time() -> None:
    clock = Clock()
    stream = guard.Stream(None, 1024, 5.0, clock)
    list(stream.feed(b"data: {}\n\n"))
    with pytest.raises(guard.DeadlineExceeded, match="no event for 5 s"):
        for _ in range(20):
            clock.now += 1
            list(stream.feed(b": keep-alive\n\n"))
    assert clock.now == 106


@pytest.mark.parametrize(
    ("address", "private"),
    [
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("192.168.0.1", True),
        ("172.16.5.4", True),
        ("169.254.169.254", True),
        ("100.100.100.200", True),
        ("100.64.0.1", True),
        ("0.0.0.0", True),
        ("::1", True),
        ("fe80::1%eth0", True),
        ("fd00:ec2::254", True),
        ("::ffff:127.0.0.1", True),
        ("localhost", True),
        ("8.8.8.8", False),
        ("2606:4700::1111", False),
    ],
)
def test_private_addresses(address: str, private: bool) -> None:
    assert guard.private_address(address) is private


def test_origins_and_limits() -> None:
    assert guard.same_origin("https://api.example.com/v1", "https://API.example.com:443/other")
    assert not guard.same_origin("https://api.example.com/v1", "http://api.example.com/v1")
    assert not guard.same_origin("http://127.0.0.1:8000/v1", "http://127.0.0.1:8001/v1")
    assert guard.DEFAULT_LIMITS.max_images(1) == 10 and guard.DEFAULT_LIMITS.max_images(4) == 16
    assert guard.Limits(images=3).max_images(10) == 3
    assert {"authorization", "api-key", "openai-organization", "cookie"} <= guard.CREDENTIAL_HEADERS
