"""Build the Guangzhou sample: generated townships, villages, boundary markers, facilities and street names.

Only the district polygons, the division names and codes and the district census figures are real
(``data/boundaries/source/``). No public township or village polygons exist, so they are generated here,
deterministically from a seed: Voronoi cells of density-weighted seeds (dense near the city centre),
clipped to their parent so that children tile their parent exactly. Everything generated carries
``geometry_source = generated``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from geo_service.domain.division_names import short_township_name, short_village_name
from geo_service.domain.naming import split_name
from geo_service.domain.naming_rules import near_homophone_key
from geo_service.domain.romanize import pinyin_key, romanize, syllables

SEED = 2024
CITY_CENTRE = (113.2644, 23.1291)  # Guangzhou's historic centre (越秀), the densest point of the model
PROJECTED = "EPSG:4547"  # CGCS2000 / 3-degree Gauss-Kruger CM 114E: metres with ~70 ppm error here
GENERATED = "generated"
COORD_PRECISION = 7

_TO_M = Transformer.from_crs("EPSG:4326", PROJECTED, always_xy=True)
_TO_DEG = Transformer.from_crs(PROJECTED, "EPSG:4326", always_xy=True)


def to_metres(geom: BaseGeometry) -> BaseGeometry:
    """Project a WGS84 geometry to EPSG:4547 metres."""
    return shapely.transform(geom, lambda xy: np.column_stack(_TO_M.transform(xy[:, 0], xy[:, 1])))


def to_degrees(geom: BaseGeometry) -> BaseGeometry:
    """Unproject an EPSG:4547 geometry to WGS84."""
    return shapely.transform(geom, lambda xy: np.column_stack(_TO_DEG.transform(xy[:, 0], xy[:, 1])))


_CENTRE_M = np.array(_TO_M.transform(*CITY_CENTRE))


def density(xy: np.ndarray) -> np.ndarray:
    """Relative density of divisions at projected points: highest at the centre, falling outwards."""
    d_km = np.hypot(xy[:, 0] - _CENTRE_M[0], xy[:, 1] - _CENTRE_M[1]) / 1000.0
    return 1.0 / (d_km + 1.5) ** 1.7


def random_points_in(poly_m: BaseGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """n uniform random points inside a projected polygon (rejection sampling)."""
    minx, miny, maxx, maxy = poly_m.bounds
    shapely.prepare(poly_m)
    out: list[np.ndarray] = []
    got = 0
    while got < n:
        xs = rng.uniform(minx, maxx, 4 * n + 64)
        ys = rng.uniform(miny, maxy, 4 * n + 64)
        inside = shapely.contains_xy(poly_m, xs, ys)
        pts = np.column_stack([xs[inside], ys[inside]])
        out.append(pts)
        got += len(pts)
    return np.vstack(out)[:n]


def place_seeds(poly_m: BaseGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """n well-spread seeds whose spacing follows the density model (best-candidate sampling)."""
    pool = random_points_in(poly_m, max(300, 40 * n), rng)
    weight = density(pool)
    prob = weight / weight.sum()
    seeds: list[np.ndarray] = []
    for _ in range(n):
        idx = rng.choice(len(pool), size=12, p=prob)
        cands = pool[idx]
        if not seeds:
            seeds.append(cands[0])
            continue
        arr = np.array(seeds)
        dmin = np.min(np.hypot(cands[:, None, 0] - arr[None, :, 0], cands[:, None, 1] - arr[None, :, 1]), 1)
        score = dmin * np.sqrt(density(cands))  # spacing relative to the local expected spacing
        seeds.append(cands[int(np.argmax(score))])
    return np.array(seeds)


def _polygons(geom: BaseGeometry) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [geom] if not geom.is_empty else []
    if hasattr(geom, "geoms"):
        return [p for g in geom.geoms for p in _polygons(g)]
    return []


def as_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    """The polygonal part of a geometry as a MultiPolygon."""
    return MultiPolygon(_polygons(geom))


def tile(parent: BaseGeometry, n: int, rng: np.random.Generator) -> tuple[list[MultiPolygon], np.ndarray]:
    """Split a WGS84 polygon into n cells that tile it exactly; returns the cells and their seeds (metres)."""
    if n == 1:
        return [as_multipolygon(parent)], np.array(
            [np.array(to_metres(parent.representative_point()).coords[0])]
        )
    parent_m = to_metres(parent)
    seeds = place_seeds(parent_m, n, rng)
    minx, miny, maxx, maxy = parent_m.bounds
    frame = shapely.box(minx, miny, maxx, maxy).buffer(max(maxx - minx, maxy - miny))
    cells_m = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=frame, ordered=True)
    cells = [to_degrees(c) for c in cells_m.geoms]
    clipped = [shapely.intersection(parent, c) for c in cells]
    seeds_deg = [Point(_TO_DEG.transform(x, y)) for x, y in seeds]
    # A concave parent can cut a cell into pieces: keep the piece holding the seed and give the
    # others to the sibling they share most border with, so that every division is one piece if it can be.
    parts: list[list[Polygon]] = [[] for _ in range(n)]
    strays: list[tuple[int, Polygon]] = []
    for i, geom in enumerate(clipped):
        for poly in _polygons(geom):
            if poly.covers(seeds_deg[i]):
                parts[i].append(poly)
            else:
                strays.append((i, poly))
    for i, poly in strays:
        shared = [
            (shapely.intersection(poly.boundary, shapely.union_all(parts[j]).boundary).length, j)
            for j in range(n)
            if j != i and parts[j]
        ]
        best = max(shared, default=(0.0, i))
        parts[best[1] if best[0] > 0 else i].append(poly)
    result = []
    for i in range(n):
        merged = shapely.union_all(parts[i]) if parts[i] else clipped[i]
        result.append(as_multipolygon(shapely.make_valid(merged)))
    return result, seeds


@dataclass
class SampleSources:
    """The real inputs of the sample."""

    districts: gpd.GeoDataFrame
    townships: pd.DataFrame
    villages: pd.DataFrame
    population: pd.DataFrame


def read_sources(source_dir: Path) -> SampleSources:
    """Read the real district polygons, division codes and census figures."""
    districts = gpd.read_file(source_dir / "districts_wgs84.geojson").to_crs("EPSG:4326")
    districts["adcode"] = districts["adcode"].astype(str)
    text = {"dtype": str}
    return SampleSources(
        districts=districts,
        townships=pd.read_csv(source_dir / "townships_nbs2022.csv", **text),
        villages=pd.read_csv(source_dir / "villages_nbs2022.csv", **text),
        population=pd.read_csv(source_dir / "population_census2020_by_district.csv", **text),
    )


def _distance_rank(seeds_m: np.ndarray) -> np.ndarray:
    return np.argsort(np.hypot(seeds_m[:, 0] - _CENTRE_M[0], seeds_m[:, 1] - _CENTRE_M[1]), kind="stable")


_TOWNSHIP_ORDER = {"街道": 0, "镇": 1, "其他": 2}
_VILLAGE_ORDER = {"居委会": 0, "村委会": 1, "虚拟生活区": 2}
_VILLAGE_DENSITY = {"居委会": 1.0, "村委会": 0.3, "虚拟生活区": 0.01}


def build_divisions(src: SampleSources, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Districts (real) with generated townships and villages that tile them, and village populations."""
    rows: list[dict[str, object]] = []
    pop_by_district = dict(
        zip(src.population["district_code"], src.population["pop_resident_2020"].astype(int), strict=True)
    )
    for _, d in src.districts.sort_values("adcode").iterrows():
        code = d["adcode"]
        rows.append(
            dict(
                code=code,
                name=d["name"],
                level="district",
                kind="市辖区",
                parent_code=None,
                population=pop_by_district[code],
                geometry_source="official",
                geometry=as_multipolygon(d.geometry),
            )
        )
        towns = src.townships[src.townships["district_code"] == code].copy()
        towns["order"] = towns["town_type"].map(_TOWNSHIP_ORDER)
        towns = towns.sort_values(["order", "town_code"])
        cells, seeds = tile(d.geometry, len(towns), rng)
        # Subdistricts (街道) take the cells nearest the centre, towns (镇) the next, other units the farthest.
        for (_, t), cell_idx in zip(towns.iterrows(), _distance_rank(seeds), strict=True):
            tcell = cells[cell_idx]
            rows.append(
                dict(
                    code=t["town_code"],
                    name=t["town_name"],
                    level="township",
                    kind=t["town_type"],
                    parent_code=code,
                    population=None,
                    geometry_source=GENERATED,
                    geometry=tcell,
                )
            )
            vills = src.villages[src.villages["town_code"] == t["town_code"]].copy()
            vills["order"] = vills["village_type"].map(_VILLAGE_ORDER)
            vills = vills.sort_values(["order", "village_code"])
            vcells, vseeds = tile(tcell, len(vills), rng)
            for (_, v), vidx in zip(vills.iterrows(), _distance_rank(vseeds), strict=True):
                rows.append(
                    dict(
                        code=v["village_code"],
                        name=v["village_name"],
                        level="village",
                        kind=v["village_type"],
                        parent_code=t["town_code"],
                        population=None,
                        geometry_source=GENERATED,
                        geometry=vcells[vidx],
                    )
                )
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    _assign_populations(gdf, rng)
    return gdf


