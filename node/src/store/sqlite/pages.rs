//! The last resort of a repair: record rows read straight from the database file's pages, for
//! when SQLite itself cannot reach them (a damaged header, schema page or interior page).
//!
//! It reads the documented SQLite file format (<https://sqlite.org/fileformat2.html>), and only
//! as much of it as finding the rows of the `records` table takes:
//! - every page that is a table b-tree leaf (type `0x0D`) is walked cell by cell, following
//!   overflow chains for large rows;
//! - a cell whose record has the `records` table's shape (eight columns, the seventh a blob)
//!   is a candidate row;
//! - the newest committed version of each page is used: the write-ahead log's last committed
//!   frame for the page if there is one (same salts as the log's header), else the file's.
//!
//! Nothing here decides what is sound: every candidate goes through the same checks as a row
//! read by SQLite (seal, hashes, signature, link to its chain), so garbage that happens to
//! parse is dropped there. Every read is bounds-checked: damaged bytes end a cell or a page,
//! never the repair.

use std::collections::HashMap;
use std::path::Path;

/// Pages are this size in every store Myco writes (`PRAGMA page_size` is set at creation).
pub const PAGE_SIZE: usize = 4096;
/// The first page holds the 100-byte file header before its b-tree page header.
const FILE_HEADER: usize = 100;
const TABLE_LEAF: u8 = 0x0d;
const WAL_HEADER: usize = 32;
const FRAME_HEADER: usize = 24;
/// Overflow pages followed for one row, at most: a record is at most `MAX_RECORD_BYTES`.
const MAX_OVERFLOW_PAGES: usize = 64;

/// One row of the `records` table, as SQLite reads it or as found on a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawRow {
    /// Its row id.
    pub id: i64,
    /// The record's wire form without its entry.
    pub action: Vec<u8>,
    /// The sealed entry, if any.
    pub entry: Option<Vec<u8>>,
    /// Whether its entry was purged.
    pub purged: bool,
}

/// Where pages are read from: the database file (read page by page, never whole), or bytes.
enum Backing {
    File(std::fs::File),
    Bytes(Vec<u8>),
}

/// The newest committed version of every page: the file's pages, overlaid with the log's
/// committed frames (the log is small: it is cut at every purge and checkpoint).
pub struct Pages {
    backing: Backing,
    count: usize,
    wal: HashMap<usize, Vec<u8>>,
}

impl Pages {
    /// The pages of the database file `db` and its log `wal`; a missing file has no pages.
    pub fn open(db: &Path, wal: &Path) -> Self {
        let log = std::fs::read(wal).ok();
        match std::fs::File::open(db) {
            Ok(file) => {
                let len = file.metadata().map_or(0, |m| m.len()) as usize;
                Self::new(Backing::File(file), len, log.as_deref())
            }
            Err(_) => Self::new(Backing::Bytes(Vec::new()), 0, log.as_deref()),
        }
    }

    /// The pages of a file held in memory, and of its log.
    #[cfg(test)]
    pub fn from_bytes(file: Vec<u8>, wal: Option<&[u8]>) -> Self {
        let len = file.len();
        Self::new(Backing::Bytes(file), len, wal)
    }

    fn new(backing: Backing, len: usize, wal: Option<&[u8]>) -> Self {
        let wal = wal.map(committed_frames).unwrap_or_default();
        let file_pages = len.div_ceil(PAGE_SIZE);
        // A frame may add pages past the file's end, but no more than the log holds.
        let count = wal
            .keys()
            .copied()
            .filter(|&n| n <= file_pages + wal.len())
            .max()
            .unwrap_or(0)
            .max(file_pages);
        Pages {
            backing,
            count,
            wal,
        }
    }

    /// Page `number` (1-based), if it can be read.
    fn page(&self, number: usize) -> Option<Vec<u8>> {
        if number == 0 || number > self.count {
            return None;
        }
        if let Some(page) = self.wal.get(&number) {
            return Some(page.clone());
        }
        let start = (number - 1) * PAGE_SIZE;
        match &self.backing {
            Backing::Bytes(bytes) => bytes
                .get(start..)
                .map(|b| b[..b.len().min(PAGE_SIZE)].to_vec()),
            Backing::File(file) => {
                use std::os::unix::fs::FileExt;
                let mut page = vec![0u8; PAGE_SIZE];
                let read = file.read_at(&mut page, start as u64).ok()?;
                page.truncate(read);
                Some(page)
            }
        }
    }

    /// Every candidate row on the table-leaf pages, handed to `each` in page order; stops at
    /// the first error `each` returns.
    pub fn rows<E>(&self, mut each: impl FnMut(RawRow) -> Result<(), E>) -> Result<(), E> {
        for number in 1..=self.count {
            let Some(page) = self.page(number) else {
                continue;
            };
            let header = if number == 1 { FILE_HEADER } else { 0 };
            if page.get(header) != Some(&TABLE_LEAF) {
                continue;
            }
            let cells = be16(&page, header + 3).unwrap_or(0);
            for cell in 0..cells {
                let Some(offset) = be16(&page, header + 8 + 2 * cell) else {
                    break;
                };
                if let Some(row) = self.cell_row(&page, offset) {
                    each(row)?;
                }
            }
        }
        Ok(())
    }

    /// The row in the cell at `offset` of `page`, if it has the `records` table's shape.
    fn cell_row(&self, page: &[u8], offset: usize) -> Option<RawRow> {
        let (payload_len, used) = varint(page.get(offset..)?)?;
        let (id, used_id) = varint(page.get(offset + used..)?)?;
        let start = offset + used + used_id;
        let payload = self.payload(page, start, usize::try_from(payload_len).ok()?)?;
        let columns = record(&payload)?;
        let [_, _, _, _, _, purged, Value::Blob(action), entry] =
            <[Value; 8]>::try_from(columns).ok()?
        else {
            return None;
        };
        let purged = matches!(purged, Value::Int(1));
        let entry = match entry {
            Value::Blob(entry) => Some(entry),
            Value::Null => None,
            Value::Int(_) => return None,
        };
        Some(RawRow {
            id: id as i64,
            action,
            entry,
            purged,
        })
    }

