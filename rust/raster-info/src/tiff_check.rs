//! What is checked on a TIFF's structure before GDAL opens it: what the
//! file declares, counted before GDAL builds it.
//!
//! GDAL builds an object for every image file directory (IFD) of a TIFF and
//! every band, and libtiff reads every tag's value into memory, whatever the
//! file's size: 100,000 chained IFDs in 11 MB cost hundreds of MB and
//! seconds; 3,000 tags pointing at the same 1 MB cost 3 GB; 200,000
//! metadata domains in GDAL's metadata tag take GDAL minutes. Walking the
//! IFD chain here costs a few bytes per entry, read through the same cache
//! GDAL reads from next. And the CRS text of the GeoTIFF keys (an ESRI PE
//! string) may name files that PROJ would open; that refusal is an early,
//! well-worded one (PROJ's file access goes through the lockdown anyway).

use std::collections::HashSet;

use crate::crs_refs;
use crate::limits::Limits;
use crate::tiff_ifds::{
    ReadAt, Tiff, TAG_GDAL_METADATA, TAG_GEO_ASCII_PARAMS, TAG_SAMPLES_PER_PIXEL,
    TAG_STRIP_BYTE_COUNTS, TAG_STRIP_OFFSETS, TAG_SUB_IFDS, TAG_TILE_BYTE_COUNTS, TAG_TILE_OFFSETS,
};

/// CRS text read at most (GDAL itself reads 2,400 bytes of a PE string).
const MAX_GEO_ASCII: u64 = 64 * 1024;

/// Why a TIFF is refused before GDAL opens it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Past a limit: what it is.
    Limit(String),
    /// Its GeoTIFF CRS text names files (grid or init files) by path or URL.
    NamesFiles,
}

/// The offset arrays of strips and tiles, which GDAL loads lazily (not at open).
fn is_strile_array(tag: u16) -> bool {
    matches!(
        tag,
        TAG_STRIP_OFFSETS | TAG_STRIP_BYTE_COUNTS | TAG_TILE_OFFSETS | TAG_TILE_BYTE_COUNTS
    )
}

/// Why a TIFF is refused, or `None` when what it declares is within
/// `limits`: image file directories (SubIFDs included), samples per pixel on
/// every IFD, bytes of tag values in all IFDs (a value counted every time a
/// tag points at it; the strip and tile offset arrays, read lazily, aside),
/// metadata domains in GDAL's metadata tag; and its CRS text names no files.
/// Files that are not TIFFs, or whose structure is broken, pass: GDAL judges those.
pub(crate) fn refusal(read: &mut ReadAt, limits: &Limits) -> Option<Refusal> {
    let tiff = Tiff::header(read)?;
    let (max_ifds, max_bands) = (limits.max_tiff_ifds, limits.max_bands);
    let mut seen = HashSet::new();
    let mut ifds = 0usize;
    let mut tag_bytes = 0u64;
    let mut offset = tiff.first_ifd;
    while offset != 0 && seen.insert(offset) {
        ifds += 1;
        if ifds > max_ifds {
            return Some(too_many(max_ifds));
        }
        let ifd = tiff.ifd(read, offset)?;
        for e in &ifd.entries {
            let payload = tiff.payload(e);
            if !tiff.inline(e) && !is_strile_array(e.tag) {
                tag_bytes = tag_bytes.saturating_add(payload);
                if tag_bytes > limits.max_tag_bytes {
                    return Some(Refusal::Limit(format!(
                        "the TIFF's tags declare more than the limit of {} bytes of values",
                        limits.max_tag_bytes
                    )));
                }
            }
            match e.tag {
                TAG_SAMPLES_PER_PIXEL => {
                    let bands = usize::from(tiff.u16(tiff.value_bytes(e)));
                    if bands > max_bands {
                        return Some(Refusal::Limit(format!(
                            "the TIFF has {bands} bands in image file directory {ifds}, more than the limit of {max_bands}"
                        )));
                    }
                }
                TAG_SUB_IFDS => {
                    ifds = ifds.saturating_add(usize::try_from(e.count).unwrap_or(usize::MAX));
                    if ifds > max_ifds {
                        return Some(too_many(max_ifds));
                    }
                }
                TAG_GEO_ASCII_PARAMS => {
                    let len = e.count.min(MAX_GEO_ASCII) as usize;
                    let text = if tiff.inline(e) {
                        tiff.value_bytes(e)[..len].to_vec()
                    } else {
                        let mut text = vec![0u8; len];
                        let got = read(tiff.value_offset(e), &mut text);
                        text.truncate(got);
                        text
                    };
                    if crs_refs::names_files(&String::from_utf8_lossy(&text)) {
                        return Some(Refusal::NamesFiles);
                    }
                }
                TAG_GDAL_METADATA if !tiff.inline(e) => {
                    // Within max_tag_bytes, checked above.
                    let mut xml = vec![0u8; payload as usize];
                    let got = read(tiff.value_offset(e), &mut xml);
                    let domains = metadata_domains(&xml[..got]);
                    if domains > limits.max_metadata_domains {
                        return Some(Refusal::Limit(format!(
                            "GDAL's metadata tag declares {domains} metadata domains, more than the limit of {}",
                            limits.max_metadata_domains
                        )));
                    }
                }
                _ => {}
            }
        }
        offset = ifd.next;
    }
    None
}

/// Distinct metadata domains named in GDAL's metadata XML (`<Item … domain="D">`).
fn metadata_domains(xml: &[u8]) -> usize {
    let text = String::from_utf8_lossy(xml);
    let mut domains: HashSet<&str> = HashSet::new();
    for (at, _) in text.match_indices("domain=") {
        let rest = &text[at + "domain=".len()..];
        let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            continue;
        };
        let name = rest[1..].split(quote).next().unwrap_or_default();
        domains.insert(name);
    }
    domains.len()
}

