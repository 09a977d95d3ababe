//! Whether polygons are valid as OGC simple features (and so as RFC 7946
//! GeoJSON): each ring has three or more distinct points and is simple (no
//! two of its edges meet except neighbours at their shared point), and the
//! polygons of a MultiPolygon neither cross, touch along an edge, nor lie
//! one inside another (they may meet at points). Rings are open (their last point is not repeated)
//! and have no holes: the outlines Stratus writes.

type Pt = (f64, f64);

/// `Ok` when the polygons (outer rings only) form a valid Polygon or
/// MultiPolygon; else what is wrong.
pub(crate) fn check(polygons: &[Vec<Pt>]) -> Result<(), String> {
    for (i, ring) in polygons.iter().enumerate() {
        if ring.len() < 3 {
            return Err(format!("ring {i} has fewer than 3 points"));
        }
    }
    // Every edge of every ring: (ring, index in ring, start, end).
    let mut edges: Vec<(usize, usize, Pt, Pt)> = polygons
        .iter()
        .enumerate()
        .flat_map(|(r, ring)| {
            (0..ring.len()).map(move |i| (r, i, ring[i], ring[(i + 1) % ring.len()]))
        })
        .collect();
    // Sweep along x: only edges whose x ranges overlap are compared.
    let min_x = |e: &(usize, usize, Pt, Pt)| e.2 .0.min(e.3 .0);
    let max_x = |e: &(usize, usize, Pt, Pt)| e.2 .0.max(e.3 .0);
    edges.sort_by(|a, b| min_x(a).total_cmp(&min_x(b)));
    for (k, a) in edges.iter().enumerate() {
        for b in edges[k + 1..].iter().take_while(|b| min_x(b) <= max_x(a)) {
            let neighbours = a.0 == b.0 && {
                let n = polygons[a.0].len();
                (a.1 + 1) % n == b.1 || (b.1 + 1) % n == a.1
            };
            let meet = if neighbours {
                // Neighbours share one point; they may not run back along each other.
                overlap(a.2, a.3, b.2, b.3)
            } else if a.0 == b.0 {
                intersect(a.2, a.3, b.2, b.3)
            } else {
                // Two polygons' boundaries may meet at points, not cross or share a line.
                cross(a.2, a.3, b.2, b.3) || collinear_overlap(a.2, a.3, b.2, b.3)
            };
            if meet {
                return Err(if a.0 == b.0 {
                    format!("ring {} crosses or touches itself", a.0)
                } else {
                    format!("polygons {} and {} cross or touch", a.0, b.0)
                });
            }
        }
    }
    // No edges cross: a polygon reaching into another has a point, or an
    // edge's midpoint, strictly inside it (its boundary may touch the other's).
    for (i, inner) in polygons.iter().enumerate() {
        for (j, outer) in polygons.iter().enumerate() {
            let into = |p: Pt| contains(outer, p) && !on_boundary(outer, p);
            let reaches = (0..inner.len()).any(|k| {
                let (a, b) = (inner[k], inner[(k + 1) % inner.len()]);
                into(a) || into(((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0))
            });
            if i != j && reaches {
                return Err(format!("polygon {i} lies inside polygon {j}"));
            }
        }
    }
    Ok(())
}

/// Twice the signed area of the triangle a, b, c.
fn orient(a: Pt, b: Pt, c: Pt) -> f64 {
    (b.0 - a.0) * (c.1 - a.1) - (b.1 - a.1) * (c.0 - a.0)
}

/// `p`, collinear with a–b, lies on the segment a–b.
fn on_segment(a: Pt, b: Pt, p: Pt) -> bool {
    p.0 >= a.0.min(b.0) && p.0 <= a.0.max(b.0) && p.1 >= a.1.min(b.1) && p.1 <= a.1.max(b.1)
}

/// The closed segments a–b and c–d have a point in common.
fn intersect(a: Pt, b: Pt, c: Pt, d: Pt) -> bool {
    let (d1, d2) = (orient(c, d, a), orient(c, d, b));
    let (d3, d4) = (orient(a, b, c), orient(a, b, d));
    if ((d1 > 0.0 && d2 < 0.0) || (d1 < 0.0 && d2 > 0.0))
        && ((d3 > 0.0 && d4 < 0.0) || (d3 < 0.0 && d4 > 0.0))
    {
        return true;
    }
    (d1 == 0.0 && on_segment(c, d, a))
        || (d2 == 0.0 && on_segment(c, d, b))
        || (d3 == 0.0 && on_segment(a, b, c))
        || (d4 == 0.0 && on_segment(a, b, d))
}

/// The segments a–b and c–d cross at a point inside both.
fn cross(a: Pt, b: Pt, c: Pt, d: Pt) -> bool {
    let opposite = |x: f64, y: f64| (x > 0.0 && y < 0.0) || (x < 0.0 && y > 0.0);
    opposite(orient(c, d, a), orient(c, d, b)) && opposite(orient(a, b, c), orient(a, b, d))
}

/// The segments a–b and c–d lie on one line and share more than a point.
fn collinear_overlap(a: Pt, b: Pt, c: Pt, d: Pt) -> bool {
    if orient(a, b, c) != 0.0 || orient(a, b, d) != 0.0 {
        return false;
    }
    // Project on the segment's longer axis and compare the intervals.
    let x = (b.0 - a.0).abs() >= (b.1 - a.1).abs();
    let k = |p: Pt| if x { p.0 } else { p.1 };
    let (lo, hi) = (k(a).min(k(b)), k(a).max(k(b)));
    let (lo2, hi2) = (k(c).min(k(d)), k(c).max(k(d)));
    lo.max(lo2) < hi.min(hi2)
}

/// `p` lies on one of the ring's edges.
fn on_boundary(ring: &[Pt], p: Pt) -> bool {
    (0..ring.len()).any(|i| {
        let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
        orient(a, b, p) == 0.0 && on_segment(a, b, p)
    })
}

/// Two segments that share an end run along each other beyond it.
fn overlap(a: Pt, b: Pt, c: Pt, d: Pt) -> bool {
    if orient(a, b, c) != 0.0 || orient(a, b, d) != 0.0 {
        return false;
    }
    // Collinear: they overlap when one's far end lies on the other.
    let shared = if a == c || a == d { a } else { b };
    let far_ab = if shared == a { b } else { a };
    let far_cd = if shared == c { d } else { c };
    (far_cd != shared && on_segment(a, b, far_cd)) || (far_ab != shared && on_segment(c, d, far_ab))
}

/// `p` lies inside the ring (even-odd rule).
fn contains(ring: &[Pt], p: Pt) -> bool {
    let mut inside = false;
    for i in 0..ring.len() {
        let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
        if (a.1 > p.1) != (b.1 > p.1) && p.0 < a.0 + (p.1 - a.1) * (b.0 - a.0) / (b.1 - a.1) {
            inside = !inside;
        }
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x: f64, y: f64, s: f64) -> Vec<Pt> {
        vec![(x, y), (x + s, y), (x + s, y + s), (x, y + s)]
    }

    #[test]
    fn simple_rings_and_apart_polygons_are_valid() {
        assert_eq!(check(&[square(0.0, 0.0, 1.0)]), Ok(()));
        assert_eq!(
            check(&[square(0.0, 0.0, 1.0), square(2.0, 0.0, 1.0)]),
            Ok(())
        );
    }

    #[test]
    fn bow_ties_spikes_overlaps_and_nesting_are_not() {
        let bow_tie = vec![(0.0, 0.0), (1.0, 1.0), (1.0, 0.0), (0.0, 1.0)];
        assert!(check(&[bow_tie]).unwrap_err().contains("itself"));
        // A spike back along the previous edge.
        let spike = vec![(0.0, 0.0), (2.0, 0.0), (1.0, 0.0), (1.0, 1.0)];
        assert!(check(&[spike]).is_err());
        assert!(check(&[square(0.0, 0.0, 2.0), square(1.0, 1.0, 2.0)])
            .unwrap_err()
            .contains("cross"));
        // Sharing an edge is touching along a line.
        assert!(check(&[square(0.0, 0.0, 1.0), square(1.0, 0.0, 1.0)]).is_err());
        assert!(check(&[square(0.0, 0.0, 4.0), square(1.0, 1.0, 1.0)])
            .unwrap_err()
            .contains("inside"));
        assert!(check(&[vec![(0.0, 0.0), (1.0, 0.0)]]).is_err());
        // Inside another, touching its boundary from within.
        let corner = vec![(0.0, 0.0), (1.0, 0.5), (0.5, 1.0)];
        assert!(check(&[square(0.0, 0.0, 4.0), corner]).is_err());
        // A chord across another between two points of its boundary.
        let chord = vec![(0.0, 2.0), (4.0, 2.0), (5.0, 5.0)];
        assert!(check(&[square(0.0, 0.0, 4.0), chord]).is_err());
    }

    #[test]
    fn polygons_may_meet_at_points() {
        let t = |a: Pt, b: Pt, c: Pt| vec![a, b, c];
        // Corner to corner, and a corner on another's edge.
        assert_eq!(
            check(&[square(0.0, 0.0, 1.0), square(1.0, 1.0, 1.0)]),
            Ok(())
        );
        assert_eq!(
            check(&[square(0.0, 0.0, 2.0), t((1.0, 2.0), (2.0, 3.0), (0.0, 3.0))]),
            Ok(())
        );
    }
}
