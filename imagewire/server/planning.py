"""Deciding how to serve a request that was read: the model (the body's, the deployment's, else the
default), the model's limits and the model catalog's checks (``imagewire_client``'s ``check``, failures
worded as OpenAI words them), whether the inputs are usable, the safety refusal, and the :class:`Plan` of
what to render and how to answer."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from imagewire.server.errors import ApiError, quote_list
from imagewire.server.personas import Persona
from imagewire.server.reading import Parsed
from imagewire_client.catalog import MODELS, CheckError, OperationRules, check
from imagewire_client.media import Upload

__all__ = [
    "MARKER",
    "Plan",
    "check_request",
    "inputs_usable",
    "limits",
    "model_for",
    "moderation",
    "plan",
]

#: the moderation marker word: a prompt holding it is refused
MARKER = re.compile(r"(?i)\bforbidden\b")

_SAFE = {"filtered": False, "severity": "safe"}
#: Azure's content filter results, every category safe
FILTER_RESULTS = {"hate": _SAFE, "self_harm": _SAFE, "sexual": _SAFE, "violence": _SAFE}
#: request fields that do not change the picture (how it is delivered, who asked)
_NOT_IN_SEED = frozenset(
    ("images", "mask", "stream", "partial_images", "user", "safety_identifier", "response_format", "moderation")
)


@dataclass(frozen=True)
class Plan:
    """What to render and how to answer."""

    op: str
    model: str
    gpt: bool
    revised_prompt: bool
    output_tokens: Mapping[str, int]
    width: int
    height: int
    quality: str | None
    background: str | None
    output_format: str
    compression: int | None
    response_format: str
    n: int
    prompt: str
    partial_images: int
    stream: bool
    seed_fields: Mapping[str, Any]
    inputs: tuple[bytes, ...]
    mask: bytes | None
    #: the effective safety identifier (safety_identifier, else user) GPT image answers echo
    safety_identifier: str | None = None
    #: the SVG author model (``svg.model``; the image model when not named)
    svg_model: str | None = None

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"


def model_for(persona: Persona, op: str, fields: Mapping[str, Any], deployment: str | None) -> str:
    """The model a request is served by: the body's, the deployment's (Azure), else the default."""
    body_model = fields.get("model")
    if persona.model_from_deployment and deployment:
        known = {m.lower(): m for m in MODELS}
        if deployment.lower() in known:
            return known[deployment.lower()]  # the deployment decides; a model in the body is ignored
        if isinstance(body_model, str) and body_model in persona.models:
            return body_model  # stands in for whatever the deployment runs
        return _default_model(persona, op)
    if isinstance(body_model, str):
        return body_model
    return _default_model(persona, op)


def _default_model(persona: Persona, op: str) -> str:
    """The provider catalog's default model for ``op``; a request to a persona that has none must name one."""
    model = persona.default_models.get(op)
    if model is None:
        raise ApiError(400, "Missing required parameter: 'model'.", param="model", code="missing_required_parameter")
    return model


def limits(model_id: str, rules: OperationRules, parsed: Parsed) -> None:
    """413 for an input file over the model's limit (from the sizes received: nothing is read for it)."""
    spec = rules.images
    if spec is not None and spec.max_bytes is not None:
        for part, size in parsed.sizes("image"):
            if size > spec.max_bytes:
                raise _file_too_large(part, size, spec.max_bytes, model_id, "per image")
    mask = rules.mask
    if mask is not None and mask.max_bytes is not None:
        for part, size in parsed.sizes("mask"):
            if size > mask.max_bytes:
                raise _file_too_large(part, size, mask.max_bytes, model_id, "as a mask")


def check_request(persona: Persona, op: str, model_id: str, parsed: Parsed) -> None:
    """The model catalog's checks, failures worded as OpenAI words them."""
    fields = dict(parsed.fields)
    fields["model"] = model_id
    if parsed.markup is not None:
        fields["markup"] = parsed.markup
    try:
        check(
            op,
            fields,
            images=parsed.images,
            mask=parsed.mask,
            encoding=parsed.encoding,
            models=persona.models,
            allow_retired=True,
        )
    except CheckError as err:
        raise _from_check(err, fields, parsed) from None


def inputs_usable(model_id: str, rules: OperationRules, parsed: Parsed) -> None:
    """Every input decodes; a model whose catalog asks for transparency without a mask gets it."""
    inputs: list[tuple[str, Upload | None]] = [*zip(parsed.image_parts, parsed.images, strict=False)]
    inputs.append(("mask", parsed.mask))
    for part, upload in inputs:
        if upload is not None and (upload.info is None or upload.info.width is None):
            raise ApiError(
                400,
                f"Invalid file '{part}': the data is not a readable image.",
                param=str(part).split("[", 1)[0],
                code="invalid_image",
            )
    needs_alpha = rules.images is not None and rules.images.alpha_without_mask
    if needs_alpha and parsed.mask is None and parsed.images:
        info = parsed.images[0].info
        if info is not None and info.has_alpha is False:
            raise ApiError(
                400,
                f"Invalid input image: without a mask, {model_id} needs an image with transparency "
                "(its transparent areas mark where to edit).",
                param="image",
                code="invalid_image",
            )


