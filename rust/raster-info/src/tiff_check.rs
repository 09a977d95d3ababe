//! What is checked on a TIFF's structure before GDAL opens it.
//!
//! GDAL builds an object for every image file directory (IFD) of a TIFF and
//! every band, whatever the file's size: 100,000 chained IFDs in 11 MB cost
//! hundreds of MB and seconds. Walking the IFD chain here costs a few bytes
//! per IFD, read through the same cache GDAL reads from next. And the CRS
//! text of the GeoTIFF keys (an ESRI PE string) may name files that PROJ
//! would open the moment GDAL parses it.

use std::collections::HashSet;

use crate::crs_refs;

const TAG_SAMPLES_PER_PIXEL: u16 = 277;
const TAG_SUB_IFDS: u16 = 330;
const TAG_GEO_ASCII_PARAMS: u16 = 34737;

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

/// Why a TIFF is refused, or `None` when it is within `max_ifds` image file
/// directories (SubIFDs of the first included, as GDAL reads them) and
/// `max_bands` samples per pixel, and its CRS text names no files. Files that
/// are not TIFFs, or whose structure is broken, pass: GDAL judges those.
pub(crate) fn refusal(
    read: &mut dyn FnMut(u64, &mut [u8]) -> usize,
    max_ifds: usize,
    max_bands: usize,
) -> Option<Refusal> {
    let mut header = [0u8; 16];
    if read(0, &mut header) < 8 {
        return None;
    }
    let little = match &header[..2] {
        b"II" => true,
        b"MM" => false,
        _ => return None,
    };
    let u16_at = |b: &[u8]| {
        let a = [b[0], b[1]];
        if little {
            u16::from_le_bytes(a)
        } else {
            u16::from_be_bytes(a)
        }
    };
    let u32_at = |b: &[u8]| {
        let a = [b[0], b[1], b[2], b[3]];
        if little {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    };
    let u64_at = |b: &[u8]| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[..8]);
        if little {
            u64::from_le_bytes(a)
        } else {
            u64::from_be_bytes(a)
        }
    };
    let big = match u16_at(&header[2..4]) {
        42 => false,
        43 => true,
        _ => return None,
    };
    let (count_size, entry_size, offset_size) = if big { (8, 20, 8) } else { (2, 12, 4) };
    let mut offset = if big {
        u64_at(&header[8..16])
    } else {
        u64::from(u32_at(&header[4..8]))
    };

    let mut seen = HashSet::new();
    let mut ifds = 0usize;
    while offset != 0 && seen.insert(offset) {
        ifds += 1;
        if ifds > max_ifds {
            return Some(too_many(max_ifds));
        }
        let mut count_bytes = [0u8; 8];
        if read(offset, &mut count_bytes[..count_size]) < count_size {
            return None;
        }
        let count = if big {
            u64_at(&count_bytes)
        } else {
            u64::from(u16_at(&count_bytes))
        };
        // libtiff refuses directories this large; let GDAL say so.
        if count > 65_535 {
            return None;
        }
        let entries_at = offset + count_size as u64;
        let next_at = entries_at + count * entry_size;
        if ifds == 1 {
            let mut entries = vec![0u8; (count * entry_size) as usize];
            if read(entries_at, &mut entries) < entries.len() {
                return None;
            }
            for e in entries.chunks(entry_size as usize) {
                let (tag, n) = if big {
                    (u16_at(&e[0..2]), u64_at(&e[4..12]))
                } else {
                    (u16_at(&e[0..2]), u64::from(u32_at(&e[4..8])))
                };
                match tag {
                    TAG_SAMPLES_PER_PIXEL => {
                        let bands = usize::from(u16_at(&e[4 + offset_size..]));
                        if bands > max_bands {
                            return Some(Refusal::Limit(format!(
                                "the TIFF has {bands} bands, more than the limit of {max_bands}"
                            )));
                        }
                    }
                    TAG_SUB_IFDS => {
                        ifds = ifds.saturating_add(usize::try_from(n).unwrap_or(usize::MAX));
                        if ifds > max_ifds {
                            return Some(too_many(max_ifds));
                        }
                    }
                    TAG_GEO_ASCII_PARAMS => {
                        let value = &e[4 + offset_size..];
                        let len = n.min(MAX_GEO_ASCII) as usize;
                        let text = if n <= offset_size as u64 {
                            value[..len].to_vec()
                        } else {
                            let at = if big {
                                u64_at(value)
                            } else {
                                u64::from(u32_at(value))
                            };
                            let mut text = vec![0u8; len];
                            let got = read(at, &mut text);
                            text.truncate(got);
                            text
                        };
                        if crs_refs::names_files(&String::from_utf8_lossy(&text)) {
                            return Some(Refusal::NamesFiles);
                        }
                    }
                    _ => {}
                }
            }
        }
        let mut next = [0u8; 8];
        if read(next_at, &mut next[..offset_size]) < offset_size {
            return None;
        }
        offset = if big {
            u64_at(&next)
        } else {
            u64::from(u32_at(&next))
        };
    }
    None
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
        let mut read = |off: u64, buf: &mut [u8]| {
            let off = off as usize;
            if off >= bytes.len() {
                return 0;
            }
            let n = buf.len().min(bytes.len() - off);
            buf[..n].copy_from_slice(&bytes[off..off + n]);
            n
        };
        refusal(&mut read, max_ifds, max_bands)
    }

    #[test]
    fn counts_chained_ifds_and_bands() {
        assert_eq!(check(&chained(10, 3), 10, 100), None);
        let limit = |r: Option<Refusal>| match r {
            Some(Refusal::Limit(m)) => m,
            other => panic!("{other:?}"),
        };
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
