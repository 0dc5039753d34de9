"""Real photos and documents for attachment tests, made with Pillow: a JPEG with EXIF and GPS, PNG, WebP, PDF."""

from __future__ import annotations

import io
import random

from PIL import Image

GPS_IFD = 0x8825
MAKE = 0x010F
ORIENTATION = 0x0112


def _picture(width: int, height: int, seed: int = 1) -> Image.Image:
    rnd = random.Random(seed)
    img = Image.new("RGB", (width, height), (rnd.randrange(256), 120, 60))
    for _ in range(40):  # a few blocks, so that the picture is not one colour
        x, y = rnd.randrange(width), rnd.randrange(height)
        img.paste((rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)), (x, y, x + 30, y + 20))
    return img


def jpeg_with_gps(width: int = 800, height: int = 600, seed: int = 1, orientation: int = 1) -> bytes:
    """A JPEG whose EXIF names a camera and a GPS position in Guangzhou (as a phone writes it)."""
    exif = Image.Exif()
    exif[MAKE] = "FieldCam"
    exif[ORIENTATION] = orientation
    exif[GPS_IFD] = {1: "N", 2: (23.0, 7.0, 30.0), 3: "E", 4: (113.0, 19.0, 15.0)}
    out = io.BytesIO()
    _picture(width, height, seed).save(out, "JPEG", quality=85, exif=exif)
    return out.getvalue()


def png(width: int = 300, height: int = 200, seed: int = 2, alpha: bool = False) -> bytes:
    out = io.BytesIO()
    img = _picture(width, height, seed)
    (img.convert("RGBA") if alpha else img).save(out, "PNG")
    return out.getvalue()


def noise_png(nbytes: int) -> bytes:
    """A valid PNG of random pixels, at least ``nbytes`` long (noise does not compress)."""
    side = int((nbytes / 3) ** 0.5) + 8
    img = Image.frombytes("RGB", (side, side), random.Random(7).randbytes(side * side * 3))
    out = io.BytesIO()
    img.save(out, "PNG", compress_level=0)
    return out.getvalue()


def webp(width: int = 300, height: int = 200, seed: int = 3) -> bytes:
    out = io.BytesIO()
    _picture(width, height, seed).save(out, "WEBP", quality=80)
    return out.getvalue()


def pdf(seed: int = 4) -> bytes:
    """A one-page PDF (an approval document scanned to PDF)."""
    out = io.BytesIO()
    _picture(400, 560, seed).save(out, "PDF", resolution=72)
    return out.getvalue()
