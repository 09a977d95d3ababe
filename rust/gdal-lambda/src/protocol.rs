//! The frames the handler and its parse worker exchange over a socket pair:
//! a tag byte, a little-endian `u32` length, the payload. The handler sends
//! a job and answers the worker's reads; the worker sends reads and, at the
//! end, its verdict. Nothing else crosses: the worker never sees a
//! credential, a key or a URL, only the bytes it asks for.

use std::io::{self, Read, Write};

use raster_info::{Limits, RasterInfo, ThumbnailFormat, ThumbnailRequest};
use serde::{Deserialize, Serialize};

/// Largest frame either side accepts: a worker that announces more is broken.
pub(crate) const MAX_FRAME: usize = 64 << 20;

/// What the handler sends.
pub(crate) mod to_worker {
    /// A job: [`super::Job`] as JSON.
    pub(crate) const JOB: u8 = b'J';
    /// The bytes a read asked for.
    pub(crate) const BYTES: u8 = b'B';
    /// A read that failed; the payload says why (for GDAL's log only).
    pub(crate) const READ_FAILED: u8 = b'F';
}

/// What the worker sends.
pub(crate) mod from_worker {
    /// Its start-up report: [`super::Hello`] as JSON.
    pub(crate) const HELLO: u8 = b'S';
    /// A read: offset (`u64`) and length (`u32`), little-endian.
    pub(crate) const READ: u8 = b'R';
    /// The verdict: [`super::Verdict`] as JSON.
    pub(crate) const DONE: u8 = b'D';
    /// After a verdict of [`super::Verdict::Info`] on a job that asked for a
    /// thumbnail (and only then): [`super::ThumbnailVerdict`] as JSON. The
    /// reads it takes come between the two frames.
    pub(crate) const THUMBNAIL: u8 = b'T';
    /// An allocation failed at the memory cap; the worker aborts next.
    pub(crate) const OUT_OF_MEMORY: u8 = b'M';
}

/// One record to parse.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Job {
    /// The object's name in messages (`s3://bucket/key`).
    pub(crate) name: String,
    /// Its size in bytes.
    pub(crate) size: u64,
    /// Its first bytes, already fetched.
    #[serde(with = "bytes_as_base64")]
    pub(crate) head: Vec<u8>,
    /// What reading it may cost.
    pub(crate) limits: Limits,
    /// The thumbnail to render after the header, if any.
    #[serde(default)]
    pub(crate) thumbnail: Option<ThumbnailRequest>,
}

/// What the worker made of a job's thumbnail.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum ThumbnailVerdict {
    /// The image.
    Rendered(RenderedThumbnail),
    /// Why there is none (a reason of the file's, or a failed read).
    Declined(String),
}

/// A thumbnail as it crosses the socket.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RenderedThumbnail {
    /// Its format.
    pub(crate) format: ThumbnailFormat,
    /// Its size in pixels.
    pub(crate) width: usize,
    /// Its size in pixels.
    pub(crate) height: usize,
    /// What it shows ("overview 4 of 4").
    pub(crate) source: String,
    /// Bytes of the object fetched for it.
    pub(crate) fetched_bytes: u64,
    /// The encoded image.
    #[serde(with = "bytes_as_base64")]
    pub(crate) bytes: Vec<u8>,
}

impl From<raster_info::Thumbnail> for RenderedThumbnail {
    fn from(t: raster_info::Thumbnail) -> Self {
        RenderedThumbnail {
            format: t.format,
            width: t.width,
            height: t.height,
            source: t.source,
            fetched_bytes: t.fetched_bytes,
            bytes: t.bytes,
        }
    }
}

/// What the worker made of a job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum Verdict {
    /// The raster's metadata.
    Info(Box<RasterInfo>),
    /// GDAL's (or our checks') verdict: the kind's name, and the message.
    Failed {
        /// [`raster_info::ErrorKind::name`].
        kind: String,
        /// What went wrong.
        message: String,
    },
}

/// The worker's start-up report: what confines it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Hello {
    /// The kernel's layers and what the probes met.
    pub(crate) kernel: confine::Report,
    /// GDAL's and PROJ's file access.
    pub(crate) gdal: raster_info::Lockdown,
}

/// Write one frame.
pub(crate) fn write_frame(out: &mut impl Write, tag: u8, payload: &[u8]) -> io::Result<()> {
    let len = u32::try_from(payload.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame too large"))?;
    let mut head = [0u8; 5];
    head[0] = tag;
    head[1..].copy_from_slice(&len.to_le_bytes());
    out.write_all(&head)?;
    out.write_all(payload)?;
    out.flush()
}

/// Read one frame: its tag and payload.
pub(crate) fn read_frame(input: &mut impl Read) -> io::Result<(u8, Vec<u8>)> {
    let mut head = [0u8; 5];
    input.read_exact(&mut head)?;
    let len = frame_len(&head)?;
    let mut payload = vec![0u8; len];
    input.read_exact(&mut payload)?;
    Ok((head[0], payload))
}

/// The payload length of a frame header, refused past [`MAX_FRAME`].
pub(crate) fn frame_len(head: &[u8; 5]) -> io::Result<usize> {
    let len = u32::from_le_bytes([head[1], head[2], head[3], head[4]]) as usize;
    if len > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a frame of {len} bytes"),
        ));
    }
    Ok(len)
}

/// A read request's payload.
pub(crate) fn read_request(offset: u64, len: u32) -> [u8; 12] {
    let mut p = [0u8; 12];
    p[..8].copy_from_slice(&offset.to_le_bytes());
    p[8..].copy_from_slice(&len.to_le_bytes());
    p
}

/// The offset and length of a read request, if the payload is one.
pub(crate) fn parse_read_request(payload: &[u8]) -> Option<(u64, u32)> {
    let p: &[u8; 12] = payload.try_into().ok()?;
    let offset = u64::from_le_bytes(p[..8].try_into().ok()?);
    let len = u32::from_le_bytes(p[8..].try_into().ok()?);
    Some((offset, len))
}

/// Bytes in JSON as base64 (the head is up to 32 KiB: a JSON array of numbers would be 4× that).
mod bytes_as_base64 {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_oversized_ones_are_refused() {
        let mut buf = Vec::new();
        write_frame(&mut buf, from_worker::READ, &read_request(1 << 40, 16384)).unwrap();
        write_frame(&mut buf, to_worker::BYTES, b"abc").unwrap();
        let mut r = &buf[..];
        let (tag, p) = read_frame(&mut r).unwrap();
        assert_eq!(
            (tag, parse_read_request(&p)),
            (b'R', Some((1 << 40, 16384)))
        );
        assert_eq!(read_frame(&mut r).unwrap(), (b'B', b"abc".to_vec()));
        assert!(read_frame(&mut r).is_err(), "end of stream");
        let huge = [b'D', 0xff, 0xff, 0xff, 0xff];
        assert!(read_frame(&mut &huge[..]).is_err());
        let job = Job {
            name: "s3://b/k".into(),
            size: 9,
            head: vec![0, 255, 7],
            limits: Limits::default(),
            thumbnail: None,
        };
        let back: Job = serde_json::from_slice(&serde_json::to_vec(&job).unwrap()).unwrap();
        assert_eq!(back.head, job.head);
        assert_eq!(back.limits, Limits::default());
    }
}
