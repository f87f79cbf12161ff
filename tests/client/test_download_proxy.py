"""Image downloads through an HTTP proxy (a loopback one, ``hostile_servers.py proxy``, that answers in the
origins' stead). The address connected to is the proxy's, so the target is checked before anything is
sent: a host written as a private IP, a ``localhost`` name, or a name that resolves here to a private
address is refused; a public target is fetched through the proxy, even though the proxy itself is on
loopback; a name that does not resolve here is left to the proxy; a lookup that hangs ends at the
deadline."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hostile.hostile_harness import Server, hostile_server
from hostile.hostile_servers import PNG

from imagewire_client import APITimeoutError, AsyncClient, Client, ResponseContractError

KEY = "sk-proxy-0123456789abcdef"
#: never connected to: the proxy answers for it
PUBLIC = "http://93.184.215.14/cat.png"
#: names this test resolves itself (no DNS is asked)
NAMES = {"intranet.example": "10.1.2.3", "cdn.example": "93.184.215.14"}


#: a name whose lookup hangs until the test ends
HANGS = "slow-resolver.example"


@pytest.fixture(autouse=True)
def resolver(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    real = socket.getaddrinfo
    release = threading.Event()

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == HANGS:
            release.wait(30)
        if host in NAMES:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (NAMES[host], port))]
        if isinstance(host, str) and host.endswith(".example"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield
    release.set()


@pytest.fixture
def proxy(request: pytest.FixtureRequest) -> Iterator[Server]:
    with hostile_server("proxy", lifetime=60, url=request.param) as server:
        yield server


def downloads(server: Server) -> list[object]:
    return [entry["path"] for entry in server.received() if entry["method"] == "GET"]


def fetch(server: Server, **options: Any) -> bytes:
    http = httpx.Client(proxy=f"http://127.0.0.1:{server.port}", timeout=5)
    c = Client(api_key=KEY, base_url="http://provider.example/v1", http_client=http, max_retries=0, **options)
    result = c.images.generate(model="gpt-image-1.5", prompt="p")
    return bytes(result.data[0].content())


def afetch(server: Server, **options: Any) -> bytes:
    async def main() -> bytes:
        http = httpx.AsyncClient(proxy=f"http://127.0.0.1:{server.port}", timeout=5)
        c = AsyncClient(api_key=KEY, base_url="http://provider.example/v1", http_client=http, max_retries=0, **options)
        result = await c.images.generate(model="gpt-image-1.5", prompt="p")
        return bytes(await result.data[0].acontent())

    return asyncio.run(main())


@pytest.mark.parametrize("url", [PUBLIC, "http://cdn.example/cat.png"])
def test_a_public_target_is_fetched_through_a_loopback_proxy(url: str) -> None:
    with hostile_server("proxy", lifetime=60, url=url) as proxy:
        assert fetch(proxy) == PNG
        assert downloads(proxy) == [url]


@pytest.mark.parametrize(
    "proxy",
    [
        "http://127.0.0.1:9/internal",
        "http://[::1]:9/internal",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost:9/internal",
        "http://intranet.example/internal",
    ],
    indirect=True,
)
def test_a_private_target_is_refused_before_anything_reaches_the_proxy(proxy: Server) -> None:
    with pytest.raises(ResponseContractError, match="private"):
        fetch(proxy)
    assert downloads(proxy) == []
    assert len(proxy.received()) == 1  # the API call


@pytest.mark.parametrize("proxy", ["http://127.0.0.1:9/internal"], indirect=True)
def test_allow_private_downloads_lets_a_private_target_through_the_proxy(proxy: Server) -> None:
    assert fetch(proxy, allow_private_downloads=True) == PNG
    assert downloads(proxy) == ["http://127.0.0.1:9/internal"]


@pytest.mark.parametrize("proxy", ["http://unknown.example/cat.png"], indirect=True)
def test_a_name_that_does_not_resolve_here_is_left_to_the_proxy(proxy: Server) -> None:
    assert fetch(proxy) == PNG
    assert downloads(proxy) == ["http://unknown.example/cat.png"]


@pytest.mark.parametrize("proxy", [PUBLIC], indirect=True)
def test_async_a_public_target_is_fetched_through_a_loopback_proxy(proxy: Server) -> None:
    assert afetch(proxy) == PNG
    assert downloads(proxy) == [PUBLIC]


@pytest.mark.parametrize("proxy", ["http://127.0.0.1:9/internal", "http://intranet.example/internal"], indirect=True)
def test_async_a_private_target_is_refused_before_anything_reaches_the_proxy(proxy: Server) -> None:
    with pytest.raises(ResponseContractError, match="private"):
        afetch(proxy)
    assert downloads(proxy) == []


@pytest.mark.parametrize("proxy", [f"http://{HANGS}/cat.png"], indirect=True)
@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_a_lookup_that_hangs_ends_at_the_deadline_and_sends_nothing(proxy: Server, asynchronous: bool) -> None:
    with pytest.raises(APITimeoutError, match="the image download"):
        (afetch if asynchronous else fetch)(proxy, deadline=1.0)
    assert downloads(proxy) == []
