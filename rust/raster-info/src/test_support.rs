//! What the unit tests of the header checks share.

/// Copy the bytes of `bytes` at `offset` into `buf`, as a read of a file
/// would: fewer at its end, none past it.
pub(crate) fn read_at(bytes: &[u8], offset: u64, buf: &mut [u8]) -> usize {
    let offset = offset as usize;
    if offset >= bytes.len() {
        return 0;
    }
    let n = buf.len().min(bytes.len() - offset);
    buf[..n].copy_from_slice(&bytes[offset..offset + n]);
    n
}