def moderation(persona: Persona, model_id: str, rules: OperationRules, request_id: str) -> ApiError:
    """The refusal of a prompt the safety system blocks (the marker word, or the fault)."""
    gpt = persona.answer(model_id).style == "gpt-image"
    extra: dict[str, Any] = {}
    if gpt:
        message = (
            "Your request was rejected by the safety system. If you believe this is an error, contact us at "
            f"help.openai.com and include the request ID {request_id}."
        )
        kind, code, param = "image_generation_user_error", "moderation_blocked", None
        extra["moderation_details"] = {"moderation_stage": "input", "categories": ["violence"]}
    else:
        message = "Your request was rejected as a result of our safety system"
        kind, code, param = "invalid_request_error", "content_policy_violation", None
    if persona.has("content-filter-inner-error"):
        param = "prompt"
        extra["inner_error"] = {
            "code": "ResponsibleAIPolicyViolation",
            "content_filter_results": {**FILTER_RESULTS, "violence": {"filtered": True, "severity": "high"}},
        }
    return ApiError(400, message, type=kind, param=param, code=code, extra=extra)


def plan(persona: Persona, op: str, model_id: str, rules: OperationRules, parsed: Parsed) -> Plan:
    """What to render and how to answer."""
    f = parsed.fields
    defaults = rules.defaults
    answer = persona.answer(model_id)
    gpt = answer.style == "gpt-image"
    size = f.get("size") or defaults.get("size")
    width, height = _size(size)
    quality: str | None
    background: str | None
    if gpt:
        quality = str(f.get("quality") or defaults.get("quality") or "auto")
        quality = "medium" if quality == "auto" else quality
        background = "transparent" if f.get("background") == "transparent" else "opaque"
        output_format = str(f.get("output_format") or defaults.get("output_format") or "png")
        compression = f.get("output_compression")
        response_format = "b64_json"
    else:
        quality = str(f["quality"]) if f.get("quality") else None
        background = None
        jpeg = persona.has("jpeg-in-b64", model_id)
        output_format = "jpeg" if jpeg else "png"
        compression = None
        response_format = str(f.get("response_format") or defaults.get("response_format") or "url")
    seed_fields = {k: v for k, v in sorted(f.items()) if k not in _NOT_IN_SEED}
    seed_fields |= {"op": op, "model": model_id, "size": f"{width}x{height}", "output_format": output_format}
    inputs = tuple(u.data for u in parsed.images)
    return Plan(
        op=op,
        model=model_id,
        gpt=gpt,
        revised_prompt=answer.revised_prompt,
        output_tokens=answer.output_tokens,
        width=width,
        height=height,
        quality=quality,
        background=background,
        output_format=output_format,
        compression=compression if isinstance(compression, int) and not isinstance(compression, bool) else None,
        response_format=response_format,
        n=int(f.get("n") or 1),
        prompt=str(f.get("prompt") or ""),
        partial_images=int(f.get("partial_images") or 0),
        stream=f.get("stream") is True,
        seed_fields=seed_fields,
        inputs=inputs,
        mask=parsed.mask.data if parsed.mask is not None else None,
        safety_identifier=str(f.get("safety_identifier") or f.get("user") or "") or None,
        svg_model=str((f.get("svg") or {}).get("model") or model_id) if output_format == "svg" else None,
    )


def _file_too_large(part: str, size: int, limit: int, model: str, what: str) -> ApiError:
    return ApiError(
        413,
        f"Invalid file '{part}': {size:,} bytes is too large; {model} takes at most {limit:,} bytes {what}.",
        param=part.split("[", 1)[0],
        code="file_too_large",
    )


def _size(value: Any) -> tuple[int, int]:
    if isinstance(value, str):
        w, sep, h = value.partition("x")
        if sep and w.isdigit() and h.isdigit() and int(w) > 0 and int(h) > 0:
            return int(w), int(h)
    return 1024, 1024  # auto, or no default known


def _from_check(err: CheckError, fields: Mapping[str, Any], parsed: Parsed) -> ApiError:
    """A catalog check failure as OpenAI words it."""
    name = err.field
    value = fields.get(name) if name else None
    shown = getattr(value, "value", value)
    text = err.message[:1].upper() + err.message[1:]
    if err.rule == "param" or (err.rule == "encoding" and name):
        return ApiError(400, f"Unknown parameter: '{name}'.", param=name, code="unknown_parameter")
    if err.rule == "values" and err.allowed:
        return ApiError(
            400,
            f"Invalid value: '{shown}'. Supported values are: {quote_list(err.allowed)}.",
            param=name,
            code="invalid_value",
        )
    if err.rule in ("values", "size"):
        return ApiError(400, f"Invalid value: '{shown}'. {text}.", param=name, code="invalid_value")
    if err.rule in ("n", "range") or err.rule.startswith("rule:"):
        return ApiError(400, f"Invalid '{name}': {err.message}.", param=name, code="invalid_value")
    if err.rule == "prompt":
        return ApiError(
            400, f"Invalid 'prompt': string too long. {text}.", param="prompt", code="string_above_max_length"
        )
    if err.rule in ("images", "mask"):
        param = name or err.rule
        if param == "images" and parsed.encoding == "multipart":
            param = "image"
        return ApiError(400, f"Invalid '{param}': {err.message}.", param=param, code="invalid_image")
    if err.rule in ("model", "lifecycle"):
        model = fields.get("model")
        return ApiError(
            404, f"The model `{model}` does not exist or you do not have access to it.", code="model_not_found"
        )
    return ApiError(400, f"{text}.", param=name or "model", code="invalid_value")
