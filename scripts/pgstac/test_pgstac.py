#!/usr/bin/env python3
"""gdal-lambda's Items in a real STAC database: pgstac on PostgreSQL/PostGIS.

Rasters made with GDAL (two UTM scenes, one across the antimeridian, one around each pole, one in
EPSG:4326, each with its own acquisition time) are uploaded to moto on loopback; the real
gdal-lambda binary answers their S3 event through run-lambda's Runtime API and writes their
Items; scripts/pgstac/load.py loads those with pypgstac's loader into pgstac, installed by
`pypgstac migrate` into a throwaway cluster (cluster.py). pgstac's own `search` is then asked by
bbox, intersecting geometry, datetime and `proj:code`, and each answer is compared with what
the rasters really cover: query points projected with PROJ (pyproj) into each raster's CRS and
tested against the extent it was made with, the times and CRS codes it was made with.

    .venv/bin/python scripts/pgstac/test_pgstac.py      (just test-pgstac)
"""

import contextlib
import datetime
import json
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path[:0] = [str(HERE), str(ROOT / "scripts"), str(ROOT / "scripts" / "lib")]

import boto3  # noqa: E402
import psycopg  # noqa: E402
from pyproj import Transformer  # noqa: E402

from backfill import BIN, start_moto  # noqa: E402
from cluster import Cluster  # noqa: E402
from load import PYPGSTAC, load  # noqa: E402
from s3_event import object_created  # noqa: E402

BUCKET = "uploads"
OUTPUT = f"s3://{BUCKET}/stac/"
COLLECTION = "uploads"

# name: (CRS, extent in it as ulx uly lrx lry, TIFF DateTime). The truths every answer is
# checked against come from these numbers, never from the Items.
RASTERS = {
    "alps summer": ("EPSG:32632", (480000, 5220000, 500000, 5200000), "2024:06:01 10:30:00"),
    "alps winter": ("EPSG:32632", (600000, 5100000, 620000, 5080000), "2024:01:20 09:00:00"),
    # UTM 60 South, central meridian 177°E: 600-900 km easting reach past 180° near Fiji.
    "fiji": ("EPSG:32760", (600000, 8150000, 900000, 8000000), "2024:07:15 22:00:00"),
    # Antarctic polar stereographic, 500 km either side of the South Pole: every longitude.
    "antarctica": ("EPSG:3031", (-500000, 500000, 500000, -500000), "2023:12:01 12:00:00"),
    # NSIDC sea ice polar stereographic north, 400 km either side of the North Pole.
    "arctic": ("EPSG:3413", (-400000, 400000, 400000, -400000), "2023:08:15 06:00:00"),
    "equator": ("EPSG:4326", (10, 1, 12, -1), "2025:01:10 08:00:00"),
}
# A PNG has no CRS: its Item has no geometry, which pgstac does not take.
UNPLACED = "scan"


def key(name):
    return f"rasters/{name}.png" if name == UNPLACED else f"rasters/{name}.tif"


def acquired(name):
    return datetime.datetime.strptime(RASTERS[name][2], "%Y:%m:%d %H:%M:%S").replace(tzinfo=datetime.timezone.utc)


def covers(name, bbox, steps=40):
    """Whether raster `name` really covers part of lon/lat `bbox`, decided by PROJ (pyproj) from
    the extent it was made with: a grid of the box's points projected into the raster's CRS and
    tested against its extent, and a grid of the raster's points projected to lon/lat and tested
    against the box (a small raster in a large box falls between the box's points)."""
    crs, (ulx, uly, lrx, lry), _ = RASTERS[name]
    west, south, east, north = bbox
    grid = [(i / steps, j / steps) for i in range(steps + 1) for j in range(steps + 1)]
    to_raster = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    for u, v in grid:
        x, y = to_raster.transform(west + (east - west) * u, south + (north - south) * v)
        if ulx <= x <= lrx and lry <= y <= uly:
            return True
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    for u, v in grid:
        lon, lat = to_lonlat.transform(ulx + (lrx - ulx) * u, lry + (uly - lry) * v)
        if west <= lon <= east and south <= lat <= north:
            return True
    return False


def make_raster(name, path):
    crs, extent, when = RASTERS[name]
    src = path.with_suffix(".src.tif")
    subprocess.run(["gdal_create", "-q", "-of", "GTiff", "-outsize", "128", "128", "-bands", "1", "-burn", "9",
                    "-a_srs", crs, "-a_ullr", *map(str, extent), "-mo", f"TIFFTAG_DATETIME={when}", str(src)],
                   check=True)
    subprocess.run(["gdal_translate", "-q", "-of", "COG", str(src), str(path)], check=True)


