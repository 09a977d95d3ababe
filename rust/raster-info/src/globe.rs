//! Making a reprojected outline a correct GeoJSON geometry anywhere on Earth
//! (RFC 7946): cut at the antimeridian into a MultiPolygon (§3.1.9) with a
//! bbox whose west is greater than its east (§5.2), closed over a pole the
//! raster contains, one band of all longitudes when it is 360° wide or more,
//! longitudes past ±180° brought back, outer rings counter-clockwise
//! (§3.1.6), coordinates rounded to 1e-7° (about 1 cm), and valid as OGC
//! simple features ([`crate::validity`]) before it goes out.
//!
//! Pure geometry on longitude/latitude points, so that it can be tested
//! without GDAL; [`crate::footprint`] feeds it.

use serde_json::{json, Value};

use crate::union::{self, signed_area2};
use crate::validity;

type Pt = (f64, f64);

/// A pole inside the raster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pole {
    North,
    South,
}

impl Pole {
    fn lat(self) -> f64 {
        match self {
            Pole::North => 90.0,
            Pole::South => -90.0,
        }
    }
}

/// A geometry and its bbox `[west, south, east, north]`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Shape {
    pub bbox: [f64; 4],
    pub geometry: Value,
    /// Why the outline itself was not valid, when the geometry is its bbox instead.
    pub invalid: Option<String>,
}

/// Coordinates are rounded to 1e-7°.
fn round(v: f64) -> f64 {
    (v * 1e7).round() / 1e7
}

/// The geometry of a closed or open `ring` of longitude/latitude points
/// (longitudes in any range, as a projection returns them) that outlines a
/// raster containing `pole`, if any; `None` when the ring has non-finite
/// points or collapses to less than a polygon at 1e-7°.
pub(crate) fn shape(ring: &[Pt], pole: Option<Pole>) -> Option<Shape> {
    if ring.iter().any(|p| !p.0.is_finite() || !p.1.is_finite()) {
        return None;
    }
    let mut ring = unwrap(ring);
    if ring.len() > 1 && ring.first() == ring.last() {
        ring.pop();
    }
    // How far the outline turns around the Earth's axis: ±360° around a pole.
    let turn = ring
        .first()
        .zip(ring.last())
        .map(|(a, b)| b.0 - a.0 + wrap(a.0 - b.0))
        .unwrap_or(0.0);
    let around_pole = turn.abs() > 180.0;
    let pole = pole.or_else(|| {
        around_pole.then(|| {
            // No containment test succeeded: the hemisphere the outline lies in.
            let mean = ring.iter().map(|p| p.1).sum::<f64>() / ring.len() as f64;
            if mean >= 0.0 {
                Pole::North
            } else {
                Pole::South
            }
        })
    });
    let (west, east) = lon_range(&ring);
    let polygons = if !around_pole && east - west >= 360.0 {
        // All the way round: every longitude, between the outline's latitudes.
        let south = ring.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        let north = ring.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
        vec![vec![
            (-180.0, south),
            (180.0, south),
            (180.0, north),
            (-180.0, north),
        ]]
    } else {
        if around_pole {
            ring = polar_polygon(&ring, turn, pole.unwrap_or(Pole::North));
        }
        split_at_antimeridian(ring)
    };
    let polygons: Vec<Vec<Pt>> = polygons
        .into_iter()
        .map(|p| counter_clockwise(clean(p)))
        .filter(|p| p.len() >= 3)
        .collect();
    if polygons.is_empty() {
        return None;
    }
    // What goes out is valid (OGC simple features): an outline that crosses
    // itself (a GCP fit that folds, a projection beyond its domain) becomes
    // the union of what it encloses; only when even that is not valid is it
    // replaced by its bounding box, and the caller says so.
    let (polygons, invalid) = match validity::check(&polygons) {
        Ok(()) => (polygons, None),
        Err(why) => {
            let unioned: Vec<Vec<Pt>> = union::of(&polygons)
                .into_iter()
                .map(|p| counter_clockwise(clean(p)))
                .filter(|p| p.len() >= 3)
                .collect();
            match validity::check(&unioned) {
                Ok(()) if !unioned.is_empty() => (unioned, None),
                _ => (bbox_polygons(bbox_of(&polygons)), Some(why)),
            }
        }
    };

    let mut bbox = bbox_of(&polygons);
    if let Some(p) = pole {
        match p {
            Pole::North => bbox[3] = 90.0,
            Pole::South => bbox[1] = -90.0,
        }
    }
    let closed = |p: &Vec<Pt>| {
        let mut c: Vec<[f64; 2]> = p.iter().map(|&(x, y)| [x, y]).collect();
        c.push(c[0]);
        c
    };
    let geometry = match polygons.as_slice() {
        [one] => json!({"type": "Polygon", "coordinates": [closed(one)]}),
        many => json!({
            "type": "MultiPolygon",
            "coordinates": many.iter().map(|p| vec![closed(p)]).collect::<Vec<_>>(),
        }),
    };
    Some(Shape {
        bbox,
        geometry,
        invalid,
    })
}

