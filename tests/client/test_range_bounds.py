"""A wide integer range is checked by its bounds: a spec author's seed range 0..2**32-1 costs nothing.

The field is added the way a user adds it (one property in openapi.yaml, the model's catalog entry naming it
without bounds), the client is generated from that spec, and -1 is refused before sending, naming the
range, tracing under 10 MB (the time is printed; the suite holds no wall-clock floors).
"""

from __future__ import annotations

import importlib
import shutil
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from imagewire.generator import regen

ROOT = Path(__file__).resolve().parents[2]
SEED = """        seed:
          type: [integer, 'null']
          minimum: 0
          maximum: 4294967295
          description: A seed for repeatable images.
"""


@pytest.fixture(scope="module")
def seeded_client(tmp_path_factory: pytest.TempPathFactory) -> object:
    tmp = tmp_path_factory.mktemp("seed")
    spec = tmp / "spec"
    shutil.copytree(ROOT / "spec", spec)
    openapi = spec / "openapi.yaml"
    text = openapi.read_text(encoding="utf-8")
    at = text.index("        user:\n", text.index("    CreateImageRequest:\n"))
    openapi.write_text(text[:at] + SEED + text[at:], encoding="utf-8")
    models = spec / "models.yaml"
    text = models.read_text(encoding="utf-8")
    at = text.index("          user: {}\n", text.index("  gpt-image-2:\n"))
    models.write_text(text[:at] + "          seed: {}\n" + text[at:], encoding="utf-8")
    out = tmp / "generated_client"
    regen.regen(regen.Paths(spec=openapi, out=out))
    saved = {k: v for k, v in sys.modules.items() if k == "imagewire_client" or k.startswith("imagewire_client.")}
    for name in saved:
        del sys.modules[name]
    sys.path.insert(0, str(out))
    try:
        checks = importlib.import_module("imagewire_client._checks")
        errors = importlib.import_module("imagewire_client")
        yield checks, errors
    finally:
        sys.path.remove(str(out))
        for name in [k for k in sys.modules if k == "imagewire_client" or k.startswith("imagewire_client.")]:
            del sys.modules[name]
        sys.modules.update(saved)


def test_a_wide_range_is_refused_by_its_bounds(seeded_client: tuple[object, object]) -> None:
    checks, package = seeded_client
    assert "seed" in checks.MODELS["gpt-image-2"].operations["generations"].params  # type: ignore[attr-defined]
    client = package.Client(provider="openai", api_key="k")  # type: ignore[attr-defined]
    checks.check("generations", {"model": "gpt-image-2", "prompt": "p", "seed": 4294967295})  # type: ignore[attr-defined]
    with pytest.raises(package.ValidationError):  # type: ignore[attr-defined]
        client.images.generate(model="gpt-image-2", prompt="p", seed=-2)  # first use loads the client's modules
    timings = []
    for _ in range(5):  # the best of five: the check's own cost, not the machine's load
        tracemalloc.start()
        start = time.perf_counter()
        with pytest.raises(package.ValidationError) as caught:  # type: ignore[attr-defined]
            client.images.generate(model="gpt-image-2", prompt="p", seed=-1)
        timings.append(time.perf_counter() - start)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    seconds = min(timings)
    assert "0 to 4294967295" in str(caught.value)
    assert caught.value.field == "seed" and caught.value.allowed is None
    print(f"seed -1 refused in {seconds * 1000:.3f} ms, peak {peak} bytes traced")  # speed: no floor in the suite
    assert peak < 10 * 1024 * 1024, peak
