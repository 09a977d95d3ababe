//! A raster's outline traced in longitude/latitude to a stated tolerance.
//!
//! The outline runs along the raster's four edges (pixel space, corners
//! included). Each edge starts with a few points, then every segment is cut
//! in two while the true edge point halfway along it lies farther than the
//! tolerance from the segment's midpoint (GeoJSON segments are straight in
//! longitude/latitude), up to a bound on points. The closest approach to
//! either pole of each edge that reaches polar latitudes is a point of its
//! own, so a polar outline reaches the latitude the raster reaches.
//!
//! Where part of the raster is off the Earth (a full-disk geostationary
//! scene, an orthographic view), the outline of its on-Earth part is traced
//! instead: a point of the edge that does not project is replaced by the
//! last point that does on the way to it from an on-Earth point of the
//! raster (the part is taken to be seen whole from there, as a disk is from
//! inside it), and the points where the edge leaves the Earth are found and
//! kept.
//!
//! Pure geometry over a projection closure, tested without GDAL; the
//! closure is [`crate::footprint`]'s pixel → WGS84 chain.

type Pt = (f64, f64);

/// Projects a pixel/line position to longitude/latitude, `None` off the Earth.
pub(crate) type Project<'a> = dyn Fn(f64, f64) -> Option<Pt> + 'a;

/// Points of the outline at most: the bound on refinement.
pub(crate) const MAX_POINTS: usize = 4096;
/// Points each edge starts with (its corners included once).
const SEED_POINTS: usize = 8;
/// Mean Earth radius (IUGG), for distances that measure the tolerance.
const EARTH_RADIUS_M: f64 = 6_371_008.8;
/// Steps when looking for an edge's closest approach to a pole, and when
/// bisecting for where the Earth ends along a line.
const SEARCH_STEPS: usize = 48;
/// Samples per edge, and across the raster, when looking for on-Earth points.
const PROBES: usize = 32;
/// Edges that reach past this latitude (north or south, degrees) get their
/// closest approach to the pole as a point of its own: there longitudes
/// sweep fast and a corner-to-corner start misses the most.
const POLAR_LATITUDE: f64 = 60.0;

/// The traced outline.
#[derive(Debug)]
pub(crate) struct Outline {
    /// The ring, open, in edge order.
    pub ring: Vec<Pt>,
    /// Some of the raster is off the Earth: the ring is the on-Earth part's.
    pub partly_off_earth: bool,
    /// Segments still farther than the tolerance from the true edge when
    /// the point bound was reached.
    pub coarse_segments: usize,
}

/// Great-circle distance in metres on a sphere of the Earth's mean radius.
pub(crate) fn distance_m(a: Pt, b: Pt) -> f64 {
    let (la1, la2) = (a.1.to_radians(), b.1.to_radians());
    let dlat = la2 - la1;
    let dlon = (b.0 - a.0).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// Midpoint of the straight longitude/latitude segment a–b, the short way round.
fn midpoint(a: Pt, b: Pt) -> Pt {
    let dlon = (b.0 - a.0 + 180.0).rem_euclid(360.0) - 180.0;
    (a.0 + dlon / 2.0, (a.1 + b.1) / 2.0)
}

/// The boundary of a `w` × `h` raster, by a parameter `s` in [0, 4): edge
/// `k` runs from corner `k` to corner `k + 1` (top, right, bottom, left).
struct Boundary<'a> {
    project: &'a Project<'a>,
    w: f64,
    h: f64,
    /// An on-Earth point seen from which the on-Earth part is whole, when
    /// some of the boundary is off the Earth.
    centre: Option<Pt>,
}

