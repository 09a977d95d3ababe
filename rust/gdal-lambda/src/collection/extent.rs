//! A STAC Collection's extent as the union of its Items' extents.
//!
//! Longitudes live on a circle, so the union keeps what a single bbox would
//! lose: the *spans*, disjoint longitude intervals that never cross the
//! antimeridian (an Item's bbox with west > east is split at ±180°), each
//! with the latitudes of what lies in it. The overall bbox is then the
//! smallest arc that holds every span, the circle less its widest empty gap:
//! two Items either side of the antimeridian give a bbox that crosses it
//! (west > east), not one around the globe. Since the spans are a function
//! of the set of Items alone, not of the order they came in, concurrent
//! writers agree on the result. The Collection keeps the spans as the
//! bboxes after the first, which STAC reads as a closer description of
//! the extent.

use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// Spans kept at most: beyond it the two with the narrowest gap between
/// them merge (the extent still holds every Item, but may then be wider than
/// needed and depend on the order Items came in). Keeps the Collection
/// small (about 40 bytes a span) when Items are scattered.
pub(super) const MAX_SPANS: usize = 256;

/// A longitude interval (west ≤ east, within ±180°) and the latitudes of what lies in it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Span {
    west: f64,
    south: f64,
    east: f64,
    north: f64,
}

impl Span {
    fn to_json(self) -> Value {
        json!([self.west, self.south, self.east, self.north])
    }
}

/// A union of Items' extents: where (spans) and when.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct Extent {
    /// Sorted by west, pairwise apart (touching spans merge).
    spans: Vec<Span>,
    /// From when to when; `None` in a bound is open (JSON null).
    interval: Option<(Option<OffsetDateTime>, Option<OffsetDateTime>)>,
}

impl Extent {
    /// An Item's extent: its bbox (2D or 3D; west > east crosses the
    /// antimeridian) and its `datetime`, or `start_datetime`/`end_datetime`.
    pub(super) fn of_item(item: &Value) -> Extent {
        let mut extent = Extent::default();
        if let Some(bbox) = item.get("bbox") {
            extent.add_bbox(bbox);
        }
        let props = &item["properties"];
        let at = |name: &str| props.get(name).and_then(Value::as_str).and_then(instant);
        let start = at("start_datetime").or_else(|| at("datetime"));
        let end = at("end_datetime").or_else(|| at("datetime"));
        if let (Some(start), Some(end)) = (start, end) {
            extent.interval = Some((Some(start), Some(end)));
        }
        extent
    }

    /// What a Collection's `extent` holds: the bboxes after the first when
    /// there are any (the spans, as this module writes them), else the first;
    /// and the first interval. `spatial_known` is false for a Collection
    /// created before any Item had a bbox (its bbox is then a placeholder).
    pub(super) fn of_collection(extent: &Value, spatial_known: bool) -> Extent {
        let mut out = Extent::default();
        if spatial_known {
            if let Some(bboxes) = extent["spatial"]["bbox"].as_array() {
                let details = if bboxes.len() > 1 {
                    &bboxes[1..]
                } else {
                    &bboxes[..]
                };
                for bbox in details {
                    out.add_bbox(bbox);
                }
            }
        }
        if let Some([start, end]) = extent["temporal"]["interval"][0]
            .as_array()
            .map(Vec::as_slice)
        {
            let bound = |v: &Value| v.as_str().and_then(instant);
            // [null, null] is what a Collection no Item gave a time says: nothing yet.
            out.interval = Some((bound(start), bound(end))).filter(|i| *i != (None, None));
        }
        out
    }

    /// The union of both.
    pub(super) fn union(mut self, other: &Extent) -> Extent {
        for span in &other.spans {
            self.add_span(*span);
        }
        self.interval = match (self.interval, other.interval) {
            (None, i) | (i, None) => i,
            // An open bound (None) stays open.
            (Some((s1, e1)), Some((s2, e2))) => Some((
                s1.zip(s2).map(|(a, b)| a.min(b)),
                e1.zip(e2).map(|(a, b)| a.max(b)),
            )),
        };
        self
    }

    /// Whether any Item had a bbox.
    pub(super) fn has_spatial(&self) -> bool {
        !self.spans.is_empty()
    }

    /// The Collection's `extent` object: the overall bbox first, then the
    /// spans when there are several; the whole globe while no Item had a bbox
    /// (STAC requires one), and an open interval while none had a time.
    pub(super) fn to_json(&self) -> Value {
        let bboxes = match self.overall() {
            None => vec![json!([-180.0, -90.0, 180.0, 90.0])],
            Some(overall) if self.spans.len() == 1 => vec![overall],
            Some(overall) => std::iter::once(overall)
                .chain(self.spans.iter().map(|s| s.to_json()))
                .collect(),
        };
        let (start, end) = self.interval.unwrap_or((None, None));
        let text = |t: Option<OffsetDateTime>| {
            t.and_then(|t| t.to_offset(UtcOffset::UTC).format(&Rfc3339).ok())
        };
        json!({
            "spatial": { "bbox": bboxes },
            "temporal": { "interval": [[text(start), text(end)]] },
        })
    }

