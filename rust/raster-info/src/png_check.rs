//! What a PNG declares before GDAL reads it: its text chunks. libpng
//! decompresses every `zTXt` and compressed `iTXt` chunk before the image
//! data into memory (GDAL's metadata): 200 such chunks of a few KB each can
//! hold gigabytes. The chunks are walked here, through the same cache GDAL
//! reads from, and their text inflated with a cap, before GDAL opens the file.

use std::io::Read;

use crate::limits::Limits;

const SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";

/// Chunks walked at most before the image data (libpng caches 1,000 ancillary chunks).
const MAX_CHUNKS: usize = 10_000;

/// Why the PNG is refused, or `None` when its text chunks before the image
/// data hold at most `limits.max_text_bytes` of text once decompressed (or
/// it is not a PNG, or its structure is broken: GDAL judges those).
pub(crate) fn refusal(
    read: &mut dyn FnMut(u64, &mut [u8]) -> usize,
    limits: &Limits,
) -> Option<String> {
    let mut signature = [0u8; 8];
    if read(0, &mut signature) < 8 || &signature != SIGNATURE {
        return None;
    }
    let max = limits.max_text_bytes;
    let mut text = 0u64;
    let mut at = 8u64;
    for _ in 0..MAX_CHUNKS {
        let mut head = [0u8; 8];
        if read(at, &mut head) < 8 {
            return None;
        }
        let len = u64::from(u32::from_be_bytes([head[0], head[1], head[2], head[3]]));
        let kind = &head[4..8];
        if kind == b"IDAT" || kind == b"IEND" {
            return None;
        }
        let data_at = at + 8;
        let compressed = match kind {
            b"tEXt" => {
                text = text.saturating_add(len);
                None
            }
            b"zTXt" => Some(false), // keyword\0, method, data
            b"iTXt" => Some(true),  // keyword\0, flag, method, language\0, keyword\0, text
            _ => None,
        };
        if let Some(itxt) = compressed {
            let mut chunk = vec![0u8; len.min(max.saturating_add(1)) as usize];
            let got = read(data_at, &mut chunk);
            chunk.truncate(got);
            if let Some(body) = compressed_text(&chunk, itxt) {
                // Inflate no more than what is left of the budget, plus one byte to know.
                let left = max.saturating_sub(text);
                let mut inflated = 0u64;
                let mut decoder = flate2::read::ZlibDecoder::new(body).take(left + 1);
                let mut buf = [0u8; 16 * 1024];
                while let Ok(n) = decoder.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    inflated += n as u64;
                }
                text = text.saturating_add(inflated);
            }
        }
        if text > max {
            return Some(format!(
                "the PNG's text chunks hold more than the limit of {max} bytes of text"
            ));
        }
        at = data_at + len + 4; // data, then the CRC
    }
    Some(format!(
        "the PNG has more than {MAX_CHUNKS} chunks before its image data"
    ))
}

/// The compressed text of a `zTXt` chunk (after its keyword and method), or
/// of an `iTXt` chunk whose compression flag is set (after keyword, flag,
/// method, language and translated keyword).
fn compressed_text(chunk: &[u8], itxt: bool) -> Option<&[u8]> {
    let keyword_end = chunk.iter().position(|b| *b == 0)?;
    let rest = &chunk[keyword_end + 1..];
    if !itxt {
        return rest.get(1..); // compression method byte
    }
    let (&flag, rest) = rest.split_first()?;
    if flag == 0 {
        return None;
    }
    let rest = rest.get(1..)?; // compression method
    let language_end = rest.iter().position(|b| *b == 0)?;
    let rest = &rest[language_end + 1..];
    let translated_end = rest.iter().position(|b| *b == 0)?;
    Some(&rest[translated_end + 1..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut c = (data.len() as u32).to_be_bytes().to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(data);
        c.extend_from_slice(&[0; 4]); // CRC: not checked here
        c
    }

    fn zlib(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    fn png(text_chunks: &[Vec<u8>]) -> Vec<u8> {
        let mut f = SIGNATURE.to_vec();
        f.extend(chunk(b"IHDR", &[0; 13]));
        for c in text_chunks {
            f.extend_from_slice(c);
        }
        f.extend(chunk(b"IDAT", &[0; 4]));
        // After the image data: not read by GDAL for a header, not counted.
        let mut z = b"late\0\0".to_vec();
        z.extend(zlib(&vec![b'x'; 10_000_000]));
        f.extend(chunk(b"zTXt", &z));
        f.extend(chunk(b"IEND", &[]));
        f
    }

    fn check(bytes: &[u8], max_text_bytes: u64) -> Option<String> {
        let limits = Limits {
            max_text_bytes,
            ..Limits::default()
        };
        let mut read = |off: u64, buf: &mut [u8]| crate::test_support::read_at(bytes, off, buf);
        refusal(&mut read, &limits)
    }

    #[test]
    fn decompressed_text_is_counted_before_gdal_reads_it() {
        let mut ztxt = b"Comment\0\0".to_vec();
        ztxt.extend(zlib(&vec![b'a'; 1_000_000]));
        let mut itxt = b"XML:com.adobe.xmp\0\x01\0en\0\0".to_vec();
        itxt.extend(zlib(&vec![b'b'; 1_000_000]));
        let plain = chunk(b"tEXt", b"Title\0a small title");
        let small = png(std::slice::from_ref(&plain));
        assert_eq!(check(&small, 1000), None);
        // One zTXt of 1 MB decompressed (about 1 KB compressed): past a 500 KB limit.
        let one = png(&[plain.clone(), chunk(b"zTXt", &ztxt)]);
        assert!(check(&one, 500_000)
            .unwrap()
            .contains("500000 bytes of text"));
        assert_eq!(check(&one, 2_000_000), None);
        // Compressed iTXt counts too; uncompressed iTXt is not inflated.
        let both = png(&[chunk(b"zTXt", &ztxt), chunk(b"iTXt", &itxt)]);
        assert!(check(&both, 1_500_000).is_some());
        assert_eq!(check(&both, 2_100_000), None);
        // Not a PNG, or cut short: GDAL's call.
        assert_eq!(check(b"II*\0\x08\0\0\0", 1), None);
        assert_eq!(check(&one[..40], 1), None);
    }
}
