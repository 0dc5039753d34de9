"""Content-Security-Policy of the HTML pages: a page runs only the inline scripts it was built with.

Folium writes a map's code as inline ``<script>`` blocks. Instead of allowing every inline script
('unsafe-inline'), a page names the SHA-256 of each of its own, computed when it is rendered (and kept with it):
a script or an event-handler attribute smuggled in by a stored text then does not run. Escaping the texts where
the pages are built (services/maps.py) is the first line; this is the second, and a page whose script markup
is not exactly what its builder writes is refused rather than served with that markup hashed as its own.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass

#: Where a script element starts or ends, as a browser sees it (ASCII letters in any case).
_MARK = re.compile(r"<(/?)script", re.I | re.A)
#: The attributes of the script elements Folium writes: none (inline), or a src.
_ATTRS = re.compile(r'(?: src="[^"<>]*")?')
#: What every page may do besides its scripts: styles inline (Leaflet positions everything with style
#: attributes), images from anywhere (basemap tiles come from whatever tile server is configured).
_REST = "style-src 'self' 'unsafe-inline'; img-src * data: blob:; object-src 'none'; base-uri 'none'"
#: Pages with no script at all (error pages, …).
NO_SCRIPTS = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'self'"
)


class UnexpectedScript(RuntimeError):
    """A rendered page holds script markup its builder did not write (a text went unescaped)."""

    def __init__(self) -> None:
        super().__init__("the page holds script markup it was not built with: a text went unescaped")


@dataclass(frozen=True)
class Page:
    """An HTML page and the CSP sources ('sha256-…') of its inline scripts."""

    html: str
    script_hashes: tuple[str, ...]


def script_hash(body: str) -> str:
    """The CSP source allowing an inline script with this text."""
    # Browsers hash the text after the parser's newline normalisation (CR LF and CR become LF), as UTF-8.
    data = body.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    return "'sha256-" + base64.b64encode(hashlib.sha256(data).digest()).decode("ascii") + "'"


def _inline_scripts(html: str) -> list[str]:
    """The texts of the inline scripts, if every script markup is a whole element of the form Folium writes."""
    marks = list(_MARK.finditer(html))
    if len(marks) % 2:
        raise UnexpectedScript
    bodies = []
    for start, end in zip(marks[::2], marks[1::2], strict=True):
        tag_end = html.find(">", start.end())
        if (
            start.group(1)
            or not end.group(1)
            or tag_end == -1
            or not _ATTRS.fullmatch(html, start.end(), tag_end)
            or not html.startswith(">", end.end())
        ):
            raise UnexpectedScript
        if tag_end == start.end():
            bodies.append(html[tag_end + 1 : end.start()])
    return bodies


def page(html: str, inline_scripts: int) -> Page:
    """The page with the hashes of its inline scripts, which must be the ``inline_scripts`` its builder wrote."""
    bodies = _inline_scripts(html)
    if len(bodies) != inline_scripts:
        raise UnexpectedScript
    return Page(html, tuple(dict.fromkeys(script_hash(b) for b in bodies)))


def header(p: Page) -> str:
    """The Content-Security-Policy header of a page served by the service (its other scripts are /static)."""
    scripts = " ".join(("'self'", *p.script_hashes))
    return (
        f"default-src 'self'; script-src {scripts}; {_REST}; connect-src 'self'; form-action 'self'; "
        "frame-ancestors 'self'"
    )


def with_meta(html: str, script_hashes: tuple[str, ...]) -> str:
    """A page saved as a file, its policy in a ``<meta>`` (a file has no headers): every script inline, hashed."""
    policy = f"default-src 'none'; script-src {' '.join(script_hashes)}; {_REST}"
    # First in <head>: a policy applies only to what the parser meets after it.
    return html.replace(
        "<head>", f'<head>\n    <meta http-equiv="Content-Security-Policy" content="{policy}">', 1
    )
