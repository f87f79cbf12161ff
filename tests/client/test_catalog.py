"""imagewire_client.catalog: the public catalog API (providers, serving, keys, endpoints) over the real spec."""

from __future__ import annotations

import pytest

import imagewire_client
from imagewire_client import ImagewireError, catalog
from imagewire_client.catalog import MODELS, PROVIDERS, UnknownProviderError


def test_every_public_name_resolves() -> None:
    assert len(set(catalog.__all__)) == len(catalog.__all__)
    for name in catalog.__all__:
        assert getattr(catalog, name) is not None, name
    assert imagewire_client.catalog is catalog
    assert imagewire_client.PROVIDERS is catalog.PROVIDERS and imagewire_client.Provider is catalog.Provider


def test_unknown_provider_names_the_known_ones() -> None:
    with pytest.raises(UnknownProviderError, match="known providers: openai, azure"):
        catalog.provider("nope")
    assert catalog.provider(PROVIDERS["azure"]) is PROVIDERS["azure"]


def test_a_table_provider_serves_what_its_table_lists_with_its_overrides() -> None:
    openai = PROVIDERS["openai"]
    assert openai.model_table is not None and openai.catalog() is openai.model_table
    assert catalog.serves("openai", "gpt-image-2", "edits")
    assert not catalog.serves("openai", "gpt-image-2", "variations")  # not an operation it offers
    assert not openai.serves("dall-e-3")  # retired at the vendor, not in its table
    assert openai.offers("no-such-model") == ()
    bothub = PROVIDERS["bothub"]
    served = bothub.served("dall-e-3")
    assert served is not None and served.lifecycle.status == "live"  # retired at OpenAI, still sold there
    assert MODELS["dall-e-3"].lifecycle.gone and not served.lifecycle.gone
    assert "bothub" in catalog.providers_serving("dall-e-3")
    assert catalog.providers_serving("dall-e-3", "edits") == []


def test_an_any_model_provider_serves_retired_models_only_when_it_says_so() -> None:
    generic, local = PROVIDERS["generic"], PROVIDERS["local"]
    assert generic.model_table is None and generic.catalog() is MODELS
    assert not generic.serves("dall-e-3") and local.serves("dall-e-3", "generations")
    live = next(m for m, model in MODELS.items() if not model.lifecycle.gone and "generations" in model.operations)
    assert generic.served(live) is MODELS[live] and generic.serves(live, "generations")


def test_key_variables_and_resolution() -> None:
    assert catalog.key_variable(None) == catalog.DEFAULT_KEY_VARIABLE == "OPENAI_API_KEY"
    assert catalog.key_variable("azure") == PROVIDERS["azure"].key_variable == "AZURE_OPENAI_API_KEY"
    assert catalog.key_variables()[0] == "OPENAI_API_KEY"
    assert len(set(catalog.key_variables())) == len(catalog.key_variables())
    env = {"AZURE_OPENAI_API_KEY": "from-env", "OPENAI_API_KEY": ""}
    assert catalog.api_key("azure", None, env) == "from-env"
    assert catalog.api_key("azure", "given", env) == "given"
    assert catalog.api_key(None, None, env) is None  # empty counts as unset
    assert PROVIDERS["local"].key_required is False and PROVIDERS["openai"].key_required is True
    assert PROVIDERS["azure"].key_header == "api-key" and PROVIDERS["openai"].key_header == "Authorization"


def test_endpoints_fill_placeholders_query_and_headers() -> None:
    azure = catalog.endpoint(
        "azure", settings={"resource": "r 1", "deployment": "d", "api_version": "2025-04-01"}, environ={}
    )
    assert azure.base_url == "https://r%201.openai.azure.com/openai/deployments/d"
    assert dict(azure.query) == {"api-version": "2025-04-01"} and dict(azure.headers) == {}
    assert azure.url("generations") == azure.base_url + "/images/generations"
    with pytest.raises(ImagewireError, match=r"provider .azure. needs resource=\.\.\. or set AZURE_OPENAI_RESOURCE"):
        catalog.endpoint("azure", environ={})
    assert catalog.PLAIN is PROVIDERS["openai"]  # spec/providers.yaml: plain
    assert catalog.BASE_URL_VARIABLE == PROVIDERS["openai"].base_url_env == "OPENAI_BASE_URL"
    plain = catalog.endpoint(None, settings={"organization": "org"}, environ={"OPENAI_PROJECT_ID": "proj"})
    assert plain.base_url == catalog.DEFAULT_BASE_URL.rstrip("/")
    assert dict(plain.headers) == {"OpenAI-Organization": "org", "OpenAI-Project": "proj"}
    kept = catalog.endpoint(None, base_url="http://127.0.0.1:9/x/?a=1", environ={})
    assert (kept.base_url, dict(kept.query)) == ("http://127.0.0.1:9/x", {"a": "1"})
    with pytest.raises(ImagewireError, match="has no fixed address"):
        catalog.endpoint("generic", environ={})
    assert catalog.endpoint("generic", environ={"OPENAI_BASE_URL": "http://h/v1"}).base_url == "http://h/v1"
    with pytest.raises(ImagewireError, match="not an absolute http"):
        catalog.endpoint(None, base_url="ftp://h", environ={})


def test_hosts_and_quirks() -> None:
    assert (
        catalog.provider_at("https://contoso.openai.azure.com/openai/deployments/d/images/generations")
        == (PROVIDERS["azure"])
    )
    assert catalog.provider_at("http://127.0.0.1:8765/v1/images/edits") == PROVIDERS["local"]
    assert catalog.provider_at("https://unknown.example/v1") is None
    assert catalog.provider_at("not a url :///") is None
    azure = PROVIDERS["azure"]
    quirk = azure.quirk_at("/data/0/content_filter_results/hate")
    assert quirk is not None and quirk.id == "content-filter-results"
    assert azure.quirk_at("/data/0/b64_json") is None
    assert catalog.covers("/error/inner_error", "/error/inner_error/code") and not catalog.covers("/data/*/x", "/data")
    assert azure.path_prefix == "/openai/deployments/{deployment}" and PROVIDERS["generic"].path_prefix is None
    kinds = [kind for kind, _ in azure.settings]
    assert kinds == ["url", "url", "query"]
