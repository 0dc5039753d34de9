"""The `geo-service` command line: database, sample data, imports and serving."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from geo_service.db import backup
from geo_service.db.embedded import EmbeddedError
from geo_service.db.engine import create_engine, database_url, embedded_cluster, prepare_database
from geo_service.domain.crs import UnknownCRS, to_wgs84
from geo_service.domain.errors import FeatureErrors, GeoServiceError
from geo_service.services import (
    coverage,
    coverage_map,
    csp,
    exports,
    imports,
    keys,
    map_assets,
    maps,
    sample_build,
    sample_load,
    users,
)
from geo_service.services.coverage import CoverageParams
from geo_service.services.map_parts import Tiles
from geo_service.settings import Settings

app = typer.Typer(
    help="geo_service: place names, divisions and civil-affairs facilities on PostGIS.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(
    help="The database: embedded PostGIS or the one DATABASE_URL names.", no_args_is_help=True
)
sample_app = typer.Typer(help="The shipped Guangzhou sample.", no_args_is_help=True)
import_app = typer.Typer(help="Import boundaries and facilities from vector files.", no_args_is_help=True)
map_app = typer.Typer(help="Write map pages (self-contained HTML, no network needed).", no_args_is_help=True)
export_app = typer.Typer(help="Export coverage tables and gaps for planners.", no_args_is_help=True)
keys_app = typer.Typer(
    help="API keys for writes (roles: surveyor < reviewer < editor < admin).", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
users_app = typer.Typer(help="Accounts of people who sign in to the workbench.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(map_app, name="map")
app.add_typer(export_app, name="export")
app.add_typer(sample_app, name="sample")
app.add_typer(import_app, name="import")

console = Console()
err = Console(stderr=True)
T = TypeVar("T")


def fail(message: str, details: list[str] | None = None) -> typer.Exit:
    """Print an error (and details) to stderr; return the exit to raise."""
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    for line in details or []:
        err.print(f"  - {line}", highlight=False)
    return typer.Exit(code=1)


def _ready_url(settings: Settings) -> str:
    try:
        url = database_url(settings)
        prepare_database(url)
    except EmbeddedError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot reach the database: {exc}") from None
    return url


def run_with_engine(settings: Settings, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    """Prepare the database, run an async piece of work with an engine, report domain errors cleanly."""
    url = _ready_url(settings)

    async def main() -> T:
        engine = create_engine(url, pool_size=2)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except FeatureErrors as exc:
        raise fail(exc.detail, [e["message"] for e in exc.errors[:50]]) from None
    except GeoServiceError as exc:
        raise fail(exc.detail) from None


# --- db -------------------------------------------------------------------------------------------


@db_app.command("start")
def db_start() -> None:
    """Start the embedded PostGIS (creating and migrating it the first time)."""
    settings = Settings()
    if settings.database_url:
        console.print("DATABASE_URL is set: using that server, nothing to start.")
    url = _ready_url(settings)
    console.print(f"database ready: {_display(url)}")


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded PostGIS (data kept)."""
    cluster = embedded_cluster(Settings())
    try:
        cluster.stop()
    except EmbeddedError as exc:
        raise fail(str(exc)) from None
    console.print("embedded database stopped")


@db_app.command("status")
def db_status() -> None:
    """Say where the database is and whether the embedded one runs."""
    settings = Settings()
    if settings.database_url:
        console.print(f"external database: {_display(settings.database_url)}")
        return
    cluster = embedded_cluster(settings)
    state = "running" if cluster.running() else ("stopped" if cluster.initialised() else "not created")
    console.print(f"embedded database in {cluster.pgdata} on 127.0.0.1:{cluster.port}: {state}")
    if state != "running":
        raise typer.Exit(code=3)


@db_app.command("migrate")
def db_migrate() -> None:
    """Create the database if needed and apply every migration."""
    url = _ready_url(Settings())
    console.print(f"schema up to date: {_display(url)}")


@db_app.command("dump")
def db_dump(
    file: Annotated[Path, typer.Argument(help="Where to write the dump (pg_dump custom format).")],
) -> None:
    """Back the database up to a file."""
    url = _ready_url(Settings())
    try:
        size = backup.dump(url, file)
    except EmbeddedError as exc:
        raise fail(str(exc)) from None
    console.print(f"dumped to {file} ({size / 1e6:.1f} MB)")