impl Boundary<'_> {
    fn pixel(&self, s: f64) -> Pt {
        let corners = [(0.0, 0.0), (self.w, 0.0), (self.w, self.h), (0.0, self.h)];
        let k = (s.floor() as usize).min(3);
        let t = s - k as f64;
        let (a, b) = (corners[k], corners[(k + 1) % 4]);
        (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t)
    }

    /// The outline's point at `s`: the boundary's, or where the Earth ends
    /// on the way to it from the centre.
    fn point(&self, s: f64) -> Option<Pt> {
        let (x, y) = self.pixel(s);
        if let Some(p) = (self.project)(x, y) {
            return Some(p);
        }
        let c = self.centre?;
        let at = |t: f64| (self.project)(c.0 + (x - c.0) * t, c.1 + (y - c.1) * t);
        let (mut on, mut off) = (0.0, 1.0);
        for _ in 0..SEARCH_STEPS {
            let mid = (on + off) / 2.0;
            if at(mid).is_some() {
                on = mid;
            } else {
                off = mid;
            }
        }
        at(on)
    }

    fn on_earth(&self, s: f64) -> bool {
        let (x, y) = self.pixel(s);
        (self.project)(x, y).is_some()
    }
}

/// Trace the outline of a `w` × `h` raster whose pixels `project` places,
/// to within `tolerance_m` metres; `Err` when no part of it is on the Earth.
pub(crate) fn trace(
    project: &Project,
    w: f64,
    h: f64,
    tolerance_m: f64,
) -> Result<Outline, String> {
    let mut boundary = Boundary {
        project,
        w,
        h,
        centre: None,
    };
    // Probe the boundary: where it leaves the Earth, the outline turns.
    let probes: Vec<f64> = (0..4 * PROBES).map(|i| i as f64 / PROBES as f64).collect();
    let on: Vec<bool> = probes.iter().map(|&s| boundary.on_earth(s)).collect();
    let partly_off_earth = on.iter().any(|&o| !o);
    let mut breaks: Vec<f64> = (0..4).map(f64::from).collect();
    if partly_off_earth {
        boundary.centre =
            Some(on_earth_centre(project, w, h).ok_or("no part of the raster is on the Earth")?);
        for i in 0..probes.len() {
            let (a, b) = (probes[i], probes.get(i + 1).copied().unwrap_or(4.0));
            let (on_a, on_b) = (on[i], on.get(i + 1).copied().unwrap_or(on[0]));
            if on_a != on_b {
                breaks.push(edge_of_earth(&boundary, a, b, on_a));
            }
        }
    }
    // The closest approach to either pole of each edge that reaches polar latitudes.
    for k in 0..4 {
        for sign in [1.0, -1.0] {
            if let Some(s) = extreme_latitude(&boundary, k as f64, sign) {
                breaks.push(s);
            }
        }
    }
    // Seeds between the breaks.
    for k in 0..4 {
        for i in 1..SEED_POINTS {
            breaks.push(k as f64 + i as f64 / SEED_POINTS as f64);
        }
    }
    breaks.sort_by(f64::total_cmp);
    breaks.dedup_by(|a, b| (*a - *b).abs() < 1e-12);

    let mut points: Vec<(f64, Pt)> = breaks
        .iter()
        .filter_map(|&s| boundary.point(s).map(|p| (s, p)))
        .collect();
    if points.len() < 3 {
        return Err("fewer than 3 points of its outline are on the Earth".into());
    }
    let coarse_segments = refine(&boundary, &mut points, tolerance_m);
    Ok(Outline {
        ring: points.into_iter().map(|(_, p)| p).collect(),
        partly_off_earth,
        coarse_segments,
    })
}

/// A stretch of the outline between two of its points, and its midpoint
/// once it was found within the tolerance.
struct Segment {
    start: (f64, Pt),
    end: (f64, Pt),
    settled: bool,
}