fn too_many(max_ifds: usize) -> Refusal {
    Refusal::Limit(format!(
        "the TIFF has more than {max_ifds} image file directories (IFDs)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian classic TIFF: `n` chained IFDs of one entry each, the
    /// first with SamplesPerPixel = `bands`.
    fn chained(n: usize, bands: u16) -> Vec<u8> {
        let mut f = b"II*\0".to_vec();
        f.extend_from_slice(&8u32.to_le_bytes());
        for i in 0..n {
            let here = f.len() as u32;
            f.extend_from_slice(&1u16.to_le_bytes());
            f.extend_from_slice(&TAG_SAMPLES_PER_PIXEL.to_le_bytes());
            f.extend_from_slice(&3u16.to_le_bytes()); // SHORT
            f.extend_from_slice(&1u32.to_le_bytes());
            f.extend_from_slice(&u32::from(bands).to_le_bytes());
            let next = if i + 1 == n { 0 } else { here + 18 };
            f.extend_from_slice(&next.to_le_bytes());
        }
        f
    }

    fn check(bytes: &[u8], max_ifds: usize, max_bands: usize) -> Option<Refusal> {
        let limits = Limits {
            max_tiff_ifds: max_ifds,
            max_bands,
            ..Limits::default()
        };
        let mut read = |off: u64, buf: &mut [u8]| crate::test_support::read_at(bytes, off, buf);
        refusal(&mut read, &limits)
    }

    /// A little-endian classic TIFF of chained IFDs, each a list of
    /// (tag, type, count, value or offset) entries, and `data` after them.
    fn tiff(ifds: &[Vec<(u16, u16, u32, u32)>], data: &[u8]) -> Vec<u8> {
        let mut f = b"II*\0".to_vec();
        f.extend_from_slice(&8u32.to_le_bytes());
        for (i, entries) in ifds.iter().enumerate() {
            let here = f.len() as u32;
            f.extend_from_slice(&(entries.len() as u16).to_le_bytes());
            for &(tag, ty, count, value) in entries {
                for part in [
                    &tag.to_le_bytes()[..],
                    &ty.to_le_bytes(),
                    &count.to_le_bytes(),
                ] {
                    f.extend_from_slice(part);
                }
                f.extend_from_slice(&value.to_le_bytes());
            }
            let next = if i + 1 == ifds.len() {
                0
            } else {
                here + 2 + 12 * entries.len() as u32 + 4
            };
            f.extend_from_slice(&next.to_le_bytes());
        }
        f.extend_from_slice(data);
        f
    }

    fn limit(r: Option<Refusal>) -> String {
        match r {
            Some(Refusal::Limit(m)) => m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bands_are_counted_on_every_ifd() {
        let ifd = |bands: u32| vec![(TAG_SAMPLES_PER_PIXEL, 3, 1, bands)];
        let mut ifds: Vec<_> = (0..999).map(|_| ifd(3)).collect();
        assert_eq!(check(&tiff(&ifds, &[]), 1024, 2000), None);
        ifds.push(ifd(65_535));
        let m = limit(check(&tiff(&ifds, &[]), 1024, 2000));
        assert!(
            m.contains("65535 bands in image file directory 1000"),
            "{m}"
        );
    }

    #[test]
    fn tag_values_are_counted_every_time_a_tag_points_at_them() {
        // 3,000 private tags, each declaring the same 1 MB: 3 GB for libtiff.
        let entries: Vec<_> = (0..3000)
            .map(|i| (40000 + i as u16, 7, 1 << 20, 8))
            .collect();
        let m = limit(check(&tiff(&[entries], &[]), 1024, 2000));
        assert!(m.contains("bytes of values"), "{m}");
        // Strip offsets of a large striped image are read lazily: not counted.
        let striles = vec![
            (TAG_STRIP_OFFSETS, 16, 4_000_000, 8),
            (TAG_STRIP_BYTE_COUNTS, 16, 4_000_000, 8),
        ];
        assert_eq!(check(&tiff(&[striles], &[]), 1024, 2000), None);
    }

    #[test]
    fn metadata_domains_are_counted() {
        let xml = |n: usize| {
            let items: String = (0..n)
                .map(|i| format!("<Item name=\"K\" domain=\"D{i}\">v</Item>"))
                .collect();
            format!("<GDALMetadata>{items}</GDALMetadata>\0").into_bytes()
        };
        for (domains, refused) in [(1024, false), (1025, true)] {
            let data = xml(domains);
            // The data follows the one IFD of one entry: at 8 + 2 + 12 + 4.
            let entry = (TAG_GDAL_METADATA, 2, data.len() as u32, 26);
            let r = check(&tiff(&[vec![entry]], &data), 1024, 2000);
            assert_eq!(r.is_some(), refused, "{domains}: {r:?}");
        }
    }

    #[test]
    fn counts_chained_ifds_and_bands() {
        assert_eq!(check(&chained(10, 3), 10, 100), None);
        assert!(limit(check(&chained(11, 3), 10, 100)).contains("more than 10"));
        assert!(limit(check(&chained(1, 500), 10, 100)).contains("500 bands"));
        // A loop is not a long chain.
        let mut looped = chained(2, 1);
        let last_next = looped.len() - 4;
        looped[last_next..].copy_from_slice(&8u32.to_le_bytes());
        assert_eq!(check(&looped, 10, 100), None);
        // Not a TIFF, or cut short: GDAL's call.
        assert_eq!(check(b"\x89PNG\r\n\x1a\n", 10, 100), None);
        assert_eq!(check(&chained(5, 1)[..20], 1, 100), None);
    }
}