    /// The smallest arc holding every span: the circle less the widest gap
    /// between neighbours (the gap across the antimeridian first among equals,
    /// so that a tie gives a bbox that does not cross it).
    fn overall(&self) -> Option<Value> {
        let first = self.spans.first()?;
        let last = self.spans.last()?;
        let south = self
            .spans
            .iter()
            .map(|s| s.south)
            .fold(f64::INFINITY, f64::min);
        let north = self
            .spans
            .iter()
            .map(|s| s.north)
            .fold(f64::NEG_INFINITY, f64::max);
        let mut widest = (first.west + 360.0 - last.east, None);
        for (i, pair) in self.spans.windows(2).enumerate() {
            let gap = pair[1].west - pair[0].east;
            if gap > widest.0 {
                widest = (gap, Some(i));
            }
        }
        let (west, east) = match widest.1 {
            None => (first.west, last.east),
            Some(i) => (self.spans[i + 1].west, self.spans[i].east),
        };
        Some(json!([west, south, east, north]))
    }

    /// Add a GeoJSON bbox (`[w, s, e, n]` or `[w, s, zmin, e, n, zmax]`);
    /// anything else, or coordinates off the globe, is left out.
    fn add_bbox(&mut self, bbox: &Value) {
        let Some(numbers) = bbox.as_array() else {
            return;
        };
        let numbers: Vec<f64> = numbers.iter().filter_map(Value::as_f64).collect();
        let half = numbers.len() / 2;
        if !matches!(numbers.len(), 4 | 6) || numbers.len() != bbox.as_array().map_or(0, Vec::len) {
            return;
        }
        let (west, south, east, north) = (numbers[0], numbers[1], numbers[half], numbers[half + 1]);
        let on_globe = |lon: f64, lat: f64| lon.abs() <= 180.0 && lat.abs() <= 90.0;
        if !on_globe(west, south) || !on_globe(east, north) || south > north {
            return;
        }
        if west <= east {
            self.add_span(Span {
                west,
                south,
                east,
                north,
            });
        } else {
            // Across the antimeridian: the part east of `west`, and the part west of `east`.
            self.add_span(Span {
                west,
                south,
                east: 180.0,
                north,
            });
            self.add_span(Span {
                west: -180.0,
                south,
                east,
                north,
            });
        }
    }

    /// Merge a span with every span it meets, keeping the list sorted.
    fn add_span(&mut self, mut span: Span) {
        self.spans.retain(|s| {
            let meets = s.west <= span.east && span.west <= s.east;
            if meets {
                span = Span {
                    west: span.west.min(s.west),
                    south: span.south.min(s.south),
                    east: span.east.max(s.east),
                    north: span.north.max(s.north),
                };
            }
            !meets
        });
        let at = self.spans.partition_point(|s| s.west < span.west);
        self.spans.insert(at, span);
        while self.spans.len() > MAX_SPANS {
            self.merge_closest();
        }
    }

    /// Merge the two neighbours with the narrowest gap between them.
    fn merge_closest(&mut self) {
        let Some(i) = (0..self.spans.len().saturating_sub(1)).min_by(|&a, &b| {
            let gap = |i: usize| self.spans[i + 1].west - self.spans[i].east;
            gap(a).total_cmp(&gap(b))
        }) else {
            return;
        };
        let next = self.spans.remove(i + 1);
        let span = &mut self.spans[i];
        span.east = next.east;
        span.south = span.south.min(next.south);
        span.north = span.north.max(next.north);
    }
}

