"""Checks a STAC Item's geometry, bbox and spatial_resolution against truths
computed without Stratus: GDAL's `gdaltransform` (pixel/line → WGS84, through
the raster's geotransform or GCPs), shapely (validity, ring orientation,
coverage) and pyproj's geodesics.

    footprint_truth.py RASTER ITEM.json EXPECT.json
EXPECT: {"split": bool, "pole": "north"|"south"|null, "resolution": "geodesic"|number|null,
         "edges": bool (every pixel-edge sample lies inside the footprint, within its tolerance),
         "off_earth": bool (part of the raster is off the Earth: its on-Earth samples are checked),
         "band": [south, north] (the footprint is the band of all longitudes between them)}
The tolerance is the one Stratus states (docs/gdal-lambda.md): a tenth of the
pixel size at the raster's centre, at least 1 m.
"""
import json
import math
import subprocess
import sys

import pyproj
import shapely
from shapely.geometry import Point, shape

raster, item_path, expect_path = sys.argv[1:]
item = json.load(open(item_path))
expect = json.load(open(expect_path))
problems = []


def check(ok, what):
    if not ok:
        problems.append(what)


def size(path):
    out = subprocess.run(["gdalinfo", "-json", path], check=True, capture_output=True, text=True).stdout
    return json.loads(out)["size"]


def to_wgs84(points):
    """Pixel/line → (lon, lat) with gdaltransform, longitudes in [-180, 180];
    None where the point is off the Earth (the transformation fails)."""
    text = "".join(f"{x} {y}\n" for x, y in points)
    out = subprocess.run(["gdaltransform", "-t_srs", "EPSG:4326", "-output_xy", raster],
                         input=text, check=True, capture_output=True, text=True).stdout
    res = []
    for line in out.splitlines():
        try:
            lon, lat = map(float, line.split()[:2])
        except ValueError:
            res.append(None)
            continue
        ok = math.isfinite(lon) and math.isfinite(lat)
        res.append(((lon + 180.0) % 360.0 - 180.0, lat) if ok else None)
    return res


def metres_outside(geom, lon, lat):
    """How far (lon, lat) lies outside geom, in metres (0 when covered)."""
    if geom.covers(Point(lon, lat)):
        return 0.0
    # Distances from the centre of an azimuthal equidistant projection are true.
    local = pyproj.Proj(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +ellps=WGS84 +units=m")
    polys = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]
    best = math.inf
    for p in polys:
        xs, ys = local(*zip(*p.exterior.coords))
        ring = shapely.LineString([(x, y) for x, y in zip(xs, ys) if math.isfinite(x) and math.isfinite(y)])
        best = min(best, ring.distance(Point(0, 0)))
    return best


w, h = size(raster)
geom = shape(item["geometry"])
bbox = item["bbox"]
check(geom.is_valid, f"invalid geometry: {shapely.is_valid_reason(geom)}")
polys = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]
check(all(p.exterior.is_ccw for p in polys), "an outer ring is clockwise")
xs = [c[0] for p in polys for c in p.exterior.coords]
ys = [c[1] for p in polys for c in p.exterior.coords]
check(all(-180 <= x <= 180 for x in xs) and all(-90 <= y <= 90 for y in ys), "coordinates out of range")
check((geom.geom_type == "MultiPolygon") == expect["split"], f"expected split={expect['split']}, got {geom.geom_type}")
check((bbox[0] > bbox[2]) == expect["split"], f"bbox {bbox}: west > east should be {expect['split']}")

# Points inside the raster are covered, by the geometry and by the bbox; points beyond its edges are not.
fractions = [0.01, 0.25, 0.5, 0.75, 0.99]
inside = to_wgs84([(fx * w, fy * h) for fx in fractions for fy in fractions])
outside = to_wgs84([(0.5 * w, -0.15 * h), (0.5 * w, 1.15 * h), (-0.15 * w, 0.5 * h), (1.15 * w, 0.5 * h)])
slack = geom.buffer(1e-6)


def in_bbox(lon, lat):
    west, south, east, north = bbox
    in_lon = west <= lon <= east if west <= east else (lon >= west or lon <= east)
    return in_lon and south - 1e-6 <= lat <= north + 1e-6


