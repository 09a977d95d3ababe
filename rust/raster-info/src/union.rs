//! The union of rings that cross themselves or each other (a GCP fit that
//! folds, a projection beyond its domain): the outline of every point that
//! some ring winds around (non-zero rule), as simple counter-clockwise rings.
//!
//! A planar arrangement: every edge is cut where it meets another, each
//! piece is kept when the union lies on exactly one of its sides, turned so
//! that the union is on its left, and the pieces are chained into rings,
//! always taking the sharpest left turn, so that parts meeting at a single
//! point stay separate polygons (valid in a MultiPolygon). Holes are filled:
//! a footprint may cover a little more than the raster, never less.

use std::collections::HashMap;

type Pt = (f64, f64);

/// Points closer than this (degrees, about 0.1 mm) are one point.
const SNAP: f64 = 1e-9;

/// The union of `rings` (open rings, any orientation) as counter-clockwise
/// outer rings; empty when nothing is enclosed.
pub(crate) fn of(rings: &[Vec<Pt>]) -> Vec<Vec<Pt>> {
    let edges: Vec<(Pt, Pt)> = rings
        .iter()
        .flat_map(|r| (0..r.len()).map(move |i| (r[i], r[(i + 1) % r.len()])))
        .filter(|(a, b)| a != b)
        .collect();
    let mut graph = Graph::default();
    for (i, &(a, b)) in edges.iter().enumerate() {
        // Where along a–b (0..1) the other edges meet it.
        let mut cuts = vec![0.0, 1.0];
        for (j, &(c, d)) in edges.iter().enumerate() {
            if i != j {
                cuts.extend(meets(a, b, c, d));
            }
        }
        cuts.sort_by(f64::total_cmp);
        let at = |t: f64| (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
        for w in cuts.windows(2) {
            let (p, q) = (at(w[0]), at(w[1]));
            // Keep the piece when the union lies on one side of it only.
            let (mid, len) = (at((w[0] + w[1]) / 2.0), distance(p, q));
            if len <= SNAP {
                continue;
            }
            let normal = (
                (p.1 - q.1) / len * SNAP * 10.0,
                (q.0 - p.0) / len * SNAP * 10.0,
            );
            let left = inside(rings, (mid.0 + normal.0, mid.1 + normal.1));
            let right = inside(rings, (mid.0 - normal.0, mid.1 - normal.1));
            match (left, right) {
                (true, false) => graph.add(p, q),
                (false, true) => graph.add(q, p),
                _ => {}
            }
        }
    }
    graph.rings()
}

fn distance(a: Pt, b: Pt) -> f64 {
    (b.0 - a.0).hypot(b.1 - a.1)
}

/// Where (0..1 along a–b, ends excluded) the segment c–d meets a–b: the
/// crossing point, or where c–d's ends lie on a–b and a–b's on c–d.
fn meets(a: Pt, b: Pt, c: Pt, d: Pt) -> Vec<f64> {
    let r = (b.0 - a.0, b.1 - a.1);
    let s = (d.0 - c.0, d.1 - c.1);
    let cross = |u: Pt, v: Pt| u.0 * v.1 - u.1 * v.0;
    let along = |p: Pt| ((p.0 - a.0) * r.0 + (p.1 - a.1) * r.1) / (r.0 * r.0 + r.1 * r.1);
    let on_ab = |p: Pt| {
        let t = along(p);
        let foot = (a.0 + r.0 * t, a.1 + r.1 * t);
        (t > 0.0 && t < 1.0 && distance(foot, p) <= SNAP).then_some(t)
    };
    let denom = cross(r, s);
    let ca = (c.0 - a.0, c.1 - a.1);
    let mut cuts: Vec<f64> = [c, d].into_iter().filter_map(on_ab).collect();
    if denom.abs() > f64::EPSILON * r.0.hypot(r.1) * s.0.hypot(s.1) {
        let t = cross(ca, s) / denom;
        let u = cross(ca, r) / denom;
        if t > 0.0 && t < 1.0 && (0.0..=1.0).contains(&u) {
            cuts.push(t);
        }
    }
    cuts
}

/// `p` is inside some ring (non-zero winding number).
fn inside(rings: &[Vec<Pt>], p: Pt) -> bool {
    rings.iter().any(|ring| {
        let mut winding = 0i32;
        for i in 0..ring.len() {
            let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
            let side = (b.0 - a.0) * (p.1 - a.1) - (p.0 - a.0) * (b.1 - a.1);
            if a.1 <= p.1 && b.1 > p.1 && side > 0.0 {
                winding += 1;
            } else if a.1 > p.1 && b.1 <= p.1 && side < 0.0 {
                winding -= 1;
            }
        }
        winding != 0
    })
}

/// Directed boundary pieces between snapped points.
#[derive(Default)]
struct Graph {
    points: Vec<Pt>,
    ids: HashMap<(i64, i64), usize>,
    /// Outgoing pieces of each point: (to, used).
    out: HashMap<usize, Vec<(usize, bool)>>,
}

impl Graph {
    fn id(&mut self, p: Pt) -> usize {
        let key = ((p.0 / SNAP).round() as i64, (p.1 / SNAP).round() as i64);
        let next = self.points.len();
        *self.ids.entry(key).or_insert_with(|| {
            self.points.push(p);
            next
        })
    }

    fn add(&mut self, p: Pt, q: Pt) {
        let (a, b) = (self.id(p), self.id(q));
        if a != b {
            let out = self.out.entry(a).or_default();
            if !out.iter().any(|&(to, _)| to == b) {
                out.push((b, false));
            }
        }
    }

    /// Chains the pieces into rings: at each point, the sharpest left turn.
    fn rings(mut self) -> Vec<Vec<Pt>> {
        let mut starts: Vec<usize> = self.out.keys().copied().collect();
        starts.sort_unstable();
        let mut rings = Vec::new();
        for start in starts {
            while let Some(first) = self.take(start, None) {
                let mut ring = vec![start];
                let (mut prev, mut at) = (start, first);
                while at != start {
                    ring.push(at);
                    match self.take(at, Some(prev)) {
                        Some(next) => (prev, at) = (at, next),
                        None => break, // an open chain: not a ring
                    }
                }
                if at == start && ring.len() >= 3 {
                    let ring: Vec<Pt> = ring.iter().map(|&i| self.points[i]).collect();
                    // Clockwise rings are holes: filled.
                    if signed_area2(&ring) > 0.0 {
                        rings.push(ring);
                    }
                }
            }
        }
        rings
    }

    /// An unused piece out of `at`, the sharpest left turn after `from`.
    fn take(&mut self, at: usize, from: Option<usize>) -> Option<usize> {
        let points = &self.points;
        let out = self.out.get_mut(&at)?;
        let turn = |to: usize| match from {
            None => 0.0,
            Some(from) => {
                let (p, a, q) = (points[from], points[at], points[to]);
                let (u, v) = ((a.0 - p.0, a.1 - p.1), (q.0 - a.0, q.1 - a.1));
                (u.0 * v.1 - u.1 * v.0).atan2(u.0 * v.0 + u.1 * v.1)
            }
        };
        let best = out
            .iter()
            .enumerate()
            .filter(|(_, (_, used))| !used)
            .max_by(|x, y| turn(x.1 .0).total_cmp(&turn(y.1 .0)))
            .map(|(k, _)| k)?;
        out[best].1 = true;
        Some(out[best].0)
    }
}

/// Twice the signed area (positive: counter-clockwise).
pub(crate) fn signed_area2(p: &[Pt]) -> f64 {
    (0..p.len())
        .map(|i| {
            let (a, b) = (p[i], p[(i + 1) % p.len()]);
            a.0 * b.1 - b.0 * a.1
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validity;

    fn area(rings: &[Vec<Pt>]) -> f64 {
        rings.iter().map(|r| signed_area2(r) / 2.0).sum()
    }

    #[test]
    fn a_bow_tie_is_its_two_triangles() {
        let bow_tie = vec![(10.0, 50.0), (11.0, 51.0), (11.0, 50.0), (10.0, 51.0)];
        let u = of(&[bow_tie]);
        assert_eq!(u.len(), 2, "{u:?}");
        assert!((area(&u) - 0.5).abs() < 1e-9);
        assert!(u.iter().all(|r| r.len() == 3 && signed_area2(r) > 0.0));
        assert_eq!(
            validity::check(&u),
            Ok(()),
            "two triangles meeting at a point"
        );
    }

    #[test]
    fn a_pentagram_is_its_star_centre_included() {
        // Drawn in one stroke, its edges cross five times; its centre is
        // wound twice. The star's outline: 10 points, alternately on the
        // circles of radius 1 and cos 72° / cos 36°.
        let deg = |k: f64| (90.0 + 144.0 * k).to_radians();
        let star: Vec<Pt> = (0..5)
            .map(|k| (deg(k as f64).cos(), deg(k as f64).sin()))
            .collect();
        let u = of(std::slice::from_ref(&star));
        assert_eq!(u.len(), 1, "{u:?}");
        assert_eq!(u[0].len(), 10);
        let inner = 72f64.to_radians().cos() / 36f64.to_radians().cos();
        let truth = 10.0 * 0.5 * inner * 36f64.to_radians().sin();
        assert!((area(&u) - truth).abs() < 1e-9, "{} vs {truth}", area(&u));
        assert_eq!(validity::check(&u), Ok(()));
        for p in &star {
            assert!(u[0].iter().any(|q| distance(*p, *q) < 1e-9), "{p:?}");
        }
    }

    #[test]
    fn overlapping_rings_merge_and_apart_rings_stay_apart() {
        let sq = |x: f64, y: f64, s: f64| vec![(x, y), (x + s, y), (x + s, y + s), (x, y + s)];
        let u = of(&[sq(0.0, 0.0, 2.0), sq(1.0, 1.0, 2.0), sq(10.0, 0.0, 1.0)]);
        assert_eq!(u.len(), 2);
        assert!((area(&u) - (4.0 + 4.0 - 1.0 + 1.0)).abs() < 1e-9);
        assert_eq!(validity::check(&u), Ok(()));
        // Clockwise input gives the same, counter-clockwise, union.
        let cw: Vec<Pt> = sq(0.0, 0.0, 2.0).into_iter().rev().collect();
        assert!((area(&of(&[cw])) - 4.0).abs() < 1e-9);
    }

    #[test]
    fn a_hole_between_overlapping_parts_is_filled() {
        // Two L shapes whose ends overlap make a 3×3 frame round a 1×1 hole.
        let a = vec![
            (0.0, 0.0),
            (3.0, 0.0),
            (3.0, 1.0),
            (1.0, 1.0),
            (1.0, 3.0),
            (0.0, 3.0),
        ];
        let b = vec![
            (3.0, 0.0),
            (3.0, 3.0),
            (0.0, 3.0),
            (0.0, 2.0),
            (2.0, 2.0),
            (2.0, 0.0),
        ];
        let u = of(&[a, b]);
        assert_eq!(u.len(), 1, "{u:?}");
        assert!((area(&u) - 9.0).abs() < 1e-9);
    }
}