/// Cut segments in two, all those off by more than the tolerance at once,
/// round after round (each segment's midpoint is found once), while the
/// point bound allows; how many are still off.
fn refine(boundary: &Boundary, points: &mut Vec<(f64, Pt)>, tolerance_m: f64) -> usize {
    let n = points.len();
    let mut segments: Vec<Segment> = (0..n)
        .map(|i| {
            let (s1, p1) = points[(i + 1) % n];
            Segment {
                start: points[i],
                // The closing segment runs past 4 to the first point.
                end: (if i + 1 == n { s1 + 4.0 } else { s1 }, p1),
                settled: false,
            }
        })
        .collect();
    loop {
        let mut cuts = Vec::new();
        for (i, seg) in segments.iter_mut().enumerate() {
            if seg.settled {
                continue;
            }
            let ((s0, p0), (s1, p1)) = (seg.start, seg.end);
            let sm = (s0 + s1) / 2.0;
            match boundary.point(sm.rem_euclid(4.0)) {
                Some(pm) if s1 - s0 > 1e-9 && distance_m(pm, midpoint(p0, p1)) > tolerance_m => {
                    cuts.push((i, (sm, pm)))
                }
                _ => seg.settled = true,
            }
        }
        if cuts.is_empty() || segments.len() + cuts.len() > MAX_POINTS {
            let left = cuts.len();
            *points = segments
                .iter()
                .map(|seg| (seg.start.0.rem_euclid(4.0), seg.start.1))
                .collect();
            return left;
        }
        let mut next = Vec::with_capacity(segments.len() + cuts.len());
        let mut cuts = cuts.into_iter().peekable();
        for (i, seg) in segments.into_iter().enumerate() {
            match cuts.next_if(|(k, _)| *k == i) {
                Some((_, mid)) => {
                    next.push(Segment {
                        start: seg.start,
                        end: mid,
                        settled: false,
                    });
                    next.push(Segment {
                        start: mid,
                        end: seg.end,
                        settled: false,
                    });
                }
                None => next.push(seg),
            }
        }
        segments = next;
    }
}

/// An on-Earth pixel position near the raster's middle: the middle itself,
/// else the on-Earth probe of a grid closest to the on-Earth probes' mean.
fn on_earth_centre(project: &Project, w: f64, h: f64) -> Option<Pt> {
    if project(w / 2.0, h / 2.0).is_some() {
        return Some((w / 2.0, h / 2.0));
    }
    let n = PROBES as f64;
    let on: Vec<Pt> = (0..PROBES)
        .flat_map(|i| {
            (0..PROBES).map(move |j| ((i as f64 + 0.5) * w / n, (j as f64 + 0.5) * h / n))
        })
        .filter(|&(x, y)| project(x, y).is_some())
        .collect();
    let k = on.len() as f64;
    let mean = on
        .iter()
        .fold((0.0, 0.0), |m, p| (m.0 + p.0 / k, m.1 + p.1 / k));
    on.into_iter().min_by(|a, b| {
        let d = |p: &Pt| (p.0 - mean.0).hypot(p.1 - mean.1);
        d(a).total_cmp(&d(b))
    })
}

/// Where the boundary crosses the Earth's edge between `a` and `b`
/// (`a` on the Earth when `on_a`): its last on-Earth parameter.
fn edge_of_earth(boundary: &Boundary, a: f64, b: f64, on_a: bool) -> f64 {
    let (mut on, mut off) = if on_a { (a, b) } else { (b, a) };
    for _ in 0..SEARCH_STEPS {
        let mid = (on + off) / 2.0;
        if boundary.on_earth(mid.rem_euclid(4.0)) {
            on = mid;
        } else {
            off = mid;
        }
    }
    on.rem_euclid(4.0)
}

