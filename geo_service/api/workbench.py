"""The workbench (`/workbench/`): pages for surveyors, reviewers, inspectors, admins and planners.

The service renders each page from its template (``templates/workbench/<page>.html``, Jinja2 with autoescape);
its behaviour is one small script per page under ``/static/workbench/`` calling the `/v1` API with the session
cookie and the CSRF token. No inline scripts (the policy allows only files from this origin), no asset from
outside. A page asks to sign in when no one is, and shows only what the person's role may do.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from geo_service import i18n
from geo_service.api.deps import EngineDep, SettingsDep
from geo_service.api.identity import identify
from geo_service.db.models import DIVISION_LEVELS, MARKER_STATUSES, PLACE_NAME_CATEGORIES
from geo_service.domain.crs import NAMED_CRS
from geo_service.services import csp, workbench_choices
from geo_service.services.keys import Caller
from geo_service.settings import Settings

router = APIRouter(prefix="/workbench", include_in_schema=False)

LANG_COOKIE = "wb_lang"
GEOMAN = "vendor/leaflet-geoman-free-2.20.2"
#: Every script is a file of this origin: no inline script, no hash needed.
POLICY = csp.header(csp.Page("", ()))


@dataclass(frozen=True)
class PageSpec:
    """A workbench page: who may open it and whether it draws a map."""

    role: str
    map: bool = False
    draw: bool = False


#: The pages in the order the navigation lists them.
PAGES: dict[str, PageSpec] = {
    "propose": PageSpec("surveyor", map=True, draw=True),
    "mine": PageSpec("surveyor"),
    "upload": PageSpec("surveyor"),
    "inspect": PageSpec("surveyor", map=True),
    "review": PageSpec("reviewer", map=True),
    "plan": PageSpec("surveyor", map=True),
    "admin": PageSpec("admin"),
}


@cache
def templates() -> Environment:
    """The pages' Jinja2 environment (every value escaped unless a template says otherwise) and catalogues."""
    i18n.load_all()
    return Environment(
        loader=PackageLoader("geo_service", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _home(caller: Caller) -> str:
    if caller.has("admin"):
        return "/workbench/admin"
    return "/workbench/review" if caller.has("reviewer") else "/workbench/propose"


def _local(target: str | None) -> str | None:
    """A place to return to after signing in or switching language: a workbench path of this service only."""
    if target and target.startswith("/workbench/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def _basemap(settings: Settings) -> dict[str, str]:
    """What the map component draws under the data: nothing, OSM, AMap (GCJ-02) or a tile URL of one's own."""
    choice = settings.basemap.strip()
    if choice in ("", "none"):
        return {"kind": "none", "url": "", "subdomains": ""}
    if choice == "amap":
        return {"kind": "amap", "url": settings.tiles_amap_url, "subdomains": settings.tiles_amap_subdomains}
    if choice == "osm":
        return {"kind": "osm", "url": settings.tiles_osm_url, "subdomains": "abc"}
    return {"kind": "url", "url": choice, "subdomains": "abc"}


def _render(request: Request, template: str, lang: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page in the chosen language under the workbench's policy, never kept by caches."""
    settings: Settings = request.app.state.settings
    user: Caller | None = context.get("user")
    config = {
        "lang": lang,
        "messages": i18n.messages(lang),
        "basemap": _basemap(settings),
        "page": context.get("page", ""),
        "district": user.district if user else None,
        "user": user.name if user else None,
    }
    html = (
        templates()
        .get_template(f"workbench/{template}")
        .render(
            t=lambda key: i18n.gettext(lang, key),
            lang=lang,
            other_lang="en" if lang == "zh" else "zh",
            # The page's own address, whole, as one parameter (for the language switch to come back to).
            here=quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""), safe="/"),
            config=config,
            geoman=GEOMAN,
            **context,
        )
    )
    return HTMLResponse(
        html,
        status_code=status,
        headers={"Content-Security-Policy": POLICY, "Cache-Control": "no-store", "Vary": "Cookie"},
    )


async def _caller(request: Request, engine: Any) -> Caller | None:
    async with engine.connect() as conn:
        return await identify(request, conn)


@router.get("")
async def read_root() -> RedirectResponse:
    return RedirectResponse("/workbench/", status_code=308)


@router.get("/")
async def read_home(request: Request, engine: EngineDep) -> RedirectResponse:
    """The page a person starts on: the one of their role."""
    caller = await _caller(request, engine)
    return RedirectResponse(_home(caller) if caller else "/workbench/login", status_code=303)


@router.get("/login")
async def read_login(
    request: Request, next: Annotated[str | None, Query(max_length=2000)] = None
) -> Response:
    """The sign-in form."""
    lang = i18n.choose(request.cookies.get(LANG_COOKIE))
    return _render(
        request,
        "login.html",
        lang,
        page="login",
        title_key="login.title",
        user=None,
        nav=[],
        next_page=_local(next) or "",
    )


@router.get("/lang")
async def read_lang(
    to: Annotated[str, Query(max_length=5)], next: Annotated[str | None, Query(max_length=2000)] = None
) -> RedirectResponse:
    """Switch the language (kept in a cookie for a year) and go back to the page."""
    answer = RedirectResponse(_local(next) or "/workbench/", status_code=303)
    answer.set_cookie(LANG_COOKIE, i18n.choose(to), max_age=365 * 24 * 3600, samesite="lax", path="/")
    return answer


@router.get("/{name}")
async def read_page(request: Request, name: str, engine: EngineDep, settings: SettingsDep) -> Response:
    """One of the workbench's pages, for a person whose role may use it."""
    spec = PAGES.get(name)
    lang = i18n.choose(request.cookies.get(LANG_COOKIE))
    if spec is None:
        return _render(
            request,
            "message.html",
            lang,
            status=404,
            page="",
            title_key="error.not_found",
            user=None,
            nav=[],
            text_key="error.not_found",
        )
    caller = await _caller(request, engine)
    if caller is None:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/workbench/login?next={quote(here, safe='')}", status_code=303)
    nav = [n for n, s in PAGES.items() if caller.has(s.role)]
    if not caller.has(spec.role):
        return _render(
            request,
            "message.html",
            lang,
            status=403,
            page=name,
            title_key="error.forbidden",
            user=caller,
            nav=nav,
            text_key="error.forbidden",
        )
    async with engine.connect() as conn:
        choices = await workbench_choices.load(conn)
    return _render(
        request,
        f"{name}.html",
        lang,
        page=name,
        title_key=f"{name}.title",
        user=caller,
        nav=nav,
        spec=spec,
        districts=choices.districts,
        facility_types=choices.facility_types,
        categories=PLACE_NAME_CATEGORIES,
        levels=DIVISION_LEVELS,
        crs_names=NAMED_CRS,
        marker_statuses=MARKER_STATUSES,
    )
