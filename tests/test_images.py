"""imagewire.images: the kit's one image table (the client's formats and sniffer) and its tiny stand-ins."""

from __future__ import annotations

from imagewire import images


def test_the_table_is_the_clients_and_aliases_resolve() -> None:
    assert images.MIME["jpeg"] == "image/jpeg" and images.FORMATS["jpeg"][1] == ".jpg"
    assert images.media_type("image/JPG; q=1") == "image/jpeg"
    assert images.media_type("image/x-png") == "image/png"
    assert images.media_type(None) == ""


def test_each_tiny_image_sniffs_as_its_format() -> None:
    for fmt in images.TINY:
        data = images.tiny(fmt)
        assert images.sniff_bytes(data) == fmt
        info = images.sniff(data)
        assert info is not None and (info.width, info.height) == (1, 1)
    assert images.sniff_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'/>") is None  # no tiny stand-in for SVG
