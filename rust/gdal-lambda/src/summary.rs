//! A raster's metadata as a person reads it (`gdal-lambda info`), in the
//! spirit of `gdalinfo`: one line per fact, coordinates rounded, lists
//! counted rather than printed. The full record stays one flag away (`--json`).

use std::fmt::Write;

use raster_info::RasterInfo;

/// Subdatasets, variables and warnings shown before "… and N more".
const LISTED: usize = 8;

/// The summary of `info`, ending with a newline.
pub fn summary(info: &RasterInfo) -> String {
    let mut out = String::new();
    let mut line = |label: &str, value: String| {
        let _ = writeln!(out, "{label:<13}{value}");
    };
    line("Source:", info.path.clone());
    line(
        "Driver:",
        format!("{}/{}", info.driver, info.driver_long_name),
    );
    let bands = info.bands.len();
    line(
        "Size:",
        format!(
            "{} x {} pixels, {bands} band{}",
            info.width,
            info.height,
            plural(bands)
        ),
    );
    if let Some(grid) = &info.grid {
        line("Grid from:", grid.clone());
    }
    line(
        "CRS:",
        match &info.crs {
            Some(crs) => match (crs.epsg, &crs.name) {
                (Some(code), Some(name)) => format!("EPSG:{code} ({name})"),
                (Some(code), None) => format!("EPSG:{code}"),
                (None, Some(name)) => name.clone(),
                (None, None) => "(unnamed; WKT in --json)".into(),
            },
            None => "none".into(),
        },
    );
    if let Some(gt) = info.geotransform {
        line("Origin:", format!("{}, {}", round(gt[0]), round(gt[3])));
        line("Pixel size:", format!("{}, {}", round(gt[1]), round(gt[5])));
    }
    if let Some(gcps) = &info.gcps {
        line("GCPs:", format!("{} points", gcps.points.len()));
    }
    if let Some(b) = info.bbox {
        line("Bounds:", corners(b));
    }
    if let Some(b) = info.wgs84_bbox {
        line("WGS 84 bbox:", corners(b));
    }
    if let Some(footprint) = &info.footprint {
        line("Footprint:", shape(footprint));
    }
    if let Some(m) = info.resolution_m {
        line("Resolution:", format!("{} m", round(m)));
    }
    if let Some(cog) = &info.cog {
        let failed: Vec<&str> = cog
            .rules
            .iter()
            .filter(|r| r.required && !r.passed)
            .map(|r| r.rule.as_str())
            .collect();
        let layout = format!(
            "{}, {} overview{}",
            if cog.tiled { "tiled" } else { "not tiled" },
            cog.overviews,
            plural(cog.overviews)
        );
        line(
            "COG:",
            if cog.valid {
                format!("yes ({layout})")
            } else {
                format!("no ({layout}; fails {})", failed.join(", "))
            },
        );
    }
    for band in &info.bands {
        let mut text = format!("{}, {}", band.data_type, band.color_interpretation);
        if let Some(nodata) = &band.nodata {
            let _ = write!(
                text,
                ", nodata {}",
                serde_json::to_string(nodata).unwrap_or_default()
            );
        }
        if let Some(unit) = band.unit.as_deref().filter(|u| !u.is_empty()) {
            let _ = write!(text, ", unit {unit}");
        }
        let [bx, by] = band.block_size;
        let _ = write!(text, ", blocks {bx}x{by}");
        if !band.overviews.is_empty() {
            let _ = write!(text, ", {} overviews", band.overviews.len());
        }
        if let Some(d) = band.description.as_deref().filter(|d| !d.is_empty()) {
            let _ = write!(text, " ({d})");
        }
        line(&format!("Band {}:", band.index), text);
    }
    listed(
        &mut line,
        "Subdatasets:",
        info.subdatasets.iter().map(|s| s.description.clone()),
    );
    if let Some(cube) = &info.cube {
        let dims: Vec<String> = cube
            .dimensions
            .iter()
            .map(|d| format!("{} ({})", d.name, d.size))
            .collect();
        line("Dimensions:", dims.join(", "));
        listed(
            &mut line,
            "Variables:",
            cube.variables
                .iter()
                .filter(|v| !v.coordinate)
                .map(|v| format!("{} [{}] {}", v.name, v.dimensions.join(", "), v.data_type)),
        );
    }
    listed(&mut line, "Warnings:", info.warnings.iter().cloned());
    out.push_str("(the full record: --json)\n");
    out
}

/// The first [`LISTED`] entries under `label`, one per line, then how many more.
fn listed(line: &mut impl FnMut(&str, String), label: &str, entries: impl Iterator<Item = String>) {
    let entries: Vec<String> = entries.collect();
    for (i, entry) in entries.iter().take(LISTED).enumerate() {
        line(if i == 0 { label } else { "" }, entry.clone());
    }
    if entries.len() > LISTED {
        line("", format!("… and {} more", entries.len() - LISTED));
    }
}

/// A GeoJSON geometry named and counted: `Polygon, 5 points`.
fn shape(geometry: &serde_json::Value) -> String {
    fn points(v: &serde_json::Value) -> usize {
        match v.as_array() {
            Some(a) if a.first().is_some_and(|x| x.is_number()) => 1,
            Some(a) => a.iter().map(points).sum(),
            None => 0,
        }
    }
    let kind = geometry["type"].as_str().unwrap_or("geometry");
    format!("{kind}, {} points", points(&geometry["coordinates"]))
}

fn corners(b: [f64; 4]) -> String {
    format!(
        "{}, {} .. {}, {}",
        round(b[0]),
        round(b[1]),
        round(b[2]),
        round(b[3])
    )
}

/// Nine significant digits at most, no trailing zeros: enough for a person.
fn round(x: f64) -> String {
    let text = format!("{:.*}", decimals(x), x);
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

fn decimals(x: f64) -> usize {
    let digits = if x == 0.0 {
        1
    } else {
        x.abs().log10().floor() as i64 + 1
    };
    (9 - digits).clamp(0, 9) as usize
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_rounded_for_reading() {
        assert_eq!(round(500000.0), "500000");
        assert_eq!(round(-0.000277777777778), "-0.000277778");
        assert_eq!(round(12.5), "12.5");
        assert_eq!(round(4649776.123456789), "4649776.12");
    }

    #[test]
    fn shapes_are_counted_not_printed() {
        let polygon = serde_json::json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]});
        assert_eq!(shape(&polygon), "Polygon, 4 points");
        let multi = serde_json::json!({"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [0, 0]]], [[[2, 2], [3, 2], [2, 2]]]]});
        assert_eq!(shape(&multi), "MultiPolygon, 6 points");
    }
}