def parse_interval(text):
    """A STAC datetime (an instant or start/end, `..` open) as a pair of datetimes or None."""
    def at(t):
        return None if t in ("", "..") else datetime.datetime.fromisoformat(t.replace("Z", "+00:00"))
    start, _, end = text.partition("/")
    return (at(start), at(end)) if end else (at(start), at(start))


def in_interval(name, text):
    start, end = parse_interval(text)
    t = acquired(name)
    return (start is None or start <= t) and (end is None or t <= end)


class PgstacSearch(unittest.TestCase):
    """One deployment's worth of Items, loaded once; each test asks pgstac one kind of question."""

    @classmethod
    def setUpClass(cls):
        stack = contextlib.ExitStack()
        cls.addClassCleanup(stack.close)
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="stratus-pgstac-test-")))
        for binary in ("gdal-lambda", "run-lambda"):
            if not (BIN / binary).exists():
                raise RuntimeError(f"{BIN / binary} is missing: cargo build -p gdal-lambda -p run-lambda")

        with cls.timed("PostgreSQL cluster"):
            cls.pg = stack.enter_context(Cluster())
        with cls.timed("pypgstac migrate"):
            subprocess.run([PYPGSTAC, "migrate", "--dsn", cls.pg.dsn], check=True, stdout=subprocess.DEVNULL)

        log = stack.enter_context(open(work / "moto.log", "w"))
        moto, _ = start_moto(log)
        stack.callback(moto.wait)
        stack.callback(moto.terminate)
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        with cls.timed("fixture rasters (GDAL)"):
            sizes = {}
            for name in RASTERS:
                path = work / f"{name}.tif"
                make_raster(name, path)
                s3.upload_file(str(path), BUCKET, key(name))
                sizes[key(name)] = path.stat().st_size
            png = work / f"{UNPLACED}.png"
            subprocess.run(["gdal_create", "-q", "-of", "PNG", "-outsize", "64", "64", "-bands", "1", str(png)],
                           check=True)
            s3.upload_file(str(png), BUCKET, key(UNPLACED))
            sizes[key(UNPLACED)] = png.stat().st_size

        # The S3 event of the uploads, answered by the function itself.
        (work / "event.json").write_text(json.dumps(object_created(BUCKET, sizes)))
        with cls.timed("gdal-lambda (run-lambda exec)"):
            run = subprocess.run(
                [str(BIN / "run-lambda"), "exec", str(BIN / "gdal-lambda"), "--runtime", "provided.al2023",
                 "--function-name", "gdal-lambda", "--timeout", "120", "--payload", str(work / "event.json"),
                 "--output", str(work / "response.json"), "--env", f"OUTPUT_URL={OUTPUT}",
                 "--env", "AWS_LAMBDA_LOG_FORMAT=JSON"],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if run.returncode != 0:
            raise AssertionError(f"gdal-lambda failed:\n{run.stdout[-3000:]}")
        cls.response = json.loads((work / "response.json").read_text())

        with cls.timed("pypgstac load (scripts/pgstac/load.py)"):
            cls.loaded, cls.unplaced = load(OUTPUT, COLLECTION, cls.pg.dsn, s3=s3)
        cls.db = stack.enter_context(psycopg.connect(cls.pg.dsn, autocommit=True,
                                                     options="-c search_path=pgstac,public"))
        # Item ids are gdal-lambda's (derived from the key): which raster each one is.
        cls.names = {}
        cls.items = {}
        for name in [*RASTERS, UNPLACED]:
            item = json.loads(s3.get_object(Bucket=BUCKET, Key=f"stac/{key(name)}.json")["Body"].read())
            cls.names[item["id"]] = name
            cls.items[name] = item

    @classmethod
    @contextlib.contextmanager
    def timed(cls, what):
        start = time.monotonic()
        yield
        print(f"  {what}: {time.monotonic() - start:.1f} s", file=sys.stderr)

    def features(self, **body):
        body = {"collections": [COLLECTION], "limit": 100, **body}
        return self.db.execute("SELECT search(%s::jsonb)", (json.dumps(body),)).fetchone()[0]["features"]

    def search(self, **body):
        """pgstac's search: the names of the rasters whose Items it returns."""
        return {self.names[f["id"]] for f in self.features(**body)}

    def test_items_come_back_whole(self):
        # What pgstac stores and serves is the Item gdal-lambda wrote, plus the collection it was
        # filed under: nothing lost or changed by its dehydration, geometry storage or indexes.
        served = {self.names[f["id"]]: f for f in self.features()}
        self.assertEqual(set(served), set(RASTERS))
        for name, feature in served.items():
            with self.subTest(name=name):
                self.assertEqual(feature, {**self.items[name], "collection": COLLECTION})

    def test_every_upload_is_loaded(self):
        statuses = {r["key"]: r["status"] for r in self.response["records"]}
        self.assertEqual(statuses, {key(n): "processed" for n in [*RASTERS, UNPLACED]})
        # Every georeferenced raster is in pgstac; the one without a CRS is left out, by name.
        self.assertEqual(self.loaded, len(RASTERS))
        self.assertEqual([self.names[i] for i in self.unplaced], [UNPLACED])
        rows = self.db.execute("SELECT id, ST_IsValid(geometry) FROM items").fetchall()
        self.assertEqual({self.names[i]: valid for i, valid in rows}, {n: True for n in RASTERS})
        # Loading the prefix again (upsert) adds nothing.
        self.assertEqual(load(OUTPUT, COLLECTION, self.pg.dsn, s3=boto3.client("s3"))[0], len(RASTERS))
        self.assertEqual(self.db.execute("SELECT count(*) FROM items").fetchone()[0], len(RASTERS))

    def test_bbox(self):
        boxes = [
            [8.8, 47.0, 8.9, 47.1],          # in the summer Alps scene
            [179.0, -17.8, 179.9, -17.0],    # Fiji, east of the antimeridian
            [-179.9, -17.8, -179.5, -17.0],  # Fiji, west of it
            [170.0, -17.8, 175.0, -17.0],    # west of the Fiji scene: nothing
            [30.0, -89.0, 40.0, -88.0],      # near the South Pole
            [-150.0, -88.0, -140.0, -87.0],  # near it, on the other side
            [-180.0, -90.0, 180.0, -89.9],   # the pole itself
            [0.0, -80.0, 10.0, -78.0],       # Antarctica beyond the scene: nothing
            [100.0, 88.0, 110.0, 89.0],      # near the North Pole
            [-180.0, 89.9, 180.0, 90.0],     # the pole itself
            [9.5, -0.5, 10.5, 0.5],          # the equator scene's west edge
            [-180.0, -90.0, 180.0, 90.0],    # the world
        ]
        for bbox in boxes:
            truth = {n for n in RASTERS if covers(n, bbox)}
            with self.subTest(bbox=bbox):
                self.assertEqual(self.search(bbox=bbox), truth)
        # The answers are not all alike: some boxes find nothing, each raster is found.
        found = [self.search(bbox=b) for b in boxes]
        self.assertIn(set(), found)
        self.assertEqual(set().union(*found), set(RASTERS))

    def test_intersects_across_the_antimeridian(self):
        # A query area across 180° is two polygons, one either side (GeoJSON, RFC 7946).
        halves = [[179.5, -17.8, 180.0, -17.0], [-180.0, -17.8, -179.5, -17.0]]
        geometry = {"type": "MultiPolygon", "coordinates": [
            [[[w, s], [e, s], [e, n], [w, n], [w, s]]] for w, s, e, n in halves]}
        truth = {n for n in RASTERS if any(covers(n, h) for h in halves)}
        self.assertEqual(truth, {"fiji"})
        self.assertEqual(self.search(intersects=geometry), truth)

    def test_datetime(self):
        for interval in ["2024-06-01T00:00:00Z/2024-06-30T23:59:59Z",
                         "2024-01-01T00:00:00Z/2024-12-31T23:59:59Z",
                         "../2023-12-31T23:59:59Z",
                         "2025-01-10T08:00:00Z",
                         "2026-01-01T00:00:00Z/.."]:
            truth = {n for n in RASTERS if in_interval(n, interval)}
            with self.subTest(datetime=interval):
                self.assertEqual(self.search(datetime=interval), truth)

    def test_proj_code(self):
        for code in ["EPSG:32632", "EPSG:32760", "EPSG:3031", "EPSG:4326", "EPSG:3857"]:
            truth = {n for n, (crs, _, _) in RASTERS.items() if crs == code}
            with self.subTest(code=code):
                found = self.search(**{"filter-lang": "cql2-json",
                                       "filter": {"op": "=", "args": [{"property": "proj:code"}, code]}})
                self.assertEqual(found, truth)

    def test_bbox_datetime_and_code_together(self):
        bbox, interval, code = [8.0, 45.0, 11.0, 48.0], "2024-01-01T00:00:00Z/2024-03-31T23:59:59Z", "EPSG:32632"
        truth = {n for n in RASTERS if covers(n, bbox) and in_interval(n, interval) and RASTERS[n][0] == code}
        self.assertEqual(truth, {"alps winter"})
        found = self.search(bbox=bbox, datetime=interval, **{
            "filter-lang": "cql2-json", "filter": {"op": "=", "args": [{"property": "proj:code"}, code]}})
        self.assertEqual(found, truth)


def interrupted(_signum, _frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    # A cancelled run (SIGTERM, Ctrl-C) still stops the cluster and moto: unittest lets these
    # through without running the class's cleanups, so they run here.
    signal.signal(signal.SIGTERM, interrupted)
    try:
        unittest.main(verbosity=2)
    finally:
        PgstacSearch.doClassCleanups()