/// The smallest and largest longitude.
fn lon_range(ring: &[Pt]) -> (f64, f64) {
    ring.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p.0), hi.max(p.0))
        })
}

/// The rectangle of a bbox, as two rectangles when it crosses the antimeridian.
fn bbox_polygons([west, south, east, north]: [f64; 4]) -> Vec<Vec<Pt>> {
    let rect = |w: f64, e: f64| vec![(w, south), (e, south), (e, north), (w, north)];
    if west <= east {
        vec![rect(west, east)]
    } else {
        vec![rect(west, 180.0), rect(-180.0, east)]
    }
}

/// `d` brought into [-180, 180).
fn wrap(d: f64) -> f64 {
    (d + 180.0).rem_euclid(360.0) - 180.0
}

/// Longitudes made continuous: each step between neighbours is the short way
/// round, so a ring crossing the antimeridian runs past ±180° instead of
/// jumping.
fn unwrap(ring: &[Pt]) -> Vec<Pt> {
    let mut out: Vec<Pt> = Vec::with_capacity(ring.len());
    for &(x, y) in ring {
        let x = match out.last() {
            Some(&(px, _)) => px + wrap(x - px),
            None => x,
        };
        out.push((x, y));
    }
    out
}

/// A ring that goes once round `pole` (open, unwrapped, turning by `turn`),
/// closed over the pole: from the antimeridian eastward along the outline
/// once round, then back along the pole's latitude.
fn polar_polygon(ring: &[Pt], turn: f64, pole: Pole) -> Vec<Pt> {
    let east: Vec<Pt> = if turn > 0.0 {
        ring.to_vec()
    } else {
        ring.iter().rev().copied().collect()
    };
    let n = east.len();
    // The outline repeated, one turn further each lap.
    let at = |j: usize| {
        let (x, y) = east[j % n];
        (x + 360.0 * (j / n) as f64, y)
    };
    // The first antimeridian at or east of the start, and where the outline crosses it.
    let seam = ((at(0).0 - 180.0) / 360.0).ceil() * 360.0 + 180.0;
    let j = (0..n)
        .find(|&j| at(j).0 <= seam && at(j + 1).0 > seam)
        .unwrap_or(0);
    let ((x0, y0), (x1, y1)) = (at(j), at(j + 1));
    let y = y0 + (y1 - y0) * (seam - x0) / (x1 - x0);
    let shift = seam + 180.0;
    let mut polygon = vec![(-180.0, y)];
    polygon.extend((j + 1..=j + n).map(|k| {
        let (x, y) = at(k);
        (x - shift, y)
    }));
    polygon.push((180.0, y));
    polygon.push((180.0, pole.lat()));
    polygon.push((-180.0, pole.lat()));
    polygon
}