@db_app.command("restore")
def db_restore(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A dump made by `db dump`.")],
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: the database's contents are replaced.")
    ] = False,
) -> None:
    """Replace the database's contents by a dump (all or nothing)."""
    if not yes:
        raise fail("restoring replaces everything in the database: add --yes to go ahead")
    url = _ready_url(Settings())
    try:
        backup.restore(url, file)
    except EmbeddedError as exc:
        raise fail(str(exc)) from None
    console.print(f"restored {file}")


def _display(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# --- sample ---------------------------------------------------------------------------------------


@sample_app.command("build")
def sample_build_cmd(
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed gives the same files.")
    ] = sample_build.SEED,
    out: Annotated[Path | None, typer.Option(help="Output folder (default: data/boundaries).")] = None,
) -> None:
    """Regenerate the sample files from the real sources in data/boundaries/source."""
    settings = Settings()
    target = out or settings.sample_dir
    with _progress() as progress:
        task = progress.add_task("building the sample", total=None)
        counts = sample_build.build_sample(settings.sample_dir / "source", target, seed)
        progress.update(task, completed=1, total=1)
    _print_counts(f"sample written to {target}", counts)


@sample_app.command("load")
def sample_load_cmd() -> None:
    """Load the sample into the database; rows already there are kept (safe to repeat)."""
    settings = Settings()
    started = time.monotonic()

    async def work(engine: AsyncEngine) -> dict[str, int]:
        with _progress() as progress:
            task = progress.add_task("loading the sample", total=None)
            counts = await sample_load.load_sample(engine, settings.sample_dir)
            progress.update(task, completed=1, total=1)
        return counts

    counts = run_with_engine(settings, work)
    _print_counts(f"sample loaded in {time.monotonic() - started:.1f} s", counts)


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


def _print_counts(title: str, counts: dict[str, int]) -> None:
    table = Table(title=title)
    table.add_column("data")
    table.add_column("rows", justify="right")
    for name, count in counts.items():
        table.add_row(name, f"{count:,}")
    console.print(table)


# --- import ---------------------------------------------------------------------------------------

CrsOption = Annotated[str, typer.Option("--crs", help="Source CRS: wgs84, cgcs2000, gcj02, bd09 or EPSG:n.")]
EncodingOption = Annotated[str | None, typer.Option(help="Attribute text encoding, e.g. gb18030.")]


@import_app.command("boundaries")
def import_boundaries_cmd(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    level: Annotated[str, typer.Option(help="district, township or village.")],
    crs: CrsOption,
    encoding: EncodingOption = None,
) -> None:
    """Import division polygons (columns: code, name[, population]); existing codes are replaced."""
    report = run_with_engine(Settings(), lambda e: imports.import_boundaries(e, file, level, crs, encoding))
    _print_report(report)


@import_app.command("facilities")
def import_facilities_cmd(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    type_: Annotated[str, typer.Option("--type", help="Facility type code, e.g. elderly_canteen.")],
    crs: CrsOption,
    encoding: EncodingOption = None,
) -> None:
    """Import facility points (columns: name[, address, phone, opening_hours, capacity, status])."""
    report = run_with_engine(Settings(), lambda e: imports.import_facilities(e, file, type_, crs, encoding))
    _print_report(report)


def _print_report(report: imports.ImportReport) -> None:
    console.print(f"imported {report.rows:,} {report.what}")
    for line in report.repaired + report.warnings:
        console.print(f"  [yellow]![/] {line}", highlight=False)


# --- keys -----------------------------------------------------------------------------------------


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="surveyor, reviewer, editor or admin.")],
    name: Annotated[str, typer.Option(help="Who or what the key is for.")],
) -> None:
    """Create a key and print it once (only its hash is stored)."""

    async def work(engine: AsyncEngine) -> str:
        async with engine.begin() as conn:
            return await keys.create(conn, name, role)

    key = run_with_engine(Settings(), work)
    console.print(f"created {role} key {name!r}; store it now, it is not shown again:")
    print(key)