/// An RFC 3339 time.
fn instant(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(bbox: Value, datetime: &str) -> Value {
        json!({"bbox": bbox, "properties": {"datetime": datetime}})
    }

    fn union(items: &[Value]) -> Extent {
        items
            .iter()
            .fold(Extent::default(), |acc, i| acc.union(&Extent::of_item(i)))
    }

    fn overall(e: &Extent) -> Value {
        e.to_json()["spatial"]["bbox"][0].clone()
    }

    #[test]
    fn items_either_side_of_the_antimeridian_give_a_bbox_across_it() {
        let e = union(&[
            item(json!([170.0, -10.0, 175.0, 0.0]), "2024-01-02T00:00:00Z"),
            item(
                json!([-175.0, 0.0, -170.0, 10.0]),
                "2024-01-01T00:00:00+02:00",
            ),
        ]);
        assert_eq!(overall(&e), json!([170.0, -10.0, -170.0, 10.0]));
        assert_eq!(
            e.to_json()["temporal"]["interval"],
            json!([["2023-12-31T22:00:00Z", "2024-01-02T00:00:00Z"]])
        );
    }

    #[test]
    fn a_crossing_and_a_plain_bbox_union_to_the_smallest_arc() {
        // A crossing Item [170, -170] and one at [-160, -150]: east of it, not around the globe.
        let e = union(&[
            item(json!([170.0, 0.0, -170.0, 1.0]), "2024-01-01T00:00:00Z"),
            item(json!([-160.0, 0.0, -150.0, 1.0]), "2024-01-01T00:00:00Z"),
        ]);
        assert_eq!(overall(&e), json!([170.0, 0.0, -150.0, 1.0]));
        // And one at [0, 10]: the widest gap is now (10, 170), not (-150, 0).
        let e = e.union(&Extent::of_item(&item(
            json!([0.0, 0.0, 10.0, 1.0]),
            "2024-01-01T00:00:00Z",
        )));
        assert_eq!(overall(&e), json!([170.0, 0.0, 10.0, 1.0]));
    }

    #[test]
    fn the_union_does_not_depend_on_order() {
        // Three Items that a pairwise union of single bboxes gets wrong in some orders.
        let items = [
            item(json!([0.0, 0.0, 10.0, 1.0]), "2024-01-01T00:00:00Z"),
            item(json!([170.0, 0.0, 180.0, 1.0]), "2024-01-03T00:00:00Z"),
            item(json!([-60.0, 0.0, -50.0, 1.0]), "2024-01-02T00:00:00Z"),
        ];
        let orders = [
            [0, 1, 2],
            [0, 2, 1],
            [1, 0, 2],
            [1, 2, 0],
            [2, 0, 1],
            [2, 1, 0],
        ];
        let all: Vec<Value> = orders
            .iter()
            .map(|o| union(&o.map(|i| items[i].clone())).to_json())
            .collect();
        assert!(all.iter().all(|e| *e == all[0]));
        // The widest gap is (10, 170): the extent crosses the antimeridian.
        assert_eq!(all[0]["spatial"]["bbox"][0], json!([170.0, 0.0, 10.0, 1.0]));
    }

    #[test]
    fn the_whole_globe_and_a_written_extent_read_back() {
        let e = union(&[
            item(json!([-180.0, -5.0, 0.0, 5.0]), "2024-01-01T00:00:00Z"),
            item(json!([0.0, -6.0, 180.0, 6.0]), "2024-01-01T00:00:00Z"),
        ]);
        assert_eq!(
            e.to_json()["spatial"]["bbox"],
            json!([[-180.0, -6.0, 180.0, 6.0]])
        );
        let two = union(&[
            item(json!([170.0, 0.0, -170.0, 1.0]), "2024-01-01T00:00:00Z"),
            // 3D: [w, s, zmin, e, n, zmax]
            item(
                json!([20.0, 0.0, -1.0, 30.0, 1.0, 9.0]),
                "2024-01-01T00:00:00Z",
            ),
        ]);
        let written = two.to_json();
        assert_eq!(Extent::of_collection(&written, true), two);
        // A Collection someone wrote with one bbox is taken as it is.
        let theirs = json!({"spatial": {"bbox": [[1.0, 2.0, 3.0, 4.0]]},
                            "temporal": {"interval": [[null, "2024-01-01T00:00:00Z"]]}});
        let e = Extent::of_collection(&theirs, true).union(&Extent::of_item(&item(
            json!([5.0, 2.0, 6.0, 3.0]),
            "2025-01-01T00:00:00Z",
        )));
        assert_eq!(
            e.to_json(),
            json!({"spatial": {"bbox": [[1.0, 2.0, 6.0, 4.0], [1.0, 2.0, 3.0, 4.0], [5.0, 2.0, 6.0, 3.0]]},
                   "temporal": {"interval": [[null, "2025-01-01T00:00:00Z"]]}})
        );
    }

    #[test]
    fn a_collection_without_times_takes_the_first_items() {
        let none = Extent::default().to_json();
        assert_eq!(none["temporal"]["interval"], json!([[null, null]]));
        let e = Extent::of_collection(&none, false).union(&Extent::of_item(&item(
            json!([0.0, 0.0, 1.0, 1.0]),
            "2024-01-01T00:00:00Z",
        )));
        assert_eq!(
            e.to_json()["temporal"]["interval"],
            json!([["2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z"]])
        );
    }

    #[test]
    fn items_without_a_bbox_leave_the_spatial_extent_alone() {
        let e = Extent::of_item(
            &json!({"bbox": null, "properties": {"datetime": "2024-01-01T00:00:00Z"}}),
        );
        assert!(!e.has_spatial());
        assert_eq!(
            e.to_json()["spatial"]["bbox"],
            json!([[-180.0, -90.0, 180.0, 90.0]])
        );
        // Off the globe, or not a bbox: left out.
        assert!(!Extent::of_item(&item(json!([0.0, 0.0, 200.0, 1.0]), "x")).has_spatial());
        assert!(!Extent::of_item(&item(json!([0.0, "a", 1.0, 1.0]), "x")).has_spatial());
    }

    #[test]
    fn scattered_items_are_kept_to_max_spans_and_still_covered() {
        let items: Vec<Value> = (0..MAX_SPANS + 10)
            .map(|i| {
                let w = -179.0 + i as f64 * 1.2;
                item(json!([w, 0.0, w + 0.1, 1.0]), "2024-01-01T00:00:00Z")
            })
            .collect();
        let e = union(&items);
        assert_eq!(e.spans.len(), MAX_SPANS);
        for i in &items {
            let w = i["bbox"][0].as_f64().unwrap();
            assert!(e.spans.iter().any(|s| s.west <= w && w + 0.1 <= s.east));
        }
    }
}