/// The ring cut at every antimeridian it crosses, each piece moved into
/// [-180°, 180°].
fn split_at_antimeridian(ring: Vec<Pt>) -> Vec<Vec<Pt>> {
    let (lo, hi) = lon_range(&ring);
    let mut pieces = vec![ring];
    let mut cut = ((lo - 180.0) / 360.0).floor() * 360.0 + 180.0;
    while cut <= hi {
        if cut > lo && cut < hi {
            pieces = pieces.into_iter().flat_map(|p| split_at(&p, cut)).collect();
        }
        cut += 360.0;
    }
    pieces
        .into_iter()
        .map(|p| {
            let mid = {
                let (lo, hi) = lon_range(&p);
                (lo + hi) / 2.0
            };
            let shift = (mid / 360.0).round() * 360.0;
            p.into_iter()
                .map(|(x, y)| ((x - shift).clamp(-180.0, 180.0), y))
                .collect()
        })
        .collect()
}

/// A simple polygon split by the meridian `x = c` into the pieces on either
/// side: the boundary is followed, and where it crosses the line, the walk
/// continues along the line to where the boundary crosses it back. Crossings
/// sorted by latitude pair up (1st-2nd, 3rd-4th, …): those stretches of the
/// line are inside the polygon.
fn split_at(ring: &[Pt], c: f64) -> Vec<Vec<Pt>> {
    let side = |p: &Pt| p.0 >= c;
    // The ring with its crossing points inserted; `Some(k)` marks crossing k.
    let mut nodes: Vec<(Pt, Option<usize>)> = Vec::new();
    let mut crossings: Vec<(f64, usize)> = Vec::new(); // (latitude, node index)
    for i in 0..ring.len() {
        let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
        nodes.push((a, None));
        if side(&a) != side(&b) {
            let y = a.1 + (b.1 - a.1) * (c - a.0) / (b.0 - a.0);
            crossings.push((y, nodes.len()));
            nodes.push(((c, y), Some(crossings.len() - 1)));
        }
    }
    if crossings.is_empty() {
        return vec![ring.to_vec()];
    }
    let mut order: Vec<usize> = (0..crossings.len()).collect();
    order.sort_by(|&a, &b| crossings[a].0.total_cmp(&crossings[b].0));
    let mut partner = vec![0; crossings.len()];
    for pair in order.chunks(2) {
        if let [a, b] = *pair {
            partner[a] = crossings[b].1;
            partner[b] = crossings[a].1;
        }
    }
    let n = nodes.len();
    let mut used = vec![false; n];
    let mut pieces = Vec::new();
    for start in 0..n {
        if used[start] || nodes[start].1.is_some() {
            continue;
        }
        let mut piece = Vec::new();
        let mut i = start;
        // Each node is visited once; the bound only guards against a bug looping.
        while piece.len() <= 2 * n {
            used[i] = true;
            piece.push(nodes[i].0);
            i = match nodes[i].1 {
                // Where the boundary leaves this side: along the line to where it comes back.
                Some(k) => {
                    let j = partner[k];
                    used[j] = true;
                    piece.push(nodes[j].0);
                    (j + 1) % n
                }
                None => (i + 1) % n,
            };
            if i == start {
                break;
            }
        }
        pieces.push(piece);
    }
    pieces
}

/// Rounded, without repeated or collinear-duplicate neighbours.
fn clean(p: Vec<Pt>) -> Vec<Pt> {
    let mut out: Vec<Pt> = Vec::with_capacity(p.len());
    for (x, y) in p {
        let q = (round(x), round(y));
        if out.last() != Some(&q) {
            out.push(q);
        }
    }
    while out.len() > 1 && out.first() == out.last() {
        out.pop();
    }
    out
}

fn counter_clockwise(mut p: Vec<Pt>) -> Vec<Pt> {
    if signed_area2(&p) < 0.0 {
        p.reverse();
    }
    p
}

