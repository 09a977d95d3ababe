//! Multidimensional data (netCDF, HDF5, HDF4, GRIB) through GDAL's
//! multidimensional API: every variable with its dimensions, type, unit and
//! CRS, and every dimension with its kind (x, y, vertical, time, other) and
//! extent, read from its coordinate variable's first and last values (two
//! small reads, never the data). STAC's datacube extension is made from it
//! ([`crate::stac`]).

#![allow(unsafe_code)] // GDAL's multidimensional C API

use std::ffi::{c_char, CStr, CString};

use serde::{Deserialize, Serialize};

use crate::crs::crs_info_of;
use crate::number::Number;

/// Variables listed at most: the rest are counted.
const MAX_VARIABLES: usize = 1024;
/// Groups deep a walk goes.
const MAX_DEPTH: usize = 8;

/// A multidimensional dataset's variables and dimensions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cube {
    /// Dimensions by name, in the order met.
    pub dimensions: Vec<CubeDimension>,
    /// Variables, in the order met (full names: `/group/var`).
    pub variables: Vec<CubeVariable>,
    /// Variables in the file when more than listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variables_total: Option<usize>,
}

/// One dimension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CubeDimension {
    /// Its name (full name where GDAL gives one).
    pub name: String,
    /// Number of positions.
    pub size: u64,
    /// GDAL's kind: `HORIZONTAL_X`, `HORIZONTAL_Y`, `VERTICAL`, `TEMPORAL`, `PARAMETRIC`, …
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// First and last values of its coordinate variable, lowest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extent: Option<[f64; 2]>,
    /// The coordinate variable's unit (for time, CF's `<unit> since <date>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// For time: the extent as RFC 3339 instants (CF units, Gregorian calendars).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_extent: Option<[String; 2]>,
}

/// A CRS by its EPSG code and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrsName {
    /// EPSG code, when it has (or is identified with) one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epsg: Option<u32>,
    /// Its name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// One variable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CubeVariable {
    /// Full name (`/group/var`; `/var` at the root).
    pub name: String,
    /// Its dimensions' names, slowest first.
    pub dimensions: Vec<String>,
    /// GDAL data type name (`Float32`, …), or `String`/`Compound`.
    pub data_type: String,
    /// Unit of values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// `long_name` (or `standard_name`, `description`) attribute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Nodata (fill) value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nodata: Option<Number>,
    /// Its CRS, by code and name (the dataset's CRS in full is the grid's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crs: Option<CrsName>,
    /// A coordinate (indexing) variable of one of the dimensions.
    pub coordinate: bool,
}

