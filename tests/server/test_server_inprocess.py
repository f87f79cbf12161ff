"""In-process use: ``make_app`` behind ``httpx.ASGITransport`` (async), with the generated AsyncClient."""

from __future__ import annotations

import asyncio

import httpx
from support.server import KEY, picture

from imagewire.server import make_app
from imagewire_client import AsyncClient
from imagewire_client.media import sniff


def test_async_client_over_asgi_transport() -> None:
    async def run() -> None:
        app = make_app("local", api_key=KEY)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, timeout=30) as http:
            client = AsyncClient(provider="local", base_url="http://imagewire.test/v1", api_key=KEY, http_client=http)
            result = await client.images.generate(model="gpt-image-1.5", prompt="in process", size="1024x1024")
            assert sniff(await result.data[0].acontent()).format == "png"  # type: ignore[union-attr]
            stream = await client.images.generate(model="gpt-image-1.5", prompt="x", stream=True, partial_images=1)
            types = [event.type async for event in stream]
            assert types == ["image_generation.partial_image", "image_generation.completed"]
            edited = await client.images.edit(model="gpt-image-1.5", prompt="p", image=picture())
            assert edited.data[0].b64_json
            control = "http://imagewire.test/_imagewire/requests"
            assert (await http.get(control)).status_code == 401  # behind the key
            log = (await http.get(control, headers={"Authorization": f"Bearer {KEY}"})).json()["requests"]
            assert [e["status"] for e in log] == [200, 200, 200]

    asyncio.run(asyncio.wait_for(run(), 60))


def test_markup_on_the_2_5_family() -> None:
    from starlette.testclient import TestClient

    client = TestClient(make_app())
    image = ("image", ("a.png", picture(), "image/png"))
    markup = ("markup", ("m.png", picture(), "image/png"))
    mask_part = ("mask", ("mask.png", picture(alpha=True), "image/png"))
    data = {"model": "gpt-image-2.5-sunburst", "prompt": "p"}
    assert client.post("/v1/images/edits", data=data, files=[image, markup]).status_code == 200
    both = client.post("/v1/images/edits", data=data, files=[image, markup, mask_part])
    assert both.status_code == 400 and both.json()["error"]["param"] == "mask"
    older = client.post("/v1/images/edits", data={**data, "model": "gpt-image-1.5"}, files=[image, markup])
    assert older.status_code == 400 and older.json()["error"]["code"] == "unknown_parameter"