/// The parameter on edge `k` where the latitude (times `sign`: north for 1,
/// south for -1) is greatest, if that lies inside the edge rather than at a
/// corner and past [`POLAR_LATITUDE`].
fn extreme_latitude(boundary: &Boundary, k: f64, sign: f64) -> Option<f64> {
    let lat = |s: f64| boundary.point(s).map(|p| sign * p.1);
    let n = PROBES;
    let samples: Vec<(f64, f64)> = (0..=n)
        .filter_map(|i| {
            let s = k + i as f64 / n as f64 * (1.0 - 1e-12);
            lat(s).map(|v| (s, v))
        })
        .collect();
    let (best, &(_, top)) = samples
        .iter()
        .enumerate()
        .max_by(|a, b| a.1 .1.total_cmp(&b.1 .1))?;
    // Away from the poles, refinement alone follows an edge's bulge.
    if best == 0 || best == samples.len() - 1 || top < POLAR_LATITUDE {
        return None;
    }
    // Golden-section search between the neighbours of the best sample.
    let (mut lo, mut hi) = (samples[best - 1].0, samples[best + 1].0);
    let g = (5f64.sqrt() - 1.0) / 2.0;
    for _ in 0..SEARCH_STEPS {
        let (m1, m2) = (hi - g * (hi - lo), lo + g * (hi - lo));
        match (lat(m1), lat(m2)) {
            (Some(v1), Some(v2)) if v1 < v2 => lo = m1,
            (Some(_), Some(_)) => hi = m2,
            _ => break,
        }
    }
    Some((lo + hi) / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plate carrée grid: pixel (x, y) at longitude x0 + x·d, latitude y0 - y·d.
    fn plate(x0: f64, y0: f64, d: f64) -> impl Fn(f64, f64) -> Option<Pt> {
        move |x, y| Some((x0 + x * d, y0 - y * d))
    }

    #[test]
    fn straight_edges_need_no_more_than_their_seeds() {
        let p = plate(10.0, 50.0, 0.01);
        let o = trace(&p, 100.0, 100.0, 1.0).unwrap();
        assert_eq!(o.ring.len(), 4 * SEED_POINTS);
        assert!(!o.partly_off_earth);
        assert_eq!(o.coarse_segments, 0);
        assert_eq!(o.ring[0], (10.0, 50.0));
    }

    #[test]
    fn curved_edges_are_refined_to_the_tolerance() {
        // Latitude bulges along the top edge like a parabola 2° high, to 70°N.
        let p = |x: f64, y: f64| {
            Some((
                x / 10.0,
                68.0 - y / 10.0 + 2.0 * (x / 100.0) * (1.0 - x / 100.0) * 4.0,
            ))
        };
        let o = trace(&p, 100.0, 100.0, 10.0).unwrap();
        assert_eq!(o.coarse_segments, 0);
        // Every true edge point lies within the tolerance of the ring's segments.
        for i in 0..=1000 {
            let x = i as f64 / 10.0;
            let truth = p(x, 0.0).unwrap();
            let best = (0..o.ring.len())
                .map(|j| segment_distance(truth, o.ring[j], o.ring[(j + 1) % o.ring.len()]))
                .fold(f64::INFINITY, f64::min);
            assert!(best <= 10.5, "{x}: {best} m");
        }
        // The top of the bulge is a point of its own.
        let top = o.ring.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
        assert!((top - 70.0).abs() < 1e-9, "{top}");
    }

    /// Metres from `p` to the segment a–b, in a plane tangent at `p`.
    fn segment_distance(p: Pt, a: Pt, b: Pt) -> f64 {
        let k = EARTH_RADIUS_M * std::f64::consts::PI / 180.0;
        let local = |q: Pt| ((q.0 - p.0) * p.1.to_radians().cos() * k, (q.1 - p.1) * k);
        let (a, b) = (local(a), local(b));
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let t = (-(a.0 * dx + a.1 * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
        (a.0 + t * dx).hypot(a.1 + t * dy)
    }

    #[test]
    fn only_the_on_earth_disk_of_a_full_disk_raster_is_traced() {
        // A 100 × 100 raster whose disk of radius 40 px round its middle is on the Earth.
        let p = |x: f64, y: f64| {
            let (dx, dy) = (x - 50.0, y - 50.0);
            (dx.hypot(dy) <= 40.0).then_some((dx / 10.0, -dy / 10.0))
        };
        let o = trace(&p, 100.0, 100.0, 100.0).unwrap();
        assert!(o.partly_off_earth);
        for q in &o.ring {
            let r = (q.0 * 10.0).hypot(q.1 * 10.0);
            assert!((r - 40.0).abs() < 1e-6, "{q:?} at {r} px");
        }
        assert!(o.ring.len() > 4 * SEED_POINTS);
        // Nothing of it on the Earth: no outline.
        assert!(trace(&|_, _| None, 10.0, 10.0, 1.0).is_err());
    }

    #[test]
    fn where_the_edge_leaves_the_earth_is_kept() {
        // Off the Earth right of x = 70: the top edge's last on-Earth point is (70, 0).
        let p = |x: f64, y: f64| (x <= 70.0).then_some((x / 10.0, -y / 10.0));
        let o = trace(&p, 100.0, 100.0, 10.0).unwrap();
        assert!(
            o.ring
                .iter()
                .any(|q| (q.0 - 7.0).abs() < 1e-9 && q.1 == 0.0),
            "{:?}",
            o.ring
        );
        assert!(o.ring.iter().all(|q| q.0 <= 7.0 + 1e-9));
    }
}