def _assign_populations(gdf: gpd.GeoDataFrame, rng: np.random.Generator) -> None:
    """Village populations from type, size and noise, scaled to each district's census total."""
    villages = gdf[gdf["level"] == "village"]
    area_km2 = villages.to_crs(PROJECTED).area / 1e6
    raw = (
        villages["kind"].map(_VILLAGE_DENSITY).astype(float)
        * np.power(area_km2.clip(lower=0.05), 0.3)
        * rng.lognormal(0.0, 0.45, len(villages))
    )
    district_of = villages["code"].str[:6]
    totals = gdf[gdf["level"] == "district"].set_index("code")["population"]
    for dcode, idx in villages.groupby(district_of).groups.items():
        share = raw.loc[idx] / raw.loc[idx].sum() * int(totals[dcode])
        base = np.floor(share).astype(int)
        remainder = int(totals[dcode]) - int(base.sum())
        order = np.argsort(-(share - base).to_numpy(), kind="stable")[:remainder]
        base.iloc[order] += 1
        gdf.loc[idx, "population"] = base
    township_pop = gdf[gdf["level"] == "village"].groupby("parent_code")["population"].sum()
    is_town = gdf["level"] == "township"
    gdf.loc[is_town, "population"] = gdf.loc[is_town, "code"].map(township_pop).fillna(0)
    gdf["population"] = gdf["population"].astype("int64")


