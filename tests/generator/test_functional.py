"""Functional tests, in the style of openapi-python-client's own: a spec written here, built into a
temporary folder, imported (under a module name of its own, so it never clashes with the installed
``imagewire_client``), and called through ``api/<tag>/<operation>.sync_detailed`` against an
``httpx.MockTransport``; the tests look at the request that went out and at the parsed answer."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import io
import json
import re
import sys
import uuid
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import httpx
import pytest

from imagewire.generator import regen

OPENAPI = """\
openapi: 3.1.0
info: {title: Functional Images, version: "0.1"}
x-imagewire-catalogs: {models: models.yaml}
tags: [{name: images}]
paths:
  /images/generations:
    post:
      operationId: createImage
      tags: [images]
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/CreateImageRequest'}
      responses:
        "200":
          description: OK
          content:
            application/json:
              schema: {$ref: '#/components/schemas/ImagesResponse'}
ERROR_RESPONSES
  /images/edits:
    post:
      operationId: createImageEdit
      tags: [images]
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema: {$ref: '#/components/schemas/CreateImageEditRequest'}
          application/json:
            schema: {$ref: '#/components/schemas/CreateImageEditJsonRequest'}
      responses:
        "200":
          description: OK
          content:
            application/json:
              schema: {$ref: '#/components/schemas/ImagesResponse'}
            text/event-stream:
              schema: {type: string}
ERROR_RESPONSES
components:
  responses:
    Error:
      description: error
      content:
        application/json:
          schema: {$ref: '#/components/schemas/ErrorResponse'}
  schemas:
    ImageSize:
      type: string
      enum: [auto, 256x256, 1024x1024]
    Quality:
      type: string
      enum: [low, high]
    CreateImageRequest:
      type: object
      required: [prompt]
      properties:
        prompt: {type: string}
        model: {type: string}
        n: {type: integer}
        size: {$ref: '#/components/schemas/ImageSize'}
        quality:
          anyOf:
            - {$ref: '#/components/schemas/Quality'}
            - {type: "null"}
    CreateImageEditRequest:
      type: object
      required: [image, prompt]
      properties:
        image: {type: string, format: binary}
        prompt: {type: string}
        model: {type: string}
        n: {type: integer}
    ImageReference:
      type: object
      required: [image_url]
      properties:
        image_url: {type: string}
    CreateImageEditJsonRequest:
      type: object
      required: [images, prompt]
      properties:
        images:
          type: array
          items: {$ref: '#/components/schemas/ImageReference'}
        prompt: {type: string}
        n: {type: integer}
    Image:
      type: object
      properties:
        url: {type: [string, "null"]}
        b64_json: {type: [string, "null"]}
    ImagesResponse:
      type: object
      required: [created]
      properties:
        created: {type: integer}
        data:
          type: array
          items: {$ref: '#/components/schemas/Image'}
    Error:
      type: object
      required: [message]
      properties:
        message: {type: string}
        code: {type: [string, "null"]}
    ErrorResponse:
      type: object
      required: [error]
      properties:
        error: {$ref: '#/components/schemas/Error'}
""".replace(
    "ERROR_RESPONSES\n",
    "".join(
        f"        {status}: {{$ref: '#/components/responses/Error'}}\n"
        for status in (
            '"400"',
            '"401"',
            '"403"',
            '"404"',
            '"409"',
            '"413"',
            '"415"',
            '"422"',
            '"429"',
            '"500"',
            '"502"',
            '"503"',
            "default",
        )
    ),
)

MODELS = """\
version: 1
models:
  fn-1:
    title: Functional 1
    vendor: openai
    lifecycle: {status: live}
    operations:
      generations:
        params:
          n: {min: 1, max: 4}
          size: {values: [auto, 256x256, 1024x1024]}
          quality: {values: [low, high]}
        defaults: {n: 1}
      edits:
        params:
          n: {min: 1, max: 2}
        defaults: {}
        images: {min_count: 1, max_count: 2, formats: [png]}
        encodings: [multipart, json]