off_earth = expect.get("off_earth", False)
check(off_earth or None not in inside + outside, "gdaltransform failed on some points")
for lon, lat in filter(None, inside):
    check(slack.covers(Point(lon, lat)), f"inside point ({lon:.4f}, {lat:.4f}) not covered")
    check(in_bbox(lon, lat), f"inside point ({lon:.4f}, {lat:.4f}) outside bbox {bbox}")
for lon, lat in filter(None, [] if expect.get("band") else outside):
    check(not geom.covers(Point(lon, lat)), f"point beyond the edge ({lon:.4f}, {lat:.4f}) covered")

res = item["assets"]["data"]["raster:bands"][0].get("spatial_resolution")
tolerance = max(1.0, res / 10) if res else 1.0
if expect.get("edges"):
    # Every pixel corner along the edges (every k-th for large rasters), or
    # for a partly off-Earth raster every on-Earth point of a grid over it.
    if off_earth:
        n = 60
        samples = [(i * w / n, j * h / n) for i in range(n + 1) for j in range(n + 1)]
    else:
        k = max(1, max(w, h) // 2000)
        samples = ([(x, 0) for x in range(0, w + 1, k)] + [(w, y) for y in range(0, h + 1, k)]
                   + [(x, h) for x in range(0, w + 1, k)] + [(0, y) for y in range(0, h + 1, k)])
    lonlat = to_wgs84(samples)
    check(sum(p is not None for p in lonlat) > len(samples) // 4, "too few samples on the Earth")
    pts = [p for p in lonlat if p is not None]
    points = shapely.points(pts)
    out = [p for p, inside in zip(pts, shapely.covers(geom, points)) if not inside]
    worst = 0.0
    if out:
        # An upper bound first: the geodesic distance to the boundary point
        # nearest in degrees; the exact distance only where that bound fails.
        lines = shapely.shortest_line(shapely.points(out), geom.boundary)
        near = shapely.get_coordinates(shapely.get_point(lines, 1))
        lons, lats = zip(*out)
        bound = pyproj.Geod(ellps="WGS84").inv(lons, lats, near[:, 0], near[:, 1])[2]
        for p, b in zip(out, bound):
            worst = max(worst, b if b <= tolerance / 2 else metres_outside(geom, *p))
    # 1e-7° rounding of the coordinates adds about a centimetre.
    check(worst <= tolerance * 1.01 + 0.02,
          f"a pixel-edge sample lies {worst:.3f} m outside the footprint (tolerance {tolerance:.3f} m)")
    print(f"edges: {len(samples)} samples, the worst at most {worst:.3f} m outside (tolerance {tolerance:.3f} m)")

band = expect.get("band")
if band:
    check(geom.geom_type == "Polygon" and bbox == [-180, band[0], 180, band[1]],
          f"expected the band {band}, got {geom.geom_type} with bbox {bbox}")

pole = expect.get("pole")
if pole:
    lat = 90.0 if pole == "north" else -90.0
    check(bbox[3 if pole == "north" else 1] == lat, f"bbox {bbox} does not reach the {pole} pole")
    check(bbox[0] == -180 and bbox[2] == 180, f"bbox {bbox} does not span all longitudes")
    near = 89.9 if pole == "north" else -89.9
    for lon in range(-180, 181, 30):
        check(slack.covers(Point(lon, near)), f"({lon}, {near}) near the pole not covered")
elif not band:
    check(-90 < bbox[1] and bbox[3] < 90, f"bbox {bbox} reaches a pole")

want = expect.get("resolution")
if want is not None:
    got = item["assets"]["data"]["raster:bands"][0]["spatial_resolution"]
    if want == "geodesic":
        (c, e, s) = to_wgs84([(w / 2, h / 2), (w / 2 + 1, h / 2), (w / 2, h / 2 + 1)])
        geod = pyproj.Geod(ellps="WGS84")
        want = (geod.inv(*c, *e)[2] + geod.inv(*c, *s)[2]) / 2
    check(abs(got - want) <= 0.005 * want, f"spatial_resolution {got} m, expected {want:.4f} m")

if problems:
    sys.exit("\n".join(problems))
print(f"ok: {geom.geom_type}, bbox {bbox}")