/// `[west, south, east, north]`: across the antimeridian when the pieces sit
/// on both sides of it and the gap between them is there.
fn bbox_of(polygons: &[Vec<Pt>]) -> [f64; 4] {
    let pts = || polygons.iter().flatten();
    let south = pts().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let north = pts().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    // Longitude intervals of the pieces; the bbox leaves out the widest gap between them.
    let mut spans: Vec<(f64, f64)> = polygons.iter().map(|p| lon_range(p)).collect();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut merged: Vec<(f64, f64)> = Vec::new();
    for (lo, hi) in spans {
        match merged.last_mut() {
            Some(last) if lo <= last.1 => last.1 = last.1.max(hi),
            _ => merged.push((lo, hi)),
        }
    }
    let (Some(first), Some(last)) = (merged.first().copied(), merged.last().copied()) else {
        return [f64::NAN; 4];
    };
    // The gap across the antimeridian, and the widest gap inside [-180, 180].
    let across = (first.0 + 180.0) + (180.0 - last.1);
    let inside = merged
        .windows(2)
        .map(|w| (w[1].0 - w[0].1, w[0].1, w[1].0))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match inside {
        Some((gap, west_end, east_start)) if gap > across => [east_start, south, west_end, north],
        _ => [first.0, south, last.1, north],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rings(geometry: &Value) -> Vec<Vec<Pt>> {
        let coords = &geometry["coordinates"];
        let polys: Vec<&Value> = match geometry["type"].as_str() {
            Some("Polygon") => vec![coords],
            _ => coords.as_array().unwrap().iter().collect(),
        };
        polys
            .iter()
            .map(|p| {
                p[0].as_array()
                    .unwrap()
                    .iter()
                    .map(|c| (c[0].as_f64().unwrap(), c[1].as_f64().unwrap()))
                    .collect()
            })
            .collect()
    }

    fn area(ring: &[Pt]) -> f64 {
        signed_area2(&ring[..ring.len() - 1]) / 2.0
    }

    #[test]
    fn a_ring_away_from_the_antimeridian_is_one_counter_clockwise_polygon() {
        // Clockwise in, counter-clockwise out.
        let s = shape(
            &[(10.0, 50.0), (11.0, 50.0), (11.0, 49.0), (10.0, 49.0)],
            None,
        )
        .unwrap();
        assert_eq!(s.geometry["type"], "Polygon");
        assert_eq!(s.bbox, [10.0, 49.0, 11.0, 50.0]);
        let r = &rings(&s.geometry)[0];
        assert_eq!(r.first(), r.last());
        assert!((area(r) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn a_ring_across_the_antimeridian_is_cut_there() {
        for ring in [
            vec![
                (178.0, -16.0),
                (-178.0, -16.0),
                (-178.0, -18.0),
                (178.0, -18.0),
            ],
            vec![
                (178.0, -16.0),
                (182.0, -16.0),
                (182.0, -18.0),
                (178.0, -18.0),
            ],
            vec![
                (-182.0, -16.0),
                (-178.0, -16.0),
                (-178.0, -18.0),
                (-182.0, -18.0),
            ],
        ] {
            let s = shape(&ring, None).unwrap();
            assert_eq!(s.geometry["type"], "MultiPolygon", "{ring:?}");
            assert_eq!(s.bbox, [178.0, -18.0, -178.0, -16.0]);
            let parts = rings(&s.geometry);
            let areas: Vec<f64> = parts.iter().map(|r| area(r)).collect();
            assert_eq!(areas.len(), 2);
            assert!(areas.iter().all(|a| (a - 4.0).abs() < 1e-9), "{areas:?}");
            for r in parts {
                assert!(r.iter().all(|p| p.0.abs() <= 180.0 && p.0.abs() >= 178.0));
            }
        }
    }

    #[test]
    fn longitudes_past_180_without_crossing_are_brought_back() {
        let s = shape(
            &[(190.0, 1.0), (200.0, 1.0), (200.0, 0.0), (190.0, 0.0)],
            None,
        )
        .unwrap();
        assert_eq!(s.bbox, [-170.0, 0.0, -160.0, 1.0]);
    }

    #[test]
    fn a_ring_round_the_north_pole_is_closed_over_it() {
        // 36 points at 70°N, eastward, starting at 100°E.
        let ring: Vec<Pt> = (0..36)
            .map(|i| (wrap(100.0 + 10.0 * i as f64), 70.0))
            .collect();
        let s = shape(&ring, Some(Pole::North)).unwrap();
        assert_eq!(s.geometry["type"], "Polygon");
        assert_eq!(s.bbox, [-180.0, 70.0, 180.0, 90.0]);
        let r = &rings(&s.geometry)[0];
        // The cap from 70° to 90° over 360°: 20 × 360 degree².
        assert!((area(r) - 7200.0).abs() < 1e-6, "{}", area(r));
        // Westward and round the south pole too.
        let west: Vec<Pt> = ring.iter().rev().map(|&(x, y)| (x, -y)).collect();
        let s = shape(&west, Some(Pole::South)).unwrap();
        assert_eq!(s.bbox, [-180.0, -90.0, 180.0, -70.0]);
        assert!((area(&rings(&s.geometry)[0]) - 7200.0).abs() < 1e-6);
    }

    #[test]
    fn a_c_shape_across_the_antimeridian_keeps_its_parts_apart() {
        // A "C" opening west whose two arms cross 180°: the east side has two pieces.
        let ring = vec![
            (170.0, 0.0),
            (190.0, 0.0),
            (190.0, 1.0),
            (175.0, 1.0),
            (175.0, 2.0),
            (190.0, 2.0),
            (190.0, 3.0),
            (170.0, 3.0),
        ];
        let s = shape(&ring, None).unwrap();
        let parts = rings(&s.geometry);
        assert_eq!(parts.len(), 3, "{parts:?}");
        let total: f64 = parts.iter().map(|r| area(r)).sum();
        assert!((total - (60.0 - 15.0)).abs() < 1e-9, "{total}");
        assert_eq!(s.bbox, [170.0, 0.0, -170.0, 3.0]);
    }

    #[test]
    fn a_ring_360_degrees_wide_or_more_is_one_band() {
        // A 0..360 grid's outline, and one half a degree wider.
        for (west, east) in [(0.0, 360.0), (-180.25, 180.25)] {
            let mut ring: Vec<Pt> = (0..=36)
                .map(|i| (west + (east - west) * i as f64 / 36.0, 60.0))
                .collect();
            ring.extend(ring.clone().iter().rev().map(|&(x, _)| (x, -30.0)));
            let s = shape(&ring, None).unwrap();
            assert_eq!(s.geometry["type"], "Polygon", "{west}");
            assert_eq!(s.bbox, [-180.0, -30.0, 180.0, 60.0]);
            assert!((area(&rings(&s.geometry)[0]) - 360.0 * 90.0).abs() < 1e-9);
            assert_eq!(s.invalid, None);
        }
    }

    #[test]
    fn an_outline_that_crosses_itself_becomes_the_union_it_encloses() {
        let bow_tie = [(10.0, 50.0), (11.0, 51.0), (11.0, 50.0), (10.0, 51.0)];
        let s = shape(&bow_tie, None).unwrap();
        assert_eq!(s.invalid, None);
        assert_eq!(s.geometry["type"], "MultiPolygon");
        assert_eq!(s.bbox, [10.0, 50.0, 11.0, 51.0]);
        let parts = rings(&s.geometry);
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|r| (area(r) - 0.25).abs() < 1e-9));
    }

    #[test]
    fn a_folded_outline_across_the_antimeridian_is_unioned_on_both_sides() {
        // A bow tie astride 180°: cut there, each side a crossing pair of
        // edges; the union keeps both sides' triangles.
        let tie = [(179.0, 0.0), (181.0, 2.0), (181.0, 0.0), (179.0, 2.0)];
        let s = shape(&tie, None).unwrap();
        assert_eq!(s.invalid, None, "{}", s.geometry);
        assert_eq!(s.bbox, [179.0, 0.0, -179.0, 2.0]);
        let total: f64 = rings(&s.geometry).iter().map(|r| area(r)).sum();
        assert!((total - 2.0).abs() < 1e-6, "{total}");
    }

    #[test]
    fn a_ring_too_small_or_not_finite_has_no_shape() {
        let dot = [
            (10.0, 50.0),
            (10.000_000_01, 50.0),
            (10.000_000_01, 50.000_000_01),
        ];
        assert_eq!(shape(&dot, None), None);
        assert_eq!(
            shape(&[(f64::INFINITY, 1.0), (2.0, 1.0), (2.0, 2.0)], None),
            None
        );
    }
}
