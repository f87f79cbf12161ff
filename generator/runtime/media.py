"""Image files as the client sees them: what a file is (sniffed from its first bytes, with the MIME table)
and how input files are read and sent.

    from imagewire_client import media

    media.sniff(open("cat.png", "rb").read(64)).mime  # 'image/png'
"""

from __future__ import annotations

from ._multipart import FileInput, InputFileError, Upload, read_file
from ._multipart import encode as encode_multipart
from ._sniff import FORMATS, ImageFormat, ImageInfo, extension, sniff

__all__ = [
    "FORMATS",
    "FileInput",
    "ImageFormat",
    "ImageInfo",
    "InputFileError",
    "Upload",
    "encode_multipart",
    "extension",
    "read_file",
    "sniff",
]
