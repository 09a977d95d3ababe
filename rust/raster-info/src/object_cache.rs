//! The bytes of one uploaded object as GDAL asks for them: fetched by ranges
//! through a [`RangeReader`], kept in blocks so nothing is fetched twice,
//! within a byte budget, and with the first failure remembered so the caller
//! knows for certain whether GDAL saw every byte it asked for.

use std::collections::HashMap;
use std::sync::Arc;

/// Fetches byte ranges of one stored object (an S3 object in gdal-lambda).
pub trait RangeReader: Send + Sync {
    /// Exactly `len` bytes at `offset` (the range never reaches past the end
    /// of the object), or why not. The implementation keeps its own typed
    /// error for its caller; the message is for GDAL's log.
    fn read_range(&self, offset: u64, len: usize) -> Result<Vec<u8>, String>;
}

/// Bytes per cached block; reads are fetched in whole blocks.
pub(crate) const BLOCK: u64 = 16 * 1024;
/// Read-ahead grows up to this many blocks (1 MiB) while GDAL reads sequentially.
const MAX_AHEAD: u64 = 64;

/// Why the object could not be served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// A range read failed (network, S3, deadline): the result is unknown, not wrong.
    Read(String),
    /// Serving GDAL would take more bytes than the budget allows.
    Budget(u64),
}

/// One object's cached bytes.
pub(crate) struct ObjectCache {
    reader: Arc<dyn RangeReader>,
    size: u64,
    budget: u64,
    fetched: u64,
    blocks: HashMap<u64, Vec<u8>>,
    /// Block after the last fetched run, and the read-ahead for a run starting there.
    next_sequential: Option<u64>,
    ahead: u64,
    failure: Option<Failure>,
}

impl ObjectCache {
    /// A cache for an object of `size` bytes whose first bytes (`head`) are
    /// already fetched; at most `budget` bytes are fetched in all.
    pub(crate) fn new(reader: Arc<dyn RangeReader>, size: u64, head: &[u8], budget: u64) -> Self {
        let mut cache = ObjectCache {
            reader,
            size,
            budget,
            fetched: 0,
            blocks: HashMap::new(),
            next_sequential: None,
            ahead: 1,
            failure: None,
        };
        // Only whole blocks (or the object's last block) are kept.
        let usable = head.len() as u64 / BLOCK * BLOCK;
        let usable = if head.len() as u64 >= size {
            size
        } else {
            usable
        };
        cache.store(0, &head[..usable as usize]);
        cache.fetched = usable;
        cache
    }

    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// Bytes fetched so far (the head included).
    pub(crate) fn fetched(&self) -> u64 {
        self.fetched
    }

    /// Bytes that may be fetched in all.
    pub(crate) fn budget(&self) -> u64 {
        self.budget
    }

    /// Fetch the missing blocks of `[start, end)` now, one request per run of
    /// them and nothing beyond: a read of known extent (a thumbnail's tiles)
    /// is not sequential reading, so no read-ahead. Failures are kept as for
    /// any read.
    pub(crate) fn prefetch(&mut self, start: u64, end: u64) {
        let end = end.min(self.size);
        if start < end {
            self.next_sequential = None;
            let _ = self.ensure(start, end);
        }
    }

    /// The first failure, if any read failed.
    pub(crate) fn failure(&self) -> Option<&Failure> {
        self.failure.as_ref()
    }

    /// Copy the bytes at `offset` into `out`; returns how many were copied:
    /// fewer than asked at the end of the object or after a failure.
    pub(crate) fn read_at(&mut self, offset: u64, out: &mut [u8]) -> usize {
        let end = offset.saturating_add(out.len() as u64).min(self.size);
        if offset >= end || self.ensure(offset, end).is_err() {
            return 0;
        }
        let mut pos = offset;
        while pos < end {
            let block = pos / BLOCK;
            let Some(data) = self.blocks.get(&block) else {
                return (pos - offset) as usize;
            };
            let start = (pos - block * BLOCK) as usize;
            let n = ((end - pos) as usize).min(data.len().saturating_sub(start));
            if n == 0 {
                break;
            }
            let at = (pos - offset) as usize;
            out[at..at + n].copy_from_slice(&data[start..start + n]);
            pos += n as u64;
        }
        (pos - offset) as usize
    }

    fn store(&mut self, offset: u64, data: &[u8]) {
        debug_assert_eq!(offset % BLOCK, 0);
        for (i, chunk) in data.chunks(BLOCK as usize).enumerate() {
            self.blocks
                .insert(offset / BLOCK + i as u64, chunk.to_vec());
        }
    }

