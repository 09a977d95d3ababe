//! A TIFF's structure as its bytes declare it: byte order, classic TIFF or
//! BigTIFF, and its image file directories (IFDs) with their entries, read
//! through a closure that copies the bytes at an offset (a file, or an
//! upload's cache). Both the checks made before GDAL opens a TIFF
//! ([`crate::tiff_check`]) and the COG verdict ([`crate::cog`]) walk it.

/// Copies the bytes at an offset into the buffer; returns how many it copied
/// (fewer at the end of the file or after a failed read).
pub(crate) type ReadAt<'a> = dyn FnMut(u64, &mut [u8]) -> usize + 'a;

pub(crate) const TAG_NEW_SUBFILE_TYPE: u16 = 254;
pub(crate) const TAG_IMAGE_WIDTH: u16 = 256;
pub(crate) const TAG_IMAGE_LENGTH: u16 = 257;
pub(crate) const TAG_STRIP_OFFSETS: u16 = 273;
pub(crate) const TAG_SAMPLES_PER_PIXEL: u16 = 277;
pub(crate) const TAG_STRIP_BYTE_COUNTS: u16 = 279;
pub(crate) const TAG_TILE_WIDTH: u16 = 322;
pub(crate) const TAG_TILE_LENGTH: u16 = 323;
pub(crate) const TAG_TILE_OFFSETS: u16 = 324;
pub(crate) const TAG_TILE_BYTE_COUNTS: u16 = 325;
pub(crate) const TAG_SUB_IFDS: u16 = 330;
pub(crate) const TAG_GEO_ASCII_PARAMS: u16 = 34737;
pub(crate) const TAG_GDAL_METADATA: u16 = 42112;

/// libtiff refuses directories with more entries than this.
const MAX_ENTRIES: u64 = 65_535;

/// The header of a TIFF: how its numbers are written and where its first IFD is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tiff {
    little: bool,
    /// BigTIFF (64-bit offsets).
    pub(crate) big: bool,
    /// Offset of the first IFD.
    pub(crate) first_ifd: u64,
}

/// One IFD entry: a tag, its field type, its count and the value field
/// (the value itself when it fits, else the offset of the values).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub(crate) tag: u16,
    pub(crate) field_type: u16,
    pub(crate) count: u64,
    value: [u8; 8],
}

/// One image file directory.
#[derive(Debug, Clone)]
pub(crate) struct Ifd {
    /// Where it starts.
    pub(crate) offset: u64,
    pub(crate) entries: Vec<Entry>,
    /// Offset of the next IFD (0: none).
    pub(crate) next: u64,
}

impl Ifd {
    pub(crate) fn entry(&self, tag: u16) -> Option<&Entry> {
        self.entries.iter().find(|e| e.tag == tag)
    }
}

/// Bytes of one value of a TIFF field type (0 for a type libtiff ignores).
pub(crate) fn type_size(field_type: u16) -> u64 {
    match field_type {
        1 | 2 | 6 | 7 => 1,         // BYTE, ASCII, SBYTE, UNDEFINED
        3 | 8 => 2,                 // SHORT, SSHORT
        4 | 9 | 11 | 13 => 4,       // LONG, SLONG, FLOAT, IFD
        5 | 10 | 12 | 16..=18 => 8, // RATIONAL, SRATIONAL, DOUBLE, LONG8, SLONG8, IFD8
        _ => 0,
    }
}

impl Tiff {
    /// The header, if the bytes start like a TIFF or BigTIFF.
    pub(crate) fn header(read: &mut ReadAt) -> Option<Tiff> {
        let mut header = [0u8; 16];
        if read(0, &mut header) < 8 {
            return None;
        }
        let little = match &header[..2] {
            b"II" => true,
            b"MM" => false,
            _ => return None,
        };
        let mut tiff = Tiff {
            little,
            big: false,
            first_ifd: 0,
        };
        tiff.big = match tiff.u16(&header[2..4]) {
            42 => false,
            43 => true,
            _ => return None,
        };
        tiff.first_ifd = if tiff.big {
            tiff.u64(&header[8..16])
        } else {
            u64::from(tiff.u32(&header[4..8]))
        };
        Some(tiff)
    }

    pub(crate) fn u16(&self, b: &[u8]) -> u16 {
        let a = [b[0], b[1]];
        if self.little {
            u16::from_le_bytes(a)
        } else {
            u16::from_be_bytes(a)
        }
    }

    pub(crate) fn u32(&self, b: &[u8]) -> u32 {
        let a = [b[0], b[1], b[2], b[3]];
        if self.little {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    }

    fn u64(&self, b: &[u8]) -> u64 {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[..8]);
        if self.little {
            u64::from_le_bytes(a)
        } else {
            u64::from_be_bytes(a)
        }
    }