@keys_app.command("list")
def keys_list() -> None:
    """The keys: name, role, created, revoked (never the keys themselves)."""

    async def work(engine: AsyncEngine) -> list[dict[str, object]]:
        async with engine.connect() as conn:
            return await keys.listing(conn)

    table = Table(title="API keys")
    for col in ("name", "role", "created", "revoked"):
        table.add_column(col)
    for row in run_with_engine(Settings(), work):
        table.add_row(
            str(row["name"]),
            str(row["role"]),
            f"{row['created_at']:%Y-%m-%d %H:%M}",
            f"{row['revoked_at']:%Y-%m-%d %H:%M}" if row["revoked_at"] else "",
        )
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(name: Annotated[str, typer.Argument(help="The key's name.")]) -> None:
    """Revoke a key: it stops working at once."""

    async def work(engine: AsyncEngine) -> None:
        async with engine.begin() as conn:
            await keys.revoke(conn, name)

    run_with_engine(Settings(), work)
    console.print(f"revoked {name!r}")


# --- users ----------------------------------------------------------------------------------------


def _read_password() -> str:
    """The first line of standard input when it is not a terminal (newline stripped), else asked twice."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = typer.prompt("password (at least 10 characters)", hide_input=True)
    if typer.prompt("again", hide_input=True) != first:
        raise fail("the two passwords differ")
    return str(first)


@users_app.command("create")
def users_create(
    name: Annotated[str, typer.Argument(help="The name the person signs in with.")],
    role: Annotated[str, typer.Option(help="surveyor, reviewer, editor or admin.")],
    district: Annotated[str | None, typer.Option(help="Limit to one district (6-digit code).")] = None,
) -> None:
    """Create an account; the password is read from standard input (or asked for twice at a terminal)."""
    password = _read_password()

    async def work(engine: AsyncEngine) -> None:
        async with engine.begin() as conn:
            await users.create(conn, name, role, password, district)

    run_with_engine(Settings(), work)
    console.print(f"created {role} account {name!r}" + (f" for district {district}" if district else ""))


@users_app.command("list")
def users_list() -> None:
    """The accounts: name, role, district, created, disabled."""

    async def work(engine: AsyncEngine) -> list[dict[str, object]]:
        async with engine.connect() as conn:
            return await users.listing(conn)

    table = Table(title="Accounts")
    for col in ("name", "role", "district", "created", "disabled"):
        table.add_column(col)
    for row in run_with_engine(Settings(), work):
        disabled = f"{row['disabled_at']:%Y-%m-%d %H:%M}" if row["disabled_at"] else ""
        table.add_row(
            str(row["name"]),
            str(row["role"]),
            str(row["district_code"] or ""),
            f"{row['created_at']:%Y-%m-%d %H:%M}",
            disabled,
        )
    console.print(table)


@users_app.command("disable")
def users_disable(name: Annotated[str, typer.Argument(help="The account's name.")]) -> None:
    """Disable an account: its sessions end at once."""

    async def work(engine: AsyncEngine) -> None:
        async with engine.begin() as conn:
            await users.disable(conn, name)

    run_with_engine(Settings(), work)
    console.print(f"disabled {name!r}")


# --- maps and exports ------------------------------------------------------------------------------

OutOption = Annotated[Path, typer.Option("--out", help="File to write.")]
TypeOption = Annotated[str, typer.Option("--type", help="Facility type code, e.g. elderly_canteen.")]
RadiusOption = Annotated[float | None, typer.Option(help="Service radius in metres (default: the type's).")]
LevelOption = Annotated[str | None, typer.Option(help="district, township or village.")]
WithinOption = Annotated[str | None, typer.Option(help="Only the descendants of this division code.")]
ModeOption = Annotated[str | None, typer.Option(help="radius or presence (default: the type's).")]
BasemapOption = Annotated[str, typer.Option(help="osm or amap (AMap tiles are GCJ-02: data is converted).")]


def _write_page(out: Path, render: Callable[[AsyncConnection], Awaitable[csp.Page]]) -> None:
    settings = Settings()

    async def work(engine: AsyncEngine) -> str:
        async with engine.connect() as conn:
            return map_assets.saved(await render(conn))

    page = run_with_engine(settings, work)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    console.print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB)")


def _tiles() -> Tiles:
    settings = Settings()
    return Tiles(
        osm_url=settings.tiles_osm_url,
        amap_url=settings.tiles_amap_url,
        amap_subdomains=settings.tiles_amap_subdomains,
    )


@map_app.command("coverage")
def map_coverage(
    out: OutOption,
    type_: TypeOption,
    radius_m: RadiusOption = None,
    level: LevelOption = None,
    within: WithinOption = None,
    mode: ModeOption = None,
    basemap: BasemapOption = "osm",
) -> None:
    """Coverage map: divisions shaded by covered share, facilities, service areas."""
    _write_page(
        out,
        lambda c: coverage_map.coverage_map(
            c,
            CoverageParams(type_, radius_m, level, within, mode),
            coverage_map.PageOptions(basemap, _tiles()),
        ),
    )


@map_app.command("boundaries")
def map_boundaries(
    out: OutOption,
    district: Annotated[str | None, typer.Option(help="Only the lines of this district.")] = None,
    basemap: BasemapOption = "osm",
) -> None:
    """Boundary lines and markers coloured by status."""
    _write_page(out, lambda c: maps.boundaries_map(c, district, basemap, _tiles()))


@map_app.command("finder")
def map_finder(
    out: OutOption,
    lon: Annotated[float, typer.Option(help="Longitude of the query point.")],
    lat: Annotated[float, typer.Option(help="Latitude of the query point.")],
    type_: TypeOption,
    k: Annotated[int, typer.Option(min=1, max=100)] = 5,
    crs: Annotated[str, typer.Option(help="CRS of lon/lat: wgs84, cgcs2000, gcj02 or bd09.")] = "wgs84",
    basemap: BasemapOption = "osm",
) -> None:
    """The nearest facilities to a point, with distances."""
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise fail("lon must lie within ±180 and lat within ±90")
    try:
        x, y = (float(v) for v in to_wgs84(crs, lon, lat))
    except UnknownCRS as exc:
        raise fail(str(exc)) from None
    _write_page(out, lambda c: maps.finder_map(c, x, y, type_, k, basemap, _tiles()))


@export_app.command("coverage")
def export_coverage(
    out: OutOption,
    type_: TypeOption,
    format_: Annotated[str, typer.Option("--format", help="csv or xlsx.")] = "csv",
    radius_m: RadiusOption = None,
    level: LevelOption = None,
    within: WithinOption = None,
    mode: ModeOption = None,
) -> None:
    """The coverage table (Chinese headers), the same numbers as the API."""

    async def work(engine: AsyncEngine) -> bytes:
        async with engine.connect() as conn:
            answer = await coverage.coverage(conn, CoverageParams(type_, radius_m, level, within, mode))
            return exports.coverage_table(answer, format_)

    _write_bytes(out, run_with_engine(Settings(), work))


@export_app.command("gaps")
def export_gaps(
    out: OutOption,
    type_: TypeOption,
    format_: Annotated[str, typer.Option("--format", help="geojson or gpkg.")] = "geojson",
    radius_m: RadiusOption = None,
    level: Annotated[str, typer.Option(help="Level of the gaps.")] = "village",
    within: WithinOption = None,
    mode: ModeOption = None,
) -> None:
    """The divisions with no coverage, most people first."""

    async def work(engine: AsyncEngine) -> bytes:
        async with engine.connect() as conn:
            answer = await coverage.gaps(conn, CoverageParams(type_, radius_m, level, within, mode))
            return exports.gaps_file(answer, format_)

    _write_bytes(out, run_with_engine(Settings(), work))


def _write_bytes(out: Path, body: bytes) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(body)
    console.print(f"wrote {out} ({len(body):,} bytes)")


# --- serve ----------------------------------------------------------------------------------------


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port.")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    access_log: Annotated[bool, typer.Option(help="Log every request (costs throughput).")] = False,
) -> None:
    """Serve the API (the database is started and migrated first)."""
    import uvicorn

    settings = Settings()
    _ready_url(settings)
    host = host or settings.host
    port = port or settings.port
    console.print(f"serving on http://{host}:{port}  (docs: http://{host}:{port}/docs)")
    uvicorn.run(
        "geo_service.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=access_log,
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    app()
