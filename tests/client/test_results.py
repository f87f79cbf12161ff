"""The result classes: plain classes with slots, keyword-only, compared by value, unhashable, shown by their
contract fields; copied and pickled whole; reading an answer imports no class machinery (attrs)."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys

import pytest

from imagewire_client._results import Image, ImagesResponse

ANSWER = {
    "created": 1,
    "data": [{"url": "https://example.com/a.png", "revised_prompt": "p", "index": 0}],
    "usage": {"input_tokens": 3},
    "odd": 2,
}


def test_equal_by_value_unhashable_and_shown_by_contract_fields() -> None:
    result = ImagesResponse.from_dict(ANSWER)
    assert result == ImagesResponse.from_dict(ANSWER)
    assert result != ImagesResponse.from_dict({**ANSWER, "odd": 3})  # extra keys count
    assert result.data[0] != Image(url="https://example.com/a.png", revised_prompt="p")  # so does its extra
    assert Image(url="u") == Image(url="u") and Image(url="u") != Image(url="v")
    assert Image(url="u").__eq__(object()) is NotImplemented
    result.cost = 0.04  # the cost is neither compared nor shown
    assert result == ImagesResponse.from_dict(ANSWER)
    with pytest.raises(TypeError, match="unhashable"):
        hash(result)
    assert repr(result.data[0]) == "Image(b64_json=None, url='https://example.com/a.png', revised_prompt='p')"
    assert repr(result).startswith("ImagesResponse(created=1, data=[Image(") and "cost" not in repr(result)


def test_keyword_only_slotted_and_defaults_fresh() -> None:
    with pytest.raises(TypeError):
        Image("https://example.com/a.png")  # type: ignore[misc]
    image = Image(url="u")
    with pytest.raises(AttributeError):
        image.colour = "red"  # type: ignore[attr-defined]
    one, two = ImagesResponse(), ImagesResponse()
    one.data.append(image)
    one.extra["x"] = 1
    assert two.data == [] and two.extra == {} and two.warnings == [] and two.quirks == [] and two.cost is None


def test_copied_and_pickled_whole() -> None:
    result = ImagesResponse.from_dict(ANSWER)
    for twin in (copy.deepcopy(result), pickle.loads(pickle.dumps(result))):
        assert twin == result and twin.data[0].extra == {"index": 0} and twin.to_dict() == result.to_dict()


def test_reading_an_answer_imports_no_attrs() -> None:
    code = (
        "import sys\nfrom imagewire_client._results import ImagesResponse\n"
        f"ImagesResponse.from_dict({ANSWER!r})\nprint('attrs' in sys.modules, 'attr' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.split() == ["False", "False"]
