"""openapi-core, fenced: the only module that imports it (as ``generator/engine.py`` fences
openapi-python-client), so its internals are touched in one place.

One :class:`Engine` per spec document (the dict ``imagewire.generator.spec`` loaded and checked with
openapi-spec-validator already, so openapi-core does not check it again) matches a request to its
operation (method, path template, server) and validates

- request bodies (``V31RequestBodyValidator``): the content type among those the operation declares, then
  the body against that media type's schema (required fields, types, enums, ranges, ``anyOf``...);
- response bodies (``V31ResponseDataValidator``): the response chosen by status (exact, ``2XX``-style range,
  else ``default``), the media type among those declared for it, then the body against its schema.

Its schema validators are compiled once per schema of the spec and reused (``_CompiledValidators``), and
its operation lookup is memoised (``_KnownOperations``): left to itself openapi-core compiles a validator
per call and stays under the 2,000 responses/s that ``scripts/bench_validate.py`` requires. Bodies are
decoded once, by the kit, and handed to openapi-core through its media-type deserializer hook
(:class:`Decoded`), so openapi-core validates exactly the value the findings name. Security (credentials
are scrubbed from recordings) and response headers are not judged.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from imagewire.check.findings import Finding, clip

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError as SchemaError
    from openapi_core import OpenAPI

__all__ = ["JSON", "MULTIPART", "UNDECODABLE", "Engine"]

JSON = "application/json"
MULTIPART = "multipart/form-data"

#: the decoded value of a body that could not be decoded (the kit has said so already)
UNDECODABLE: Any = object()


class Decoded(bytes):
    """A body as recorded, carrying the kit's decoding of it (JSON, or the fields of a multipart form).

    openapi-core's media-type deserializers (:func:`_json_loads`, :func:`_form_loads`) hand the decoded value
    back, so a body is decoded once and openapi-core validates the value the findings name. ``value`` is
    ``UNDECODABLE`` when the body could not be decoded.
    """

    value: Any

    def __new__(cls, raw: bytes, value: Any) -> Decoded:
        self = super().__new__(cls, raw or b"-")  # an empty body would read as "no body" to openapi-core
        self.value = value
        return self


def _decoded_value(value: Any, fallback: Any) -> Any:
    if isinstance(value, Decoded):
        if value.value is UNDECODABLE:
            raise ValueError("the body could not be decoded")
        return value.value
    return fallback(value)


def _json_loads(value: bytes, **parameters: str) -> Any:
    return _decoded_value(value, json.loads)


def _form_loads(value: bytes, **parameters: str) -> Any:
    from openapi_core.deserializing.media_types.util import data_form_loads

    return _decoded_value(value, lambda raw: data_form_loads(raw, **parameters))


@dataclass
class _CoreRequest:
    """An interaction's request as openapi-core reads it (``openapi_core.protocols.Request``)."""

    host_url: str
    path: str
    method: str
    body: bytes | None = None
    content_type: str = ""
    parameters: Any = None

    def __post_init__(self) -> None:
        from openapi_core.datatypes import RequestParameters

        if self.parameters is None:
            self.parameters = RequestParameters()


@dataclass
class _CoreResponse:
    """An interaction's response as openapi-core reads it (``openapi_core.protocols.Response``)."""

    status_code: int
    content_type: str
    data: bytes | None
    headers: Mapping[str, Any] = field(default_factory=dict)


def _compiled_validators() -> Any:
    """openapi-core's OAS 3.1 schema validators factory, compiling each schema of the spec once."""
    from openapi_core.validation.schemas import oas31_schema_validators_factory as default
    from openapi_core.validation.schemas.factories import DialectSchemaValidatorsFactory
    from openapi_schema_validator import OAS31_BASE_DIALECT_ID

    class _CompiledValidators(DialectSchemaValidatorsFactory):
        """Compiled validators reused per schema location (openapi-core compiles one per call otherwise)."""

        def __init__(self) -> None:
            super().__init__(default.schema_validator_cls, OAS31_BASE_DIALECT_ID, format_checker=default.format_checker)
            self.compiled: dict[tuple[Any, ...], Any] = {}

        def create(
            self,
            spec: Any,
            schema: Any,
            format_validators: Any = None,
            extra_format_validators: Any = None,
            forbid_unspecified_additional_properties: bool = False,
            enforce_properties_required: bool = False,
        ) -> Any:
            key = (
                tuple(schema.parts),
                forbid_unspecified_additional_properties,
                enforce_properties_required,
                format_validators is None and extra_format_validators is None,
            )
            compiled = self.compiled.get(key) if key[-1] else None
            if compiled is None:
                compiled = super().create(
                    spec,
                    schema,
                    format_validators,
                    extra_format_validators,
                    forbid_unspecified_additional_properties,
                    enforce_properties_required,
                )
                if key[-1]:
                    self.compiled[key] = compiled
            return compiled

    return _CompiledValidators()


def _known_operations() -> Any:
    """openapi-core's path finder, memoised: the adapters only ever ask for the spec's own operation URLs."""
    from openapi_core.templating.paths.finders import APICallPathFinder

    class _KnownOperations(APICallPathFinder):
        def __init__(self, spec: Any, base_url: str | None = None) -> None:
            super().__init__(spec, base_url=base_url)
            self._found: dict[tuple[str, str], Any] = {}

        def find(self, method: str, name: str) -> Any:
            found = self._found.get((method, name))
            if found is None:
                found = self._found[(method, name)] = super().find(method, name)
            return found

    return _KnownOperations