"""

BASE_URL = "https://api.test/v1"


@pytest.fixture(scope="module")
def pkg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], ModuleType]]:
    """Build the spec above and import the package as ``fn_<random>``; yields ``module(relative_name)``."""
    root = tmp_path_factory.mktemp("functional")
    (root / "spec").mkdir()
    (root / "spec" / "openapi.yaml").write_text(OPENAPI, encoding="utf-8")
    (root / "spec" / "models.yaml").write_text(MODELS, encoding="utf-8")
    out = root / "out"
    regen.build(regen.Paths(spec=root / "spec" / "openapi.yaml", out=out), out)
    package_dir = out / "imagewire_client"
    assert (package_dir / "api" / "images" / "create_image.py").is_file()
    assert (package_dir / "api" / "images" / "create_image_edit.py").is_file()

    alias = f"fn_{uuid.uuid4().hex[:12]}"
    spec = importlib.util.spec_from_file_location(
        alias, package_dir / "__init__.py", submodule_search_locations=[str(package_dir)]
    )
    assert spec is not None and spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    sys.modules[alias] = package
    try:
        spec.loader.exec_module(package)
        yield lambda name: importlib.import_module(f"{alias}.{name}")
    finally:
        for name in [n for n in sys.modules if n == alias or n.startswith(alias + ".")]:
            del sys.modules[name]


class Recorder:
    """An ``httpx.MockTransport`` handler that records requests and answers with a canned response."""

    def __init__(self, status: int = 200, body: Any = None, headers: dict[str, str] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.status = status
        self.body = {"created": 1700000000, "data": [{"url": "https://img.test/1.png"}]} if body is None else body
        self.headers = headers

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        if isinstance(self.body, bytes):
            return httpx.Response(self.status, content=self.body, headers=self.headers)
        return httpx.Response(self.status, json=self.body, headers=self.headers)

    @property
    def only(self) -> httpx.Request:
        assert len(self.requests) == 1, self.requests
        return self.requests[0]


def _client(pkg: Callable[[str], ModuleType], recorder: Recorder) -> Any:
    client = pkg("client").Client(base_url=BASE_URL)
    client.set_httpx_client(httpx.Client(base_url=BASE_URL, transport=httpx.MockTransport(recorder)))
    return client


def _multipart(request: httpx.Request) -> dict[str, tuple[str | None, bytes]]:
    """Form field name -> (file name, content) of a multipart/form-data request."""
    match = re.search(r"boundary=([^;]+)", request.headers["content-type"])
    assert match, request.headers["content-type"]
    boundary = match.group(1).strip('"').encode()
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in request.content.split(b"--" + boundary)[1:-1]:
        head, _, content = part.strip(b"\r\n").partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]*)"', head)
        filename = re.search(rb'filename="([^"]*)"', head)
        assert name, head
        fields[name.group(1).decode()] = (filename.group(1).decode() if filename else None, content)
    return fields


# --- JSON bodies ----------------------------------------------------------------------------------------


def test_json_request_sends_only_the_fields_set_and_parses_the_answer(pkg: Callable[[str], ModuleType]) -> None:
    api = pkg("api.images.create_image")
    models = pkg("models")
    recorder = Recorder()

    response = api.sync_detailed(client=_client(pkg, recorder), body=models.CreateImageRequest(prompt="a cat", n=2))

    sent = recorder.only
    assert (sent.method, sent.url.path) == ("POST", "/v1/images/generations")
    assert sent.headers["content-type"] == "application/json"
    assert json.loads(sent.content) == {"prompt": "a cat", "n": 2}
    assert response.status_code == 200
    parsed = response.parsed
    assert isinstance(parsed, models.ImagesResponse)
    assert parsed.created == 1700000000
    assert [image.url for image in parsed.data] == ["https://img.test/1.png"]


def test_enum_members_get_readable_names_and_send_their_values(pkg: Callable[[str], ModuleType]) -> None:
    models = pkg("models")
    assert models.ImageSize.SIZE_1024X1024.value == "1024x1024"
    assert models.ImageSize.AUTO.value == "auto"
    recorder = Recorder()
    body = models.CreateImageRequest(prompt="p", size=models.ImageSize.SIZE_256X256, quality=models.Quality.HIGH)

    pkg("api.images.create_image").sync_detailed(client=_client(pkg, recorder), body=body)

    assert json.loads(recorder.only.content) == {"prompt": "p", "size": "256x256", "quality": "high"}


def test_nullable_field_set_to_none_is_sent_as_null(pkg: Callable[[str], ModuleType]) -> None:
    models = pkg("models")
    recorder = Recorder()
    pkg("api.images.create_image").sync_detailed(
        client=_client(pkg, recorder), body=models.CreateImageRequest(prompt="p", quality=None)
    )
    assert json.loads(recorder.only.content) == {"prompt": "p", "quality": None}


@pytest.mark.parametrize("status", [400, 429, 503, 418])
def test_error_answers_are_parsed_into_the_error_envelope(pkg: Callable[[str], ModuleType], status: int) -> None:
    models = pkg("models")
    recorder = Recorder(status, {"error": {"message": "slow down", "code": "rate_limit"}})

    response = pkg("api.images.create_image").sync_detailed(
        client=_client(pkg, recorder), body=models.CreateImageRequest(prompt="p")
    )

    assert response.status_code == status
    assert isinstance(response.parsed, models.ErrorResponse)
    assert (response.parsed.error.message, response.parsed.error.code) == ("slow down", "rate_limit")


def test_unknown_answer_keys_are_kept_not_rejected(pkg: Callable[[str], ModuleType]) -> None:
    models = pkg("models")
    recorder = Recorder(body={"created": 1, "data": [], "usage": {"total_tokens": 3}})
    response = pkg("api.images.create_image").sync_detailed(
        client=_client(pkg, recorder), body=models.CreateImageRequest(prompt="p")
    )
    assert response.parsed.created == 1
    assert response.parsed.additional_properties == {"usage": {"total_tokens": 3}}


# --- an operation with two request bodies (multipart upload or JSON) -----------------------------------


def test_multipart_body_uploads_the_file_and_only_the_fields_set(pkg: Callable[[str], ModuleType]) -> None:
    models = pkg("models")
    types = pkg("types")
    recorder = Recorder()
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(32))
    body = models.CreateImageEditRequest(
        image=types.File(payload=io.BytesIO(png), file_name="in.png", mime_type="image/png"), prompt="add a hat"
    )

    response = pkg("api.images.create_image_edit").sync_detailed(client=_client(pkg, recorder), body=body)

    sent = recorder.only
    assert (sent.method, sent.url.path) == ("POST", "/v1/images/edits")
    assert sent.headers["content-type"].startswith("multipart/form-data; boundary=")
    fields = _multipart(sent)
    assert set(fields) == {"image", "prompt"}
    assert fields["image"] == ("in.png", png)
    assert fields["prompt"] == (None, b"add a hat")
    assert isinstance(response.parsed, models.ImagesResponse)


def test_json_alternative_of_the_same_operation(pkg: Callable[[str], ModuleType]) -> None:
    models = pkg("models")
    recorder = Recorder()
    body = models.CreateImageEditJsonRequest(
        images=[models.ImageReference(image_url="https://img.test/in.png")], prompt="add a hat", n=1
    )

    pkg("api.images.create_image_edit").sync_detailed(client=_client(pkg, recorder), body=body)

    sent = recorder.only
    assert sent.headers["content-type"] == "application/json"
    assert json.loads(sent.content) == {
        "images": [{"image_url": "https://img.test/in.png"}],
        "prompt": "add a hat",
        "n": 1,
    }


@pytest.mark.xfail(
    strict=True,
    reason="openapi-python-client#1451: with several request content types the body is generated as "
    "`body: A | B | Unset = UNSET` even when requestBody is required; generator/engine.py _patch only "
    "adds the missing `Unset` import, so a caller may omit the body and a POST without one goes out",
)
def test_a_required_body_with_two_content_types_is_a_required_argument(pkg: Callable[[str], ModuleType]) -> None:
    for name in ("_get_kwargs", "sync_detailed", "sync", "asyncio_detailed", "asyncio"):
        function = getattr(pkg("api.images.create_image_edit"), name)
        assert inspect.signature(function).parameters["body"].default is inspect.Parameter.empty, name