def build_boundary_lines(districts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The shared border of every pair of adjacent districts, named 天河区—白云区."""
    rows = []
    recs = districts.sort_values("code").to_dict("records")
    for i, a in enumerate(recs):
        for b in recs[i + 1 :]:
            shared = shapely.intersection(a["geometry"].boundary, b["geometry"].boundary)
            lines = [
                g
                for g in getattr(shared, "geoms", [shared])
                if g.geom_type in ("LineString", "MultiLineString")
            ]
            if not lines or sum(g.length for g in lines) == 0:
                continue
            merged = shapely.line_merge(shapely.union_all(lines))
            multi = shapely.multilinestrings(
                [merged] if merged.geom_type == "LineString" else list(merged.geoms)
            )
            rows.append(
                dict(
                    code=f"{a['code']}-{b['code']}",
                    name=f"{a['name']}—{b['name']}",
                    left_code=a["code"],
                    right_code=b["code"],
                    geometry_source="official",
                    geometry=multi,
                )
            )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


def build_markers(lines: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Markers every ~3 km along each line, numbered from 001 west→east (or north→south), with inspections."""
    rows = []
    for line in lines.itertuples():
        line_m = to_metres(line.geometry)
        points: list[Point] = []
        for part in line_m.geoms:
            count = max(1, int(part.length // 3000))
            step = part.length / count
            points += [part.interpolate(step * (k + 0.5)) for k in range(count)]
        minx, miny, maxx, maxy = line_m.bounds
        west_east = (maxx - minx) >= (maxy - miny)
        points.sort(key=(lambda p: p.x) if west_east else (lambda p: -p.y))
        inspected = rng.random() < 0.7  # most lines had their 2021 joint inspection recorded
        inspection_day = dt.date(2021, int(rng.integers(3, 12)), int(rng.integers(1, 28)))
        for number, p in enumerate(points, start=1):
            kind = rng.choice(["single", "paired", "triple"], p=[0.85, 0.12, 0.03])
            installed = dt.date(
                int(rng.integers(2002, 2012)), int(rng.integers(1, 13)), int(rng.integers(1, 28))
            )
            history = (
                [{"status": "intact", "inspected_on": dt.date(2016, 5, 10).isoformat(), "note": "2016年联检"}]
                if installed.year < 2012
                else []
            )
            status = "intact"
            if inspected:
                status = str(
                    rng.choice(["intact", "damaged", "missing", "moved"], p=[0.86, 0.07, 0.04, 0.03])
                )
                history.append(
                    {"status": status, "inspected_on": inspection_day.isoformat(), "note": "2021年联检"}
                )
            rows.append(
                dict(
                    line_code=line.code,
                    number=f"{number:03d}",
                    kind=str(kind),
                    status=status,
                    installed_on=installed.isoformat(),
                    last_inspected_on=history[-1]["inspected_on"] if history else None,
                    inspections=history,
                    geometry_source=GENERATED,
                    geometry=to_degrees(p),
                )
            )
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    gdf.insert(0, "id", np.arange(1, len(gdf) + 1))
    return gdf


def _point_in(geom: BaseGeometry, rng: np.random.Generator) -> Point:
    """A random point clearly inside a WGS84 polygon: at least ~1 m from its border after rounding."""
    geom_m = to_metres(geom)
    for _ in range(200):
        xy = random_points_in(geom_m, 1, rng)[0]
        lon, lat = (round(v, COORD_PRECISION) for v in _TO_DEG.transform(xy[0], xy[1]))
        point = Point(lon, lat)
        if geom.contains(point) and geom.boundary.distance(point) > 1e-5:
            return point
    return geom.representative_point()


def _facility_adder(div: gpd.GeoDataFrame, rows: list[dict[str, object]]) -> Callable[..., None]:
    """A function appending one generated facility in a division to ``rows``, with its address."""
    names = div.set_index("code")["name"]

    def add(ftype: str, name: str, division: pd.Series, point: Point, **extra: object) -> None:
        code = str(division["code"])
        village = code if len(code) == 12 else None
        township = code[:9] if len(code) >= 9 else None
        addr = "广州市" + "".join(str(names[c]) for c in (code[:6], township, village) if c)
        rows.append(
            dict(
                type=ftype,
                name=name,
                address=addr,
                district_code=code[:6],
                township_code=township,
                village_code=village,
                status="active",
                geometry_source=GENERATED,
                geometry=point,
                **extra,
            )
        )

    return add


def build_facilities(div: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """The bureau's 2024 counts: 1,386 canteens, 176 stations, 2,807 points, 43 wedding points."""
    villages = div[div["level"] == "village"].reset_index(drop=True)
    townships = div[(div["level"] == "township") & (div["kind"] != "其他")].reset_index(drop=True)
    rows: list[dict[str, object]] = []
    add = _facility_adder(div, rows)

    # Canteens where people live: villages drawn by population.
    pop = villages["population"].to_numpy(dtype=float)
    picks = rng.choice(len(villages), size=1386, p=pop / pop.sum())
    seen: dict[int, int] = defaultdict(int)
    for i in picks:
        seen[i] += 1
        v = villages.iloc[i]
        suffix = "" if seen[i] == 1 else f"（第{seen[i]}点）"
        add(
            "elderly_canteen",
            f"{short_village_name(v['name'])}长者饭堂{suffix}",
            v,
            _point_in(v.geometry, rng),
            capacity=int(rng.integers(40, 300)),
            opening_hours="11:00-13:00,17:00-18:30",
        )
    for _, t in townships.iterrows():
        add(
            "social_work_station",
            f"{short_township_name(t['name'])}社工站",
            t,
            _point_in(t.geometry, rng),
            opening_hours="09:00-18:00",
        )
    # A social work point in all but 44 villages: the 7 virtual living areas and 37 drawn from the rest.
    virtual = villages.index[villages["kind"] == "虚拟生活区"].to_numpy()
    others = villages.index[villages["kind"] != "虚拟生活区"].to_numpy()
    lacking = set(virtual) | set(rng.choice(others, size=44 - len(virtual), replace=False).tolist())
    for i, v in villages.iterrows():
        if i not in lacking:
            add(
                "social_work_point",
                f"{short_village_name(v['name'])}社工点",
                v,
                _point_in(v.geometry, rng),
                opening_hours="09:00-17:30",
            )
    tpop = townships["population"].to_numpy(dtype=float)
    for i in rng.choice(len(townships), size=43, replace=False, p=tpop / tpop.sum()):
        t = townships.iloc[i]
        add(
            "wedding_cert_point",
            f"{short_township_name(t['name'])}户外颁证点",
            t,
            _point_in(t.geometry, rng),
            opening_hours="09:00-17:00",
        )
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    gdf.insert(0, "id", np.arange(1, len(gdf) + 1))
    return gdf


#: The bureau's other networks (type, count in the 2024 report), placed after the four above.
NETWORKS = (
    ("community_station", 49),
    ("assistance_platform", 40),
    ("charity_supermarket", 14),
    ("dementia_care_center", 7),
    ("policy_observation_point", 23),
    ("marriage_reform_village", 5),
)


def build_network_facilities(
    div: gpd.GeoDataFrame, rng: np.random.Generator, first_id: int
) -> gpd.GeoDataFrame:
    """The bureau's other networks at their counts, ids from ``first_id``.

    Drawn with a generator of their own so that every earlier sample row stays as it was. Community stations
    and policy observation points lie in villages and communities drawn by population, assistance platforms
    and charity supermarkets in townships drawn by population, dementia care centres one in each of seven
    districts (drawn by population, in one of their subdistricts), model villages in village committees.
    """
    villages = div[div["level"] == "village"].reset_index(drop=True)
    communities = villages[villages["kind"] == "居委会"].reset_index(drop=True)
    committees = villages[villages["kind"] == "村委会"].reset_index(drop=True)
    townships = div[(div["level"] == "township") & (div["kind"] != "其他")].reset_index(drop=True)
    districts = div[div["level"] == "district"].reset_index(drop=True)
    rows: list[dict[str, object]] = []
    adder = _facility_adder(div, rows)
    counts = dict(NETWORKS)

    def add(ftype: str, name: str, division: pd.Series, point: Point) -> None:
        adder(ftype, name, division, point, opening_hours="09:00-17:30")

    def drawn(frame: pd.DataFrame, n: int, by_population: bool = True) -> list[pd.Series]:
        weight = frame["population"].to_numpy(dtype=float) if by_population else np.ones(len(frame))
        picks = rng.choice(len(frame), size=n, replace=False, p=weight / weight.sum())
        return [frame.iloc[i] for i in picks]

    for v in drawn(communities, counts["community_station"]):
        add("community_station", f"{short_village_name(v['name'])}羊城暖湾", v, _point_in(v.geometry, rng))
    for t in drawn(townships, counts["assistance_platform"]):
        add(
            "assistance_platform",
            f"{short_township_name(t['name'])}穗救易·共助空间",
            t,
            _point_in(t.geometry, rng),
        )
    for t in drawn(townships, counts["charity_supermarket"]):
        add("charity_supermarket", f"{short_township_name(t['name'])}慈善超市", t, _point_in(t.geometry, rng))
    for d in drawn(districts, counts["dementia_care_center"]):
        streets = townships[(townships["parent_code"] == d["code"]) & (townships["kind"] == "街道")]
        t = drawn(streets if len(streets) else townships[townships["parent_code"] == d["code"]], 1)[0]
        add("dementia_care_center", f"{d['name']}认知障碍照护支持中心", t, _point_in(t.geometry, rng))
    for v in drawn(villages, counts["policy_observation_point"]):
        add(
            "policy_observation_point",
            f"{short_village_name(v['name'])}民政政策观察点",
            v,
            _point_in(v.geometry, rng),
        )
    for v in drawn(committees, counts["marriage_reform_village"], by_population=False):
        add(
            "marriage_reform_village",
            f"{short_village_name(v['name'])}婚俗改革示范村居",
            v,
            _point_in(v.geometry, rng),
        )
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    gdf.insert(0, "id", np.arange(first_id, first_id + len(gdf)))
    return gdf


_STREET_PATTERNS = [
    ("东路", "road"),
    ("西路", "road"),
    ("大道", "road"),
    ("大街", "street"),
    ("北街", "street"),
    ("直街", "street"),
    ("一巷", "alley"),
    ("二巷", "alley"),
    ("里", "alley"),
    ("南坊", "alley"),
]


def build_place_names(div: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """A few hundred rural street, road and alley names (approved, some proposed) with line geometry."""
    villages = div[(div["level"] == "village") & (div["kind"] == "村委会")]
    order = rng.permutation(len(villages))
    taken_names: set[str] = set()
    taken_keys: set[str] = set()
    rows: list[dict[str, object]] = []
    for i in order:
        if len(rows) >= 360:
            break
        v = villages.iloc[i]
        stem = short_village_name(v["name"]).removesuffix("村")
        if len(stem) < 2:
            continue
        for k in rng.choice(len(_STREET_PATTERNS), size=int(rng.integers(1, 3)), replace=False):
            suffix, category = _STREET_PATTERNS[k]
            name = stem + suffix
            key = pinyin_key(name)
            if name in taken_names or key in taken_keys:
                continue  # unique in the city, and no homophones (DOMAIN.md)
            taken_names.add(name)
            taken_keys.add(key)
            centre_m = np.array(to_metres(_point_in(v.geometry, rng)).coords[0])
            half = rng.uniform(150, 400)
            angle = rng.uniform(0, np.pi)
            d = np.array([np.cos(angle), np.sin(angle)]) * half
            line_m = LineString([centre_m - d, centre_m + d])
            line = shapely.intersection(to_degrees(shapely.segmentize(line_m, 50.0)), v.geometry)
            if line.geom_type != "LineString" or line.length == 0:
                line = LineString([v.geometry.representative_point(), _point_in(v.geometry, rng)])
            parts = split_name(name)
            proposed = len(rows) % 18 == 17
            rows.append(
                dict(
                    name=name,
                    specific=parts.specific,
                    generic=parts.generic,
                    category=category,
                    pinyin=romanize(name),
                    pinyin_key=key,
                    near_key=near_homophone_key(syllables(name)),
                    status="proposed" if proposed else "approved",
                    division_code=v["code"],
                    district_code=v["code"][:6],
                    origin=f"以所在{short_village_name(v['name'])}命名",
                    approved_on=None if proposed else dt.date(2023, 6, 30).isoformat(),
                    geometry_source=GENERATED,
                    geometry=line,
                )
            )
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    gdf.insert(0, "id", np.arange(1, len(gdf) + 1))
    return gdf


SAMPLE_FILES = ("divisions", "boundary_lines", "boundary_markers", "facilities", "place_names")


def build_sample(source_dir: Path, out_dir: Path, seed: int = SEED) -> dict[str, int]:
    """Generate every sample file into ``out_dir``; returns the row count of each."""
    rng = np.random.default_rng(seed)
    src = read_sources(source_dir)
    divisions = build_divisions(src, rng)
    lines = build_boundary_lines(divisions[divisions["level"] == "district"])
    markers = build_markers(lines, rng)
    facilities = build_facilities(divisions, rng)
    place_names = build_place_names(divisions, rng)
    networks = build_network_facilities(divisions, np.random.default_rng((seed, 1)), len(facilities) + 1)
    facilities = pd.concat([facilities, networks], ignore_index=True)
    frames = dict(zip(SAMPLE_FILES, (divisions, lines, markers, facilities, place_names), strict=True))
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame = frame.copy()
        frame["geometry"] = shapely.set_precision(frame.geometry.values, 10**-COORD_PRECISION)
        path = out_dir / f"{name}.geojson"
        path.unlink(missing_ok=True)
        frame.to_file(path, driver="GeoJSON", COORDINATE_PRECISION=COORD_PRECISION, WRITE_BBOX="NO")
    return {name: len(frame) for name, frame in frames.items()}