def _openapi(data: Mapping[str, Any], validators: Any) -> OpenAPI:
    from openapi_core import Config, OpenAPI
    from openapi_core.validation.request.validators import V31RequestBodyValidator
    from openapi_core.validation.response.validators import V31ResponseDataValidator

    config = Config(
        # imagewire.generator.spec checked the document with openapi-spec-validator already; None (openapi-core's documented
        # way to skip its own check) is missing from the annotation
        spec_validator_cls=None,  # type: ignore[arg-type]
        request_validator_cls=V31RequestBodyValidator,
        response_validator_cls=V31ResponseDataValidator,
        schema_validators_factory=validators,
        path_finder_cls=_known_operations(),
        extra_media_type_deserializers={JSON: _json_loads, MULTIPART: _form_loads},
    )
    return OpenAPI.from_dict(dict(data), config=config)


def _schema_errors(error: BaseException) -> list[SchemaError] | None:
    """The schema errors (jsonschema's) behind an openapi-core validation error; ``None`` for other errors."""
    from jsonschema.exceptions import ValidationError
    from openapi_core.validation.schemas.exceptions import InvalidSchemaValue

    cause = error.__cause__
    if isinstance(cause, InvalidSchemaValue):
        return [e for e in cause.schema_errors if isinstance(e, ValidationError)]
    return None


class Engine:
    """openapi-core over one spec document: request and response bodies validated at an operation's URL.

    ``url`` is ``(scheme://host, path under the spec's server)`` of the operation
    (:attr:`imagewire.check.operations.OperationSpec.core_url`): the provider's prefix already replaced.
    """

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._validators = _compiled_validators()
        self.openapi = _openapi(data, self._validators)
        self._request_validator = self.openapi.request_validator
        self._response_validator = self.openapi.response_validator

    @property
    def compiled_schemas(self) -> int:
        """How many schema validators openapi-core has compiled so far (each is compiled once, then reused)."""
        return len(self._validators.compiled)

    def request_errors(
        self, url: tuple[str, str], method: str, media: str, value: Any, raw: bytes
    ) -> tuple[list[SchemaError], list[Finding]]:
        """A request body (``value`` decoded from ``raw``; :data:`UNDECODABLE`: only its media type is
        checked) sent as ``media``: the schema errors (paths relative to the body), and the other problems
        worded as ``request`` findings (a media type the operation does not declare)."""
        request = _CoreRequest(url[0], url[1], method.lower(), Decoded(raw, value), media)
        schema_errors: list[SchemaError] = []
        problems: list[Finding] = []
        for error in self._request_validator.iter_errors(request):
            found = _schema_errors(error)
            if found is not None:
                schema_errors.extend(found)
            elif not _undecodable(error):
                problems.append(_request_problem(error, media))
        return schema_errors, problems

    def response_errors(
        self, url: tuple[str, str], method: str, status: int, raw: bytes, payload: Any
    ) -> tuple[list[SchemaError], list[Finding]]:
        """A JSON response body against the response openapi-core chooses by status: its schema errors, and
        the other problems as findings (no JSON declared for the status, an undeclared status)."""
        response = _CoreResponse(status, JSON, Decoded(raw, payload))
        request = _CoreRequest(url[0], url[1], method.lower())
        schema_errors: list[SchemaError] = []
        problems: list[Finding] = []
        for error in self._response_validator.iter_errors(request, response):
            found = _schema_errors(error)
            if found is not None:
                schema_errors.extend(found)
            else:
                problems.append(_response_problem(error, status))
        return schema_errors, problems


def _undecodable(error: BaseException) -> bool:
    """An openapi-core error that only says the body could not be decoded (the kit has reported that itself)."""
    from openapi_core.deserializing.media_types.exceptions import MediaTypeDeserializeError

    return isinstance(error.__cause__, MediaTypeDeserializeError)


def _request_problem(error: BaseException, media: str) -> Finding:
    from openapi_core.templating.media_types.exceptions import MediaTypeNotFound

    cause = error.__cause__
    if isinstance(cause, MediaTypeNotFound):
        accepted = sorted(cause.availableMimetypes)
        return Finding("", f"request content type {media or 'none'!r} is not one of {accepted}", "request")
    return Finding("", clip(f"openapi-core: {error}"), "request")


def _response_problem(error: BaseException, status: int) -> Finding:
    from openapi_core.templating.media_types.exceptions import MediaTypeNotFound
    from openapi_core.templating.responses.exceptions import ResponseNotFound

    cause = error.__cause__
    if isinstance(cause, MediaTypeNotFound):
        declared = " or ".join(sorted(cause.availableMimetypes)) or "no body"
        return Finding("", f"JSON, where the contract declares {declared} for status {status}", "media-type")
    if isinstance(error, ResponseNotFound):
        return Finding("", f"status {status} is not declared (and there is no default response)", "status")
    return Finding("", clip(f"openapi-core: {error}"), "schema")