/// # Safety
/// `p` is null or a NUL-terminated string that lives for the call.
unsafe fn text(p: *const c_char) -> Option<String> {
    (!p.is_null())
        .then(|| CStr::from_ptr(p).to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
}

/// # Safety
/// `list` is null or a NULL-terminated string list we own.
unsafe fn take_list(list: *mut *mut c_char) -> Vec<String> {
    let mut out = Vec::new();
    if list.is_null() {
        return out;
    }
    let mut p = list;
    while !(*p).is_null() {
        out.push(CStr::from_ptr(*p).to_string_lossy().into_owned());
        p = p.add(1);
    }
    gdal_sys::CSLDestroy(list);
    out
}

/// The cube of `path` opened with `drivers` (GDAL's multidimensional mode),
/// or `None` when no driver opens it that way.
pub(crate) fn read(path: &str, drivers: Option<&[&str]>) -> Option<Cube> {
    let c_path = CString::new(path).ok()?;
    let names: Vec<CString> = drivers
        .unwrap_or_default()
        .iter()
        .filter_map(|d| CString::new(*d).ok())
        .collect();
    let mut list: Vec<*const c_char> = names.iter().map(|n| n.as_ptr()).collect();
    list.push(std::ptr::null());
    let flags = (gdal::GdalOpenFlags::GDAL_OF_MULTIDIM_RASTER
        | gdal::GdalOpenFlags::GDAL_OF_READONLY)
        .bits();
    // SAFETY: the path and the NULL-terminated list outlive the call; every handle we
    // get is released before returning.
    unsafe {
        let ds = gdal_sys::GDALOpenEx(
            c_path.as_ptr(),
            flags,
            if drivers.is_some() {
                list.as_ptr()
            } else {
                std::ptr::null()
            },
            std::ptr::null(),
            std::ptr::null(),
        );
        if ds.is_null() {
            return None;
        }
        let root = gdal_sys::GDALDatasetGetRootGroup(ds);
        let mut cube = Cube::default();
        let mut total = 0usize;
        if !root.is_null() {
            walk(root, "", 0, &mut cube, &mut total);
            gdal_sys::GDALGroupRelease(root);
        }
        gdal_sys::GDALClose(ds);
        if total > cube.variables.len() {
            cube.variables_total = Some(total);
        }
        (!cube.variables.is_empty()).then_some(cube)
    }
}

/// # Safety
/// `group` is a live group handle.
unsafe fn walk(
    group: gdal_sys::GDALGroupH,
    prefix: &str,
    depth: usize,
    cube: &mut Cube,
    total: &mut usize,
) {
    for name in take_list(gdal_sys::GDALGroupGetMDArrayNames(
        group,
        std::ptr::null_mut(),
    )) {
        *total += 1;
        if cube.variables.len() >= MAX_VARIABLES {
            continue;
        }
        let Ok(c_name) = CString::new(name.as_str()) else {
            continue;
        };
        let array = gdal_sys::GDALGroupOpenMDArray(group, c_name.as_ptr(), std::ptr::null_mut());
        if array.is_null() {
            continue;
        }
        let variable = describe_array(array, &format!("{prefix}/{name}"), cube);
        cube.variables.push(variable);
        gdal_sys::GDALMDArrayRelease(array);
    }
    if depth >= MAX_DEPTH {
        return;
    }
    for name in take_list(gdal_sys::GDALGroupGetGroupNames(
        group,
        std::ptr::null_mut(),
    )) {
        let Ok(c_name) = CString::new(name.as_str()) else {
            continue;
        };
        let sub = gdal_sys::GDALGroupOpenGroup(group, c_name.as_ptr(), std::ptr::null_mut());
        if !sub.is_null() {
            walk(sub, &format!("{prefix}/{name}"), depth + 1, cube, total);
            gdal_sys::GDALGroupRelease(sub);
        }
    }
}

/// # Safety
/// `array` is a live array handle.
unsafe fn describe_array(
    array: gdal_sys::GDALMDArrayH,
    name: &str,
    cube: &mut Cube,
) -> CubeVariable {
    let mut n = 0usize;
    let dims = gdal_sys::GDALMDArrayGetDimensions(array, &mut n);
    let mut dimensions = Vec::with_capacity(n);
    let mut coordinate = false;
    for i in 0..n {
        let dim = *dims.add(i);
        let dim_name = text(gdal_sys::GDALDimensionGetFullName(dim))
            .or_else(|| text(gdal_sys::GDALDimensionGetName(dim)))
            .unwrap_or_else(|| format!("dim{i}"));
        if !cube.dimensions.iter().any(|d| d.name == dim_name) {
            cube.dimensions.push(describe_dimension(dim, &dim_name));
        }
        let indexing = gdal_sys::GDALDimensionGetIndexingVariable(dim);
        if !indexing.is_null() {
            if text(gdal_sys::GDALMDArrayGetFullName(indexing)).as_deref() == Some(name) {
                coordinate = true;
            }
            gdal_sys::GDALMDArrayRelease(indexing);
        }
        dimensions.push(dim_name);
    }
    if !dims.is_null() {
        gdal_sys::GDALReleaseDimensions(dims, n);
    }
    let data_type = {
        let t = gdal_sys::GDALMDArrayGetDataType(array);
        let class = gdal_sys::GDALExtendedDataTypeGetClass(t);
        let name = match class {
            gdal_sys::GDALExtendedDataTypeClass::GEDTC_NUMERIC => text(
                gdal_sys::GDALGetDataTypeName(gdal_sys::GDALExtendedDataTypeGetNumericDataType(t)),
            )
            .unwrap_or_else(|| "Unknown".into()),
            gdal_sys::GDALExtendedDataTypeClass::GEDTC_STRING => "String".into(),
            _ => "Compound".into(),
        };
        gdal_sys::GDALExtendedDataTypeRelease(t);
        name
    };
    let mut has_nodata = 0;
    let nodata = gdal_sys::GDALMDArrayGetNoDataValueAsDouble(array, &mut has_nodata);
    let srs = gdal_sys::GDALMDArrayGetSpatialRef(array);
    let crs = if srs.is_null() {
        None
    } else {
        let info = crs_info_of(srs).map(|c| CrsName {
            epsg: c.epsg,
            name: c.name,
        });
        gdal_sys::OSRDestroySpatialReference(srs);
        info
    };
    CubeVariable {
        name: name.to_string(),
        dimensions,
        data_type,
        unit: text(gdal_sys::GDALMDArrayGetUnit(array)),
        description: ["long_name", "standard_name", "description"]
            .iter()
            .find_map(|a| string_attribute(array, a)),
        nodata: (has_nodata != 0).then_some(Number(nodata)),
        crs,
        coordinate,
    }
}

/// # Safety
/// `array` is a live array handle.
unsafe fn string_attribute(array: gdal_sys::GDALMDArrayH, name: &str) -> Option<String> {
    let c_name = CString::new(name).ok()?;
    let attr = gdal_sys::GDALMDArrayGetAttribute(array, c_name.as_ptr());
    if attr.is_null() {
        return None;
    }
    let value = text(gdal_sys::GDALAttributeReadAsString(attr));
    gdal_sys::GDALAttributeRelease(attr);
    value.map(|v| v.chars().take(500).collect())
}

/// # Safety
/// `dim` is a live dimension handle.
unsafe fn describe_dimension(dim: gdal_sys::GDALDimensionH, name: &str) -> CubeDimension {
    let size = gdal_sys::GDALDimensionGetSize(dim);
    let kind = text(gdal_sys::GDALDimensionGetType(dim));
    let indexing = gdal_sys::GDALDimensionGetIndexingVariable(dim);
    let (mut extent, mut unit, mut calendar) = (None, None, None);
    if !indexing.is_null() {
        if gdal_sys::GDALMDArrayGetDimensionCount(indexing) == 1 && size > 0 {
            if let (Some(first), Some(last)) = (value_at(indexing, 0), value_at(indexing, size - 1))
            {
                extent = Some([first.min(last), first.max(last)]);
            }
        }
        unit = text(gdal_sys::GDALMDArrayGetUnit(indexing));
        calendar = string_attribute(indexing, "calendar");
        gdal_sys::GDALMDArrayRelease(indexing);
    }
    let time_extent = match (&kind, extent, &unit) {
        (Some(k), Some([a, b]), Some(u)) if k == "TEMPORAL" => {
            match (
                cf_time(a, u, calendar.as_deref()),
                cf_time(b, u, calendar.as_deref()),
            ) {
                (Some(a), Some(b)) => Some([a, b]),
                _ => None,
            }
        }
        _ => None,
    };
    CubeDimension {
        name: name.to_string(),
        size,
        kind,
        extent,
        unit,
        time_extent,
    }
}

/// The value at `index` of a one-dimensional numeric array, as a double.
///
/// # Safety
/// `array` is a live one-dimensional array handle.
unsafe fn value_at(array: gdal_sys::GDALMDArrayH, index: u64) -> Option<f64> {
    let t = gdal_sys::GDALMDArrayGetDataType(array);
    let numeric = gdal_sys::GDALExtendedDataTypeGetClass(t)
        == gdal_sys::GDALExtendedDataTypeClass::GEDTC_NUMERIC;
    gdal_sys::GDALExtendedDataTypeRelease(t);
    if !numeric {
        return None;
    }
    let double = gdal_sys::GDALExtendedDataTypeCreate(gdal_sys::GDALDataType::GDT_Float64);
    let (start, count) = ([index], [1usize]);
    let mut value = 0f64;
    let ok = gdal_sys::GDALMDArrayRead(
        array,
        start.as_ptr(),
        count.as_ptr(),
        std::ptr::null(),
        std::ptr::null(),
        double,
        (&mut value as *mut f64).cast(),
        std::ptr::null(),
        0,
    );
    gdal_sys::GDALExtendedDataTypeRelease(double);
    (ok != 0 && value.is_finite()).then_some(value)
}

/// A CF time (`value` in `units`: `<unit> since <date>`) as RFC 3339, for the
/// Gregorian calendars (the default and `standard`, `gregorian`,
/// `proleptic_gregorian`; others are not converted).
pub(crate) fn cf_time(value: f64, units: &str, calendar: Option<&str>) -> Option<String> {
    use time::format_description::well_known::Rfc3339;
    use time::macros::format_description;
    if let Some(c) = calendar {
        if !["standard", "gregorian", "proleptic_gregorian"]
            .contains(&c.trim().to_ascii_lowercase().as_str())
        {
            return None;
        }
    }
    let (unit, since) = units.split_once(" since ")?;
    let seconds_per = match unit.trim().to_ascii_lowercase().as_str() {
        "seconds" | "second" | "secs" | "sec" | "s" => 1.0,
        "minutes" | "minute" | "mins" | "min" => 60.0,
        "hours" | "hour" | "hrs" | "hr" | "h" => 3600.0,
        "days" | "day" | "d" => 86400.0,
        _ => return None,
    };
    let since = since.trim().trim_end_matches(" UTC").trim_end_matches('Z');
    let since = since.replace('T', " ");
    let (date, clock) = since
        .split_once(' ')
        .unwrap_or((since.as_str(), "00:00:00"));
    let date = time::Date::parse(
        date,
        &format_description!("[year]-[month padding:none]-[day padding:none]"),
    )
    .ok()?;
    let clock = clock.split('.').next().unwrap_or("0:0:0");
    let time = time::Time::parse(
        clock,
        &format_description!("[hour padding:none]:[minute padding:none]:[second padding:none]"),
    )
    .or_else(|_| {
        time::Time::parse(
            clock,
            &format_description!("[hour padding:none]:[minute padding:none]"),
        )
    })
    .ok()?;
    let origin = time::PrimitiveDateTime::new(date, time).assume_utc();
    let offset = time::Duration::seconds_f64(value * seconds_per);
    origin
        .checked_add(offset)?
        .replace_nanosecond(0)
        .ok()?
        .format(&Rfc3339)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::cf_time;

    #[test]
    fn cf_times() {
        assert_eq!(
            cf_time(1.5, "days since 2000-01-01", None).as_deref(),
            Some("2000-01-02T12:00:00Z")
        );
        assert_eq!(
            cf_time(6.0, "hours since 1900-1-1 0:0:0", Some("gregorian")).as_deref(),
            Some("1900-01-01T06:00:00Z")
        );
        assert_eq!(
            cf_time(60.0, "seconds since 2024-03-05T10:11:12Z", None).as_deref(),
            Some("2024-03-05T10:12:12Z")
        );
        assert_eq!(cf_time(1.0, "days since 2000-01-01", Some("noleap")), None);
        assert_eq!(cf_time(1.0, "metres", None), None);
    }
}