    /// A cell's payload: its local part, then its overflow chain.
    fn payload(&self, page: &[u8], start: usize, len: usize) -> Option<Vec<u8>> {
        let usable = PAGE_SIZE;
        let max_local = usable - 35;
        if len <= max_local {
            return page.get(start..start + len).map(<[u8]>::to_vec);
        }
        if len > MAX_OVERFLOW_PAGES * usable {
            return None;
        }
        let min_local = (usable - 12) * 32 / 255 - 23;
        let k = min_local + (len - min_local) % (usable - 4);
        let local = if k <= max_local { k } else { min_local };
        let mut out = page.get(start..start + local)?.to_vec();
        let mut next = be32(page, start + local)? as usize;
        for _ in 0..MAX_OVERFLOW_PAGES {
            if out.len() >= len {
                break;
            }
            let overflow = self.page(next)?;
            let take = (len - out.len()).min(usable - 4);
            out.extend_from_slice(overflow.get(4..4 + take)?);
            next = be32(&overflow, 0)? as usize;
        }
        (out.len() == len).then_some(out)
    }
}

/// The pages of the log's committed frames, newest last for each page number.
fn committed_frames(wal: &[u8]) -> HashMap<usize, Vec<u8>> {
    let (Some(salt1), Some(salt2)) = (be32(wal, 16), be32(wal, 20)) else {
        return HashMap::new();
    };
    let magic = be32(wal, 0);
    if magic != Some(0x377f_0682) && magic != Some(0x377f_0683) {
        return HashMap::new();
    }
    if be32(wal, 8) != Some(PAGE_SIZE as u32) {
        return HashMap::new();
    }
    let mut committed = HashMap::new();
    let mut pending: Vec<(usize, Vec<u8>)> = Vec::new();
    let mut at = WAL_HEADER;
    while let Some(frame) = wal.get(at..at + FRAME_HEADER + PAGE_SIZE) {
        if be32(frame, 8) != Some(salt1) || be32(frame, 12) != Some(salt2) {
            break;
        }
        let number = be32(frame, 0).unwrap_or(0) as usize;
        pending.push((number, frame[FRAME_HEADER..].to_vec()));
        if be32(frame, 4).unwrap_or(0) != 0 {
            committed.extend(pending.drain(..));
        }
        at += FRAME_HEADER + PAGE_SIZE;
    }
    committed
}

/// One column of a record.
enum Value {
    Null,
    Int(i64),
    Blob(Vec<u8>),
}

/// The columns of a record (SQLite's record format); text columns are refused, since the
/// `records` table has none.
fn record(payload: &[u8]) -> Option<Vec<Value>> {
    let (header_len, mut at) = varint(payload)?;
    let header_len = usize::try_from(header_len).ok()?;
    let mut types = Vec::new();
    while at < header_len {
        let (serial, used) = varint(payload.get(at..header_len)?)?;
        types.push(serial);
        at += used;
        if types.len() > 8 {
            return None;
        }
    }
    let mut body = header_len;
    let mut columns = Vec::with_capacity(types.len());
    for serial in types {
        let value = match serial {
            0 => Value::Null,
            1..=6 => {
                let width = [0, 1, 2, 3, 4, 6, 8][serial as usize];
                let bytes = payload.get(body..body + width)?;
                body += width;
                let mut value: i64 = if bytes[0] & 0x80 != 0 { -1 } else { 0 };
                for byte in bytes {
                    value = (value << 8) | i64::from(*byte);
                }
                Value::Int(value)
            }
            8 => Value::Int(0),
            9 => Value::Int(1),
            n if n >= 12 && n % 2 == 0 => {
                let len = usize::try_from((n - 12) / 2).ok()?;
                let bytes = payload.get(body..body + len)?.to_vec();
                body += len;
                Value::Blob(bytes)
            }
            _ => return None,
        };
        columns.push(value);
    }
    Some(columns)
}

/// SQLite's varint: 1 to 9 bytes, big-endian, 7 bits each but the ninth byte's 8.
fn varint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, byte) in bytes.iter().take(9).enumerate() {
        if i == 8 {
            return Some(((value << 8) | u64::from(*byte), 9));
        }
        value = (value << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

fn be16(bytes: &[u8], at: usize) -> Option<usize> {
    Some(u16::from_be_bytes(bytes.get(at..at + 2)?.try_into().ok()?) as usize)
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn varints_read_as_sqlite_writes_them() {
        assert_eq!(varint(&[0x05]), Some((5, 1)));
        assert_eq!(varint(&[0x81, 0x00]), Some((128, 2)));
        assert_eq!(varint(&[0xff; 9]), Some((u64::MAX, 9)));
        assert_eq!(varint(&[0x81]), None);
    }

    proptest! {
        /// Whatever the pages hold, the scan returns rows or nothing; it never panics.
        #[test]
        fn any_bytes_scan_without_a_panic(
            file in proptest::collection::vec(any::<u8>(), 0..3 * PAGE_SIZE),
            leaf in any::<bool>(),
            wal in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..PAGE_SIZE + 64)),
        ) {
            let mut file = file;
            if leaf && file.len() > PAGE_SIZE {
                file[PAGE_SIZE] = TABLE_LEAF;
            }
            let _ = Pages::from_bytes(file, wal.as_deref()).rows(|_| Ok::<(), ()>(()));
        }
    }
}