    /// Fetch every missing block of `[start, end)`, one request per run of missing blocks.
    fn ensure(&mut self, start: u64, end: u64) -> Result<(), ()> {
        if self.failure.is_some() {
            return Err(());
        }
        let last_block = (self.size - 1) / BLOCK;
        let (first, last) = (start / BLOCK, (end - 1) / BLOCK);
        let mut b = first;
        while b <= last {
            if self.blocks.contains_key(&b) {
                b += 1;
                continue;
            }
            let mut run_end = b;
            while run_end < last && !self.blocks.contains_key(&(run_end + 1)) {
                run_end += 1;
            }
            let needed = self.span(b, run_end);
            if self.fetched + needed > self.budget {
                self.failure = Some(Failure::Budget(self.budget));
                return Err(());
            }
            // Sequential reads (IFD chains, strip tables) fetch ahead, doubling each time.
            self.ahead = if self.next_sequential == Some(b) {
                (self.ahead * 2).min(MAX_AHEAD)
            } else {
                1
            };
            let mut fetch_end = run_end;
            while fetch_end < last_block
                && fetch_end - b + 1 < self.ahead
                && !self.blocks.contains_key(&(fetch_end + 1))
                && self.fetched + self.span(b, fetch_end + 1) <= self.budget
            {
                fetch_end += 1;
            }
            let (offset, len) = (b * BLOCK, self.span(b, fetch_end));
            match self.reader.read_range(offset, len as usize) {
                Ok(data) if data.len() as u64 == len => {
                    self.store(offset, &data);
                    self.fetched += len;
                }
                Ok(data) => {
                    self.failure = Some(Failure::Read(format!(
                        "asked for {len} bytes at {offset}, got {}",
                        data.len()
                    )));
                    return Err(());
                }
                Err(message) => {
                    self.failure = Some(Failure::Read(message));
                    return Err(());
                }
            }
            self.next_sequential = Some(fetch_end + 1);
            b = fetch_end + 1;
        }
        Ok(())
    }

    /// Bytes of the blocks `first..=last`, the object's end considered.
    fn span(&self, first: u64, last: u64) -> u64 {
        ((last + 1) * BLOCK).min(self.size) - first * BLOCK
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    struct Bytes {
        data: Vec<u8>,
        calls: Mutex<Vec<(u64, usize)>>,
        fail_from: Option<u64>,
    }

    impl RangeReader for Bytes {
        fn read_range(&self, offset: u64, len: usize) -> Result<Vec<u8>, String> {
            self.calls.lock().unwrap().push((offset, len));
            if self.fail_from.is_some_and(|f| offset + len as u64 > f) {
                return Err("connection reset".into());
            }
            Ok(self.data[offset as usize..offset as usize + len].to_vec())
        }
    }

    fn object(size: usize, fail_from: Option<u64>) -> Arc<Bytes> {
        Arc::new(Bytes {
            data: (0..size).map(|i| (i % 251) as u8).collect(),
            calls: Mutex::new(vec![]),
            fail_from,
        })
    }

    #[test]
    fn serves_the_head_without_requests_and_the_rest_by_blocks() {
        let obj = object(200_000, None);
        let mut cache = ObjectCache::new(obj.clone(), 200_000, &obj.data[..32768], 1 << 20);
        let mut buf = vec![0u8; 1000];
        assert_eq!(cache.read_at(100, &mut buf), 1000);
        assert_eq!(&buf[..], &obj.data[100..1100]);
        assert!(obj.calls.lock().unwrap().is_empty());
        // A read across the head's end fetches one block; the same read again costs nothing.
        assert_eq!(cache.read_at(32000, &mut buf), 1000);
        assert_eq!(&buf[..], &obj.data[32000..33000]);
        assert_eq!(cache.read_at(32000, &mut buf), 1000);
        assert_eq!(*obj.calls.lock().unwrap(), vec![(32768, 16384)]);
        // At the end: a short read of what is there.
        assert_eq!(cache.read_at(199_500, &mut buf), 500);
        assert_eq!(&buf[..500], &obj.data[199_500..]);
        assert_eq!(cache.read_at(200_000, &mut buf), 0);
        assert!(cache.failure().is_none());
    }

    #[test]
    fn sequential_reads_fetch_ahead() {
        let obj = object(2_000_000, None);
        let mut cache = ObjectCache::new(obj.clone(), 2_000_000, &[], 4 << 20);
        let mut buf = vec![0u8; 4096];
        let mut pos = 0;
        while pos < 1_000_000 {
            assert_eq!(cache.read_at(pos, &mut buf), 4096);
            assert_eq!(&buf[..], &obj.data[pos as usize..pos as usize + 4096]);
            pos += 4096;
        }
        let calls = obj.calls.lock().unwrap().len();
        assert!(calls <= 10, "{calls} requests for 1 MB read sequentially");
    }

    #[test]
    fn failures_and_budget_are_remembered() {
        let obj = object(100_000, Some(50_000));
        let mut cache = ObjectCache::new(obj.clone(), 100_000, &obj.data[..16384], 1 << 20);
        let mut buf = vec![0u8; 100];
        assert_eq!(cache.read_at(60_000, &mut buf), 0);
        assert_eq!(
            cache.failure(),
            Some(&Failure::Read("connection reset".into()))
        );
        // Later reads fail at once, even of cached bytes' neighbours.
        assert_eq!(cache.read_at(20_000, &mut buf), 0);

        let obj = object(10_000_000, None);
        let mut cache = ObjectCache::new(obj.clone(), 10_000_000, &[], 64 * 1024);
        assert_eq!(cache.read_at(0, &mut buf), 100);
        let mut big = vec![0u8; 100_000];
        assert_eq!(cache.read_at(5_000_000, &mut big), 0);
        assert_eq!(cache.failure(), Some(&Failure::Budget(64 * 1024)));
    }
}
