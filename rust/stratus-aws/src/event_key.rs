//! Object keys as S3 event notifications carry them: form-encoded
//! (`+` for a space, `%2B` for a plus), decoded back to the stored key.

use crate::{Error, Result};

/// Decode an object key as S3 event notifications carry it: form encoding,
/// where `+` is a space, `%2B` a plus and `%XX` sequences are UTF-8 bytes.
///
/// ```
/// assert_eq!(stratus_aws::decode_event_key("my+file%2B1%C3%A9.tif").unwrap(), "my file+1é.tif");
/// ```
pub fn decode_event_key(raw: &str) -> Result<String> {
    let invalid = |reason| Error::InvalidKey {
        key: raw.to_string(),
        reason,
    };
    let mut bytes = Vec::with_capacity(raw.len());
    let mut iter = raw.bytes();
    while let Some(b) = iter.next() {
        match b {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hi = iter
                    .next()
                    .and_then(hex)
                    .ok_or_else(|| invalid("truncated or bad %-escape"))?;
                let lo = iter
                    .next()
                    .and_then(hex)
                    .ok_or_else(|| invalid("truncated or bad %-escape"))?;
                bytes.push(hi << 4 | lo);
            }
            _ => bytes.push(b),
        }
    }
    String::from_utf8(bytes).map_err(|_| invalid("escapes are not UTF-8"))
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_form_encoding() {
        assert_eq!(decode_event_key("plain/key.tif").unwrap(), "plain/key.tif");
        assert_eq!(decode_event_key("a+b").unwrap(), "a b");
        assert_eq!(decode_event_key("a%2Bb").unwrap(), "a+b");
        assert_eq!(decode_event_key("a%2bb").unwrap(), "a+b");
        assert_eq!(
            decode_event_key("caf%C3%A9%2F%E6%97%A5.tif").unwrap(),
            "café/日.tif"
        );
        assert_eq!(decode_event_key("100%25").unwrap(), "100%");
    }

    #[test]
    fn rejects_bad_escapes() {
        for bad in ["a%", "a%2", "a%zz", "%FF%FE"] {
            let err = decode_event_key(bad).unwrap_err();
            assert_eq!(err.kind(), "InvalidKey", "{bad}");
        }
    }
}
