"""What an attached file is, decided by its bytes (never its name): JPEG, PNG or WebP photos, PDF documents.

Photos are opened by Pillow with the one decoder their magic number names and decoded in full, so a truncated
or forged image is refused here rather than failing in a reviewer's browser. A photo's EXIF (camera, time, GPS)
stays in the stored file, which only staff read; thumbnails are drawn without it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from geo_service.domain.errors import FeatureErrors, UnsupportedMediaType
from geo_service.i18n import t

#: Pillow format → content type of the photos taken.
PHOTOS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
PDF = "application/pdf"
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", PDF: "pdf"}
#: Largest photo decoded (a 108-megapixel phone camera's); bigger ones are refused before decoding.
MAX_PIXELS = 110_000_000
THUMBNAIL_PX = 320


def accepted() -> str:
    """The kinds of file taken, in the reader's language."""
    return t("JPEG, PNG or WebP photos and PDF documents")


ACCEPTED = accepted()  # read at import, so in English: the OpenAPI description's words


@dataclass(frozen=True)
class FileFacts:
    """What the bytes of an accepted file are."""

    content_type: str
    width: int | None = None
    height: int | None = None


def sniff(data: bytes) -> str | None:
    """The content type the file's magic number declares, or None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return PDF
    return None


def _damaged(message: str) -> FeatureErrors:
    return FeatureErrors(message, [{"rule": "file", "message": message}])


def check(data: bytes) -> FileFacts:
    """The facts of an acceptable file; 415 for another kind of file, 422 for a damaged one."""
    if not data:
        raise _damaged(t("the file is empty"))
    content_type = sniff(data)
    if content_type is None:
        raise UnsupportedMediaType(
            t(
                "the file's content is none of {accepted} (its bytes decide, not its name or declared type)",
                accepted=accepted(),
            )
        )
    if content_type == PDF:
        # A complete PDF ends with its %%EOF marker (writers may add a little after it).
        if b"%%EOF" not in data[-2048:]:
            raise _damaged(t("the PDF is incomplete (no %%EOF at its end): upload the whole document"))
        return FileFacts(PDF)
    return _check_photo(data, content_type)


def _pillow_format(content_type: str) -> str:
    return next(fmt for fmt, ctype in PHOTOS.items() if ctype == content_type)


def _check_photo(data: bytes, content_type: str) -> FileFacts:
    fmt = _pillow_format(content_type)
    try:
        with Image.open(io.BytesIO(data), formats=[fmt]) as img:
            width, height = img.size
            if width * height > MAX_PIXELS:
                raise _damaged(
                    t(
                        "the photo has {width} × {height} pixels: at most {limit:,} are accepted",
                        width=width,
                        height=height,
                        limit=MAX_PIXELS,
                    )
                )
            img.load()  # decodes every pixel: a truncated or forged photo fails here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise _damaged(
            t("the file starts like a {kind} photo but cannot be read as one (damaged?)", kind=fmt)
        ) from None
    return FileFacts(content_type, width, height)


def thumbnail(data: bytes, content_type: str, size: int = THUMBNAIL_PX) -> bytes:
    """A JPEG of the photo at most ``size`` pixels across, upright, without EXIF."""
    with Image.open(io.BytesIO(data), formats=[_pillow_format(content_type)]) as img:
        img.draft("RGB", (size, size))  # JPEG decodes at a fraction of its size: far less work
        upright = ImageOps.exif_transpose(img)
        upright.thumbnail((size, size))
        if upright.mode in ("RGBA", "LA", "P"):
            rgba = upright.convert("RGBA")
            flat = Image.new("RGB", rgba.size, "white")
            flat.paste(rgba, mask=rgba.getchannel("A"))
            upright = flat
        elif upright.mode != "RGB":
            upright = upright.convert("RGB")
        out = io.BytesIO()
        upright.save(out, "JPEG", quality=82)  # no exif= given: none is written
        return out.getvalue()
