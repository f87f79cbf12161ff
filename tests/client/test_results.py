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


_EXACT = [
    ANSWER,
    {"created": 1, "data": []},
    {"created": 1, "data": [{"b64_json": "aGk="}], "usage": {"input_tokens_details": {"text_tokens": 2}}},
]
_DEVIATING = [
    {"created": "1", "data": [{"url": "https://example.com/a.png"}]},  # integer sent as a string
    {"created": True, "data": []},
    {"created": 1.0, "data": []},
    {"data": [{"url": "https://example.com/a.png"}]},  # created missing
    {"created": None, "data": []},
    {"created": 1, "data": None},
    {"created": 1, "data": {"url": "u"}},
    {"created": 1, "data": [None]},
    {"created": 1, "data": [1, {"url": "u"}]},
    {"created": 1, "data": [{"url": 5, "odd": 1}]},
    {"created": 1, "data": [{"url": "u"}], "usage": {"input_tokens": "3"}},
    {"created": 1, "data": [{"url": "u"}], "usage": []},
    {"created": 1, "data": [{"url": "u"}], "usage": {"input_tokens_details": {"text_tokens": None}}},
]


@pytest.mark.parametrize(("answer", "exact"), [(a, True) for a in _EXACT] + [(a, False) for a in _DEVIATING])
def test_the_straight_reader_reads_as_the_tolerant_one(
    answer: dict[str, object], exact: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each class's generated reader takes an answer that is the contract exactly and gives up on any other
    (which the tolerant reader then reads, notes and all): the same objects either way."""
    from imagewire_client import _results
    from imagewire_client._model import Model

    straight = ImagesResponse._quick(answer)
    assert (straight is not None) is exact
    read = ImagesResponse.from_dict(answer)
    assert bool(read.warnings) is not exact
    for cls in vars(_results).values():
        if isinstance(cls, type) and issubclass(cls, Model):
            monkeypatch.setattr(cls, "_quick", classmethod(lambda cls, data: None))
    tolerant = ImagesResponse.from_dict(answer)
    assert read == tolerant and read.warnings == tolerant.warnings and read.extra == tolerant.extra
    assert [getattr(i, "extra", None) for i in read.data] == [getattr(i, "extra", None) for i in tolerant.data]
    if straight is not None:
        assert straight == tolerant and straight.warnings == [] and straight.quirks == []