    /// Bytes of an offset (4 in a classic TIFF, 8 in a BigTIFF): also the
    /// room for a value inside its entry.
    pub(crate) fn offset_size(&self) -> usize {
        if self.big {
            8
        } else {
            4
        }
    }

    /// Where the bytes right after the header start (8, or 16 for BigTIFF).
    pub(crate) fn header_size(&self) -> u64 {
        if self.big {
            16
        } else {
            8
        }
    }

    /// The IFD at `offset`, or `None` when its entries are cut short or more
    /// than libtiff accepts.
    pub(crate) fn ifd(&self, read: &mut ReadAt, offset: u64) -> Option<Ifd> {
        let (count_size, entry_size) = if self.big { (8, 20) } else { (2, 12) };
        let mut count_bytes = [0u8; 8];
        if read(offset, &mut count_bytes[..count_size]) < count_size {
            return None;
        }
        let count = if self.big {
            self.u64(&count_bytes)
        } else {
            u64::from(self.u16(&count_bytes))
        };
        if count > MAX_ENTRIES {
            return None;
        }
        let entries_at = offset + count_size as u64;
        let mut bytes = vec![0u8; (count * entry_size) as usize];
        if read(entries_at, &mut bytes) < bytes.len() {
            return None;
        }
        let value_at = 4 + self.offset_size();
        let entries = bytes
            .chunks(entry_size as usize)
            .map(|e| {
                let mut value = [0u8; 8];
                value[..self.offset_size()].copy_from_slice(&e[value_at..]);
                Entry {
                    tag: self.u16(&e[0..2]),
                    field_type: self.u16(&e[2..4]),
                    count: if self.big {
                        self.u64(&e[4..12])
                    } else {
                        u64::from(self.u32(&e[4..8]))
                    },
                    value,
                }
            })
            .collect();
        // A link cut short ends the chain: the entries still count.
        let mut next = [0u8; 8];
        let os = self.offset_size();
        let next = if read(entries_at + count * entry_size, &mut next[..os]) < os {
            0
        } else if self.big {
            self.u64(&next)
        } else {
            u64::from(self.u32(&next))
        };
        Some(Ifd {
            offset,
            entries,
            next,
        })
    }

    /// Bytes the entry's values take.
    pub(crate) fn payload(&self, e: &Entry) -> u64 {
        e.count.saturating_mul(type_size(e.field_type))
    }

    /// Whether the values sit in the entry itself.
    pub(crate) fn inline(&self, e: &Entry) -> bool {
        self.payload(e) <= self.offset_size() as u64
    }

    /// The entry's value field: its values when inline.
    pub(crate) fn value_bytes<'e>(&self, e: &'e Entry) -> &'e [u8] {
        &e.value[..self.offset_size()]
    }

    /// Where the values of an entry that does not hold them are.
    pub(crate) fn value_offset(&self, e: &Entry) -> u64 {
        if self.big {
            self.u64(&e.value)
        } else {
            u64::from(self.u32(&e.value))
        }
    }

    /// The first `n` (at most) unsigned integers of an entry of SHORT, LONG
    /// or LONG8 values, wherever they are; fewer when the file is cut short.
    pub(crate) fn integers(&self, read: &mut ReadAt, e: &Entry, n: usize) -> Vec<u64> {
        let size = type_size(e.field_type) as usize;
        if !matches!(e.field_type, 3 | 4 | 16) {
            return Vec::new();
        }
        let n = n.min(usize::try_from(e.count).unwrap_or(usize::MAX));
        let mut bytes = vec![0u8; n * size];
        let got = if self.inline(e) {
            bytes.copy_from_slice(&self.value_bytes(e)[..n * size]);
            bytes.len()
        } else {
            read(self.value_offset(e), &mut bytes)
        };
        bytes[..got - got % size]
            .chunks(size)
            .map(|b| match size {
                2 => u64::from(self.u16(b)),
                4 => u64::from(self.u32(b)),
                _ => self.u64(b),
            })
            .collect()
    }

    /// The entry's first unsigned integer.
    pub(crate) fn integer(&self, read: &mut ReadAt, e: &Entry) -> Option<u64> {
        self.integers(read, e, 1).first().copied()
    }

    /// The IFD chain from the first IFD, at most `max` IFDs (a loop ends it),
    /// and whether it was read to its end.
    pub(crate) fn chain(&self, read: &mut ReadAt, max: usize) -> (Vec<Ifd>, bool) {
        let mut seen = std::collections::HashSet::new();
        let mut ifds = Vec::new();
        let mut offset = self.first_ifd;
        while offset != 0 && seen.insert(offset) {
            if ifds.len() == max {
                return (ifds, false);
            }
            let Some(ifd) = self.ifd(read, offset) else {
                return (ifds, false);
            };
            offset = ifd.next;
            ifds.push(ifd);
        }
        (ifds, true)
    }
}
