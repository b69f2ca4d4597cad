//! The `.xls` pre-scan. calamine reads an Excel 97–2003 workbook whole as it opens it: every
//! sheet, each into a dense grid over its cells' bounding box (`Range::from_sparse`), after
//! reserving room for the cells its DIMENSIONS record declares. Two cells, at A1 and at row
//! 65535 / column 65535, ask for 2^32 cells (137 GB) and the allocation aborts the process.
//!
//! So s3io walks the file first, the way calamine will, with every count bounded by the
//! file's size: the compound file (OLE/CFB) container, its `Workbook` (or `Book`) stream,
//! and the BIFF records of each sheet's substream, to refuse
//!
//! - a sheet whose cells span, or whose DIMENSIONS record declares, more than
//!   [`Limits::max_sheet_cells`](crate::Limits::max_sheet_cells), and sheets that span more
//!   together (several sheet names may point at one substream);
//! - shared strings copied into more text than the decompression limit (one 65,535-character
//!   string referenced by a thousand 14-byte cells is 64 MB);
//! - a sector chain that loops, which calamine follows until memory runs out, and more FAT
//!   sectors than the file holds, which calamine reads again and again.
//!
//! The cell records are those calamine keeps (its `xls.rs`): NUMBER, RK, MULRK, LABEL,
//! RSTRING, LABELSST (when its string exists), BOOLERR, FORMULA and the STRING after it;
//! BLANK and MULBLANK are dropped, and records inside nested substreams (charts) skipped.
//! Where calamine fails by itself (a bad header, a sector past the end, a truncated record),
//! the scan stops or goes on counting, never counting less than calamine would build.

use std::borrow::Cow;

use super::budget::Budget;
use crate::error::{Error, ErrorKind, Result};

pub(super) const SIGNATURE: &[u8; 8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";
/// Sector ids from here on are markers, not sectors.
const RESERVED_SECTORS: u32 = 0xFFFF_FFFA;
const DIFSECT: u32 = 0xFFFF_FFFC;
const ENDOFCHAIN: u32 = 0xFFFF_FFFE;
/// FAT sector ids the header itself holds.
const HEADER_DIFAT: usize = 109;
const MINI_SECTOR: usize = 64;
/// Streams shorter than this live in the mini stream.
const MINI_CUTOFF: u64 = 4096;

const BOF: u16 = 0x0809;
pub(super) const EOF: u16 = 0x000A;
const CONTINUE: u16 = 0x003C;
const CODEPAGE: u16 = 0x0042;
pub(super) const BOUNDSHEET: u16 = 0x0085;
const SST: u16 = 0x00FC;
const DIMENSIONS: u16 = 0x0200;
const NUMBER: u16 = 0x0203;
const LABEL: u16 = 0x0204;
const RSTRING: u16 = 0x00D6;
const BOOLERR: u16 = 0x0205;
const STRING: u16 = 0x0207;
const RK: u16 = 0x027E;
const LABELSST: u16 = 0x00FD;
const MULRK: u16 = 0x00BD;
pub(super) const FORMULA: u16 = 0x0006;
/// The code page of UTF-16 text, BIFF8's own.
const UTF16_CODEPAGE: u16 = 1200;

/// An error if calamine, opening `bytes` as an `.xls` workbook, would allocate past the
/// budget. Bytes that are not a compound file are left alone.
pub(super) fn check(bytes: &[u8], budget: &mut Budget) -> Result<()> {
    if !bytes.starts_with(SIGNATURE) {
        return Ok(());
    }
    let Some(file) = CompoundFile::open(bytes)? else {
        return Ok(());
    };
    match file.workbook()? {
        Some((stream, _)) => check_workbook(&stream, budget),
        None => Ok(()),
    }
}

pub(super) fn malformed(what: &str) -> Error {
    Error::new(
        ErrorKind::Decode,
        format!("not a valid workbook: the compound file's {what}"),
    )
}

pub(super) fn u16_at(bytes: &[u8], at: usize) -> u16 {
    bytes
        .get(at..at + 2)
        .map_or(0, |b| u16::from_le_bytes([b[0], b[1]]))
}

pub(super) fn u32_at(bytes: &[u8], at: usize) -> u32 {
    bytes
        .get(at..at + 4)
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn u32s(bytes: &[u8]) -> impl Iterator<Item = u32> + '_ {
    bytes
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The characters of UTF-16LE `bytes`.
fn utf16(bytes: &[u8]) -> impl Iterator<Item = char> + '_ {
    let units = bytes
        .chunks_exact(2)
        .map(|u| u16::from_le_bytes([u[0], u[1]]));
    char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
}

/// A directory entry: a stream's name, first sector and length.
struct Entry {
    name: String,
    start: u32,
    len: u64,
}

/// Where the bytes of a stream lie: the start of each of its sectors, in the file for a
/// stream in regular sectors, in the mini stream for a short one (64-byte sectors).
pub(super) struct Placement {
    mini: bool,
    starts: Vec<usize>,
}

/// The parts of a compound file calamine reads when it opens it.
pub(super) struct CompoundFile<'a> {
    bytes: &'a [u8],
    sector_size: usize,
    /// The highest sector id calamine reads: the file's length in sectors.
    max_id: usize,
    fat: Vec<u32>,
    directory: Vec<Entry>,
    mini_fat: Vec<u32>,
    mini_stream: Vec<u8>,
    /// Where the mini stream's sectors lie in the file.
    mini_stream_at: Vec<usize>,
}

impl<'a> CompoundFile<'a> {
    /// The header, FAT, directory and mini stream, read as calamine's `Cfb::new` reads them;
    /// `None` where calamine fails by itself.
    pub(super) fn open(bytes: &'a [u8]) -> Result<Option<Self>> {
        if bytes.len() < 512 {
            return Ok(None);
        }
        let sector_size = match u16_at(bytes, 30) {
            0x0009 => 512,
            0x000C if bytes.len() >= 4096 => 4096,
            _ => return Ok(None),
        };
        if u16_at(bytes, 32) != 0x0006 {
            return Ok(None);
        }
        let mut file = CompoundFile {
            bytes,
            sector_size,
            max_id: bytes.len() / sector_size,
            fat: Vec::new(),
            directory: Vec::new(),
            mini_fat: Vec::new(),
            mini_stream: Vec::new(),
            mini_stream_at: Vec::new(),
        };
        // The FAT sectors: 109 ids in the header, then chained DIFAT sectors whose last id
        // points at the next.
        let mut difat: Vec<u32> = u32s(&bytes[76..512]).collect();
        let mut id = u32_at(bytes, 68);
        let mut difat_sectors = 0;
        while id < RESERVED_SECTORS {
            difat_sectors += 1;
            let Some(sector) = file.sector(id).filter(|_| difat_sectors <= file.max_id + 1) else {
                return Ok(None);
            };
            difat.extend(u32s(&sector));
            id = difat.pop().unwrap_or(ENDOFCHAIN);
        }
        let fat_sectors: Vec<u32> = difat.into_iter().filter(|&id| id < DIFSECT).collect();
        // calamine reads every listed sector into its FAT, however often one is listed.
        if fat_sectors.len() > file.max_id + 1 + HEADER_DIFAT {
            return Err(malformed(&format!(
                "header lists {} FAT sectors, more than the {} sectors of the file",
                fat_sectors.len(),
                file.max_id + 1
            )));
        }
        for id in fat_sectors {
            let Some(sector) = file.sector(id) else {
                return Ok(None);
            };
            file.fat.extend(u32s(&sector));
        }
        let Some(directory) = file.chain(u32_at(bytes, 48), u64::MAX, "directory")? else {
            return Ok(None);
        };
        file.directory = directory
            .chunks_exact(128)
            .map(|entry| Entry {
                name: utf16(&entry[..64]).take_while(|&c| c != '\0').collect(),
                start: u32_at(entry, 116),
                len: if sector_size == 512 {
                    u64::from(u32_at(entry, 120))
                } else {
                    u64::from(u32_at(entry, 120)) | u64::from(u32_at(entry, 124)) << 32
                },
            })
            .collect();
        let Some(root) = file.directory.first() else {
            return Ok(None);
        };
        if u16_at(bytes, 26) != 3 && root.start == ENDOFCHAIN {
            return Ok(None);
        }
        let mini_fat_sectors = u64::from(u32_at(bytes, 64));
        if mini_fat_sectors > 0 {
            let (start, len) = (root.start, root.len);
            let Some((mini_stream, at)) = file.placed_chain(start, len, "mini stream")? else {
                return Ok(None);
            };
            let mini_fat_len = mini_fat_sectors * sector_size as u64;
            let Some(mini_fat) = file.chain(u32_at(bytes, 60), mini_fat_len, "mini FAT")? else {
                return Ok(None);
            };
            file.mini_stream = mini_stream;
            file.mini_stream_at = at;
            file.mini_fat = u32s(&mini_fat).collect();
        }
        Ok(Some(file))
    }

    /// Sector `id`, zero-filled past the end of the file as calamine's buffer is; `None`
    /// past the sector count calamine allows.
    fn sector(&self, id: u32) -> Option<Cow<'a, [u8]>> {
        let id = usize::try_from(id).ok().filter(|&id| id <= self.max_id)?;
        // The header fills the first sector.
        let start = (id + 1) * self.sector_size;
        let bytes = self.bytes;
        Some(match bytes.get(start..start + self.sector_size) {
            Some(sector) => Cow::Borrowed(sector),
            None => {
                let mut sector = bytes.get(start..).unwrap_or_default().to_vec();
                sector.resize(self.sector_size, 0);
                Cow::Owned(sector)
            }
        })
    }

    /// The first `len` bytes of the chain of sectors from `start`; an error if the chain
    /// visits more sectors than the file holds (it loops, and calamine would follow it
    /// until `len`, or forever); `None` where calamine fails.
    fn chain(&self, start: u32, len: u64, what: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.placed_chain(start, len, what)?.map(|(out, _)| out))
    }

    /// [`chain`](Self::chain), with the file offset of each sector read.
    fn placed_chain(
        &self,
        start: u32,
        len: u64,
        what: &str,
    ) -> Result<Option<(Vec<u8>, Vec<usize>)>> {
        let mut out = Vec::new();
        let mut at = Vec::new();
        let mut id = start;
        let mut visited = 0;
        while id != ENDOFCHAIN {
            let Some(sector) = self.sector(id) else {
                return Ok(None);
            };
            visited += 1;
            if visited > self.max_id + 1 {
                return Err(malformed(&format!("{what} sector chain loops")));
            }
            let take = (len - out.len() as u64).min(sector.len() as u64) as usize;
            out.extend_from_slice(&sector[..take]);
            // `sector` checked that the id is at most the file's length in sectors.
            at.push((id as usize + 1) * self.sector_size);
            if out.len() as u64 >= len {
                break;
            }
            // calamine indexes its FAT without a check: a panic, which s3io catches.
            let Some(&next) = self.fat.get(id as usize) else {
                return Ok(None);
            };
            id = next;
        }
        Ok(Some((out, at)))
    }

    /// The workbook stream, as calamine's `Xls` reads it: `Workbook`, or `Book` (BIFF5) when
    /// that fails; with where its bytes lie.
    pub(super) fn workbook(&self) -> Result<Option<(Vec<u8>, Placement)>> {
        match self.stream("Workbook")? {
            Some(stream) => Ok(Some(stream)),
            None => self.stream("Book"),
        }
    }

    /// Where byte `pos` of a stream placed at `placement` lies in the file; `None` if it lies
    /// past the end of the file (calamine reads zeros there) or cannot be placed.
    pub(super) fn file_offset(&self, placement: &Placement, pos: usize) -> Option<usize> {
        let unit = if placement.mini {
            MINI_SECTOR
        } else {
            self.sector_size
        };
        let mut at = placement.starts.get(pos / unit)? + pos % unit;
        if placement.mini {
            at = self.mini_stream_at.get(at / self.sector_size)? + at % self.sector_size;
        }
        (at < self.bytes.len()).then_some(at)
    }

    /// The stream named `name` (any case), as calamine's `get_stream` reads it; `None` if
    /// there is none or calamine fails on it.
    fn stream(&self, name: &str) -> Result<Option<(Vec<u8>, Placement)>> {
        let Some(entry) = self
            .directory
            .iter()
            .find(|entry| entry.name.eq_ignore_ascii_case(name))
        else {
            return Ok(None);
        };
        if entry.len >= MINI_CUTOFF {
            let placed = self.placed_chain(entry.start, entry.len, "stream")?;
            return Ok(placed.map(|(out, starts)| {
                (
                    out,
                    Placement {
                        mini: false,
                        starts,
                    },
                )
            }));
        }
        // A short stream, in 64-byte sectors of the mini stream, read up to its length (under
        // 4096 bytes) even if its chain loops; calamine reads nothing of an empty one.
        let mut out = Vec::new();
        let mut placement = Placement {
            mini: true,
            starts: Vec::new(),
        };
        if entry.len == 0 {
            return Ok(Some((out, placement)));
        }
        let mut id = entry.start;
        while id != ENDOFCHAIN {
            if id as usize > self.max_id * 8 {
                return Ok(None);
            }
            let start = id as usize * MINI_SECTOR;
            let sector = self.mini_stream.get(start..).unwrap_or_default();
            let take = ((entry.len - out.len() as u64) as usize).min(MINI_SECTOR);
            // Past the mini stream, calamine reads whatever follows in the file.
            if sector.len() < take {
                return Err(malformed(&format!(
                    "{name} stream runs past the end of its mini stream"
                )));
            }
            out.extend_from_slice(&sector[..take]);
            placement.starts.push(start);
            if out.len() as u64 >= entry.len {
                break;
            }
            let Some(&next) = self.mini_fat.get(id as usize) else {
                return Ok(None);
            };
            id = next;
        }
        Ok(Some((out, placement)))
    }
}

/// A BIFF record, with the data of the CONTINUE records after it.
pub(super) struct Record<'a> {
    pub(super) typ: u16,
    pub(super) data: &'a [u8],
    /// Where `data` starts in the stream.
    pub(super) at: usize,
    continues: Vec<&'a [u8]>,
    next: usize,
}

impl Record<'_> {
    /// Moves on to the next CONTINUE record's data, if any.
    fn next_continue(&mut self) -> bool {
        match self.continues.get(self.next) {
            Some(data) => {
                self.data = data;
                self.next += 1;
                true
            }
            None => false,
        }
    }

    /// Skips `len` bytes, across CONTINUE records; `None` if there are not that many.
    fn skip(&mut self, mut len: usize) -> Option<()> {
        while len > 0 {
            if self.data.is_empty() && !self.next_continue() {
                return None;
            }
            let n = len.min(self.data.len());
            self.data = &self.data[n..];
            len -= n;
        }
        Some(())
    }
}

/// The records of a BIFF stream, as calamine's `RecordIter` gives them; it ends where
/// calamine's fails (a record running past the end of the stream).
pub(super) struct Records<'a> {
    stream: &'a [u8],
    /// Where the next record starts.
    pos: usize,
}

impl<'a> Records<'a> {
    pub(super) fn new(stream: &'a [u8]) -> Self {
        Self::from(stream, 0)
    }

    /// The records from `pos` on, as calamine reads a sheet's substream.
    pub(super) fn from(stream: &'a [u8], pos: usize) -> Self {
        Self { stream, pos }
    }

    /// The data of the record at `pos`, moving past it.
    fn take(&mut self) -> Option<&'a [u8]> {
        let rest = self.stream.get(self.pos..)?;
        let len = usize::from(u16_at(rest, 2));
        let data = rest.get(4..4 + len)?;
        self.pos += 4 + len;
        Some(data)
    }

    fn rest(&self) -> &'a [u8] {
        self.stream.get(self.pos..).unwrap_or_default()
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Record<'a>;

    fn next(&mut self) -> Option<Record<'a>> {
        if self.rest().len() < 4 {
            return None;
        }
        let typ = u16_at(self.rest(), 0);
        let at = self.pos + 4;
        let Some(data) = self.take() else {
            self.pos = self.stream.len();
            return None;
        };
        let mut continues = Vec::new();
        while self.rest().len() > 4 && u16_at(self.rest(), 0) == CONTINUE {
            let Some(more) = self.take() else {
                self.pos = self.stream.len();
                return None;
            };
            continues.push(more);
        }
        Some(Record {
            typ,
            data,
            at,
            continues,
            next: 0,
        })
    }
}

/// The records of a sheet's substream starting at `pos` that calamine reads, up to its EOF:
/// those of nested substreams (embedded charts) are left out.
pub(super) fn sheet_records(stream: &[u8], pos: usize) -> impl Iterator<Item = Record<'_>> {
    let mut seen_bof = false;
    let mut depth = 0usize;
    Records::from(stream, pos)
        .filter(move |record| {
            if depth > 0 {
                match record.typ {
                    BOF => depth += 1,
                    EOF => depth -= 1,
                    _ => {}
                }
                return false;
            }
            match record.typ {
                BOF if seen_bof => {
                    depth += 1;
                    false
                }
                BOF => {
                    seen_bof = true;
                    true
                }
                _ => true,
            }
        })
        .take_while(|record| record.typ != EOF)
}

/// The globals substream lists the sheets and holds the shared strings; each sheet's
/// substream then holds its cells.
fn check_workbook(stream: &[u8], budget: &mut Budget) -> Result<()> {
    let mut sheets = Vec::new();
    let mut codepage = UTF16_CODEPAGE;
    // The UTF-8 length of each shared string, at most.
    let mut strings = Vec::new();
    for mut record in Records::new(stream) {
        match record.typ {
            CODEPAGE => codepage = u16_at(record.data, 0),
            BOUNDSHEET if record.data.len() >= 4 => {
                let name = sheet_name(record.data, sheets.len());
                sheets.push((u32_at(record.data, 0) as usize, name));
            }
            SST => match shared_strings(&mut record, codepage == UTF16_CODEPAGE) {
                Some(lengths) => strings = lengths,
                // calamine fails on this SST, before it reads any sheet.
                None => return Ok(()),
            },
            EOF => break,
            _ => {}
        }
    }
    for (pos, name) in sheets {
        // Past the stream, calamine panics (caught) before building more.
        if pos > stream.len() {
            return Ok(());
        }
        check_sheet(stream, pos, &name, &strings, budget)?;
    }
    Ok(())
}

/// A BoundSheet8 record's sheet name, for messages; `#n` if it cannot be read.
fn sheet_name(data: &[u8], index: usize) -> String {
    // lbPlyPos (4), hsState (1), dt (1), then a ShortXLUnicodeString: cch, fHighByte, chars.
    let (Some(&len), Some(&flags)) = (data.get(6), data.get(7)) else {
        return format!("#{}", index + 1);
    };
    let chars = data.get(8..).unwrap_or_default();
    let name: String = if flags & 1 != 0 {
        utf16(chars).take(len.into()).collect()
    } else {
        chars
            .iter()
            .take(len.into())
            .map(|&b| char::from(b))
            .collect()
    };
    name.replace('\0', "")
}

/// The cells of one sheet's substream, counted against the budget.
fn check_sheet(
    stream: &[u8],
    pos: usize,
    name: &str,
    strings: &[u64],
    budget: &mut Budget,
) -> Result<()> {
    let mut span = Span::default();
    let mut copied = 0u64;
    let mut formula_at = (0, 0);
    for record in sheet_records(stream, pos) {
        let data = record.data;
        let at = (u32::from(u16_at(data, 0)), u32::from(u16_at(data, 2)));
        match record.typ {
            DIMENSIONS => {
                if let Some((rows, cols)) = dimensions(data) {
                    let what = format!("declares {rows} rows × {cols} columns");
                    budget.passing(name, rows.saturating_mul(cols), &what)?;
                }
            }
            NUMBER | LABEL | RSTRING | BOOLERR | RK if data.len() >= 4 => span.add(at),
            LABELSST if data.len() >= 10 => {
                // A cell whose string does not exist is dropped.
                if let Some(&len) = strings.get(u32_at(data, 6) as usize) {
                    span.add(at);
                    copied = copied.saturating_add(len);
                }
            }
            FORMULA if data.len() >= 20 => {
                formula_at = at;
                span.add(at);
            }
            // A formula's text value, at the formula's cell.
            STRING => span.add(formula_at),
            MULRK if data.len() >= 6 => {
                // One 6-byte RK value per column from the first.
                let values = (data.len() - 6).div_ceil(6) as u32;
                if values > 0 {
                    span.add(at);
                    span.add((at.0, at.1 + values - 1));
                }
            }
            _ => {}
        }
    }
    budget.text(
        copied,
        "shared strings are copied into each cell that uses them",
    )?;
    match span.0 {
        Some([top, bottom, left, right]) => budget.sheet(
            name,
            u64::from(bottom - top) + 1,
            u64::from(right - left) + 1,
        ),
        None => Ok(()),
    }
}

/// The bounding box of the cells: top, bottom, left, right.
#[derive(Default)]
struct Span(Option<[u32; 4]>);

impl Span {
    fn add(&mut self, (row, col): (u32, u32)) {
        let [top, bottom, left, right] = self.0.get_or_insert([row, row, col, col]);
        *top = (*top).min(row);
        *bottom = (*bottom).max(row);
        *left = (*left).min(col);
        *right = (*right).max(col);
    }
}

/// The rows and columns for which calamine reserves cells on reading a DIMENSIONS record,
/// computed as it does (with a release build's wrapping arithmetic; a debug build panics
/// where it wraps); `None` where calamine fails on the record.
fn dimensions(data: &[u8]) -> Option<(u64, u64)> {
    let (first_row, last_row, mut first_col, last_col) = match data.len() {
        10 => (
            u32::from(u16_at(data, 0)),
            u32::from(u16_at(data, 2)),
            u32::from(u16_at(data, 4)),
            u32::from(u16_at(data, 6)),
        ),
        14 | 16 => (
            u32_at(data, 0),
            u32_at(data, 4),
            u32::from(u16_at(data, 8)),
            u32::from(u16_at(data, 10)),
        ),
        _ => return None,
    };
    if first_col > 0xFF || last_col < first_col {
        first_col = 0;
    }
    let (end_row, end_col) = if last_row >= 1 && last_col >= 1 {
        (last_row - 1, last_col - 1)
    } else {
        (first_row, first_col)
    };
    let rows = end_row.wrapping_sub(first_row).wrapping_add(1);
    let cols = end_col.wrapping_sub(first_col).wrapping_add(1);
    Some((u64::from(rows), u64::from(cols)))
}

/// The UTF-8 length, at most, of each string of a shared string table (SST), read as
/// calamine's `parse_sst` reads it; `None` where calamine fails. `utf16`: the workbook's
/// code page is UTF-16, as BIFF8's is; other code pages decode each byte of the doubled
/// characters calamine builds into at most 3 bytes.
fn shared_strings(record: &mut Record<'_>, utf16: bool) -> Option<Vec<u64>> {
    // cstTotal and cstUnique, which calamine does not trust either.
    record.data = record.data.get(8..)?;
    let mut lengths = Vec::new();
    while !record.data.is_empty() || record.next_continue() {
        lengths.push(rich_string_len(record, utf16)?);
    }
    Some(lengths)
}

/// The UTF-8 length, at most, of an XLUnicodeRichExtendedString, skipping past it.
fn rich_string_len(record: &mut Record<'_>, utf16: bool) -> Option<u64> {
    if record.data.is_empty() {
        return Some(0);
    }
    let mut chars = usize::from(u16_at(record.data, 0));
    let flags = *record.data.get(2)?;
    record.data = &record.data[3..];
    let mut high_byte = flags & 0x1 != 0;
    let mut runs = 0;
    if flags & 0x8 != 0 {
        runs = usize::from(u16::from_le_bytes(record.data.get(..2)?.try_into().ok()?));
        record.data = &record.data[2..];
    }
    let mut ext = 0;
    if flags & 0x4 != 0 {
        // calamine reads cbExtRst as an i32, then a usize: a negative one never fits.
        let raw = i32::from_le_bytes(record.data.get(..4)?.try_into().ok()?);
        ext = raw as usize;
        record.data = &record.data[4..];
    }
    let mut len = 0u64;
    while chars > 0 {
        let (n, bytes) = if high_byte {
            let n = chars.min(record.data.len() / 2);
            (n, &record.data[..2 * n])
        } else {
            let n = chars.min(record.data.len());
            (n, &record.data[..n])
        };
        len += utf8_len(bytes, high_byte, utf16);
        record.data = &record.data[bytes.len()..];
        chars -= n;
        if chars > 0 {
            // The characters go on in the next CONTINUE record, after its own fHighByte.
            if !record.next_continue() {
                return None;
            }
            high_byte = record.data.first()? & 0x1 != 0;
            record.data = &record.data[1..];
        }
    }
    record.skip(runs * 4)?;
    record.skip(ext)?;
    Some(len)
}

/// The UTF-8 length, at most, of characters stored one byte each (`high_byte` false) or as
/// UTF-16 code units.
fn utf8_len(bytes: &[u8], high_byte: bool, utf16: bool) -> u64 {
    if !utf16 {
        // calamine doubles one-byte characters with a zero high byte, then decodes in the
        // code page: at most 3 bytes out per byte in.
        let doubled = if high_byte { 1 } else { 2 };
        return bytes.len() as u64 * doubled * 3;
    }
    if !high_byte {
        return bytes.iter().map(|&b| if b < 0x80 { 1 } else { 2 }).sum();
    }
    bytes
        .chunks_exact(2)
        .map(|u| match u16::from_le_bytes([u[0], u[1]]) {
            0..0x80 => 1,
            0x80..0x800 => 2,
            // A surrogate pair is 4 bytes; a lone surrogate, U+FFFD, is 3.
            _ => 3,
        })
        .sum()
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in super::super) fn record(typ: u16, data: &[u8]) -> Vec<u8> {
        let mut out = typ.to_le_bytes().to_vec();
        out.extend((data.len() as u16).to_le_bytes());
        out.extend(data);
        out
    }

    fn number(row: u16, col: u16) -> Vec<u8> {
        let mut data = row.to_le_bytes().to_vec();
        data.extend(col.to_le_bytes());
        data.extend([0; 10]);
        record(NUMBER, &data)
    }

    /// A workbook stream: globals with one sheet name per entry of `sheets` (all pointing
    /// at one substream holding `cells`) and `globals`, then that substream.
    pub(in super::super) fn workbook(sheets: usize, globals: &[u8], cells: &[u8]) -> Vec<u8> {
        let bof = |dt: u16| {
            record(
                BOF,
                &[&0x0600u16.to_le_bytes()[..], &dt.to_le_bytes()].concat(),
            )
        };
        let bound = |pos: u32| {
            record(
                BOUNDSHEET,
                &[&pos.to_le_bytes()[..], &[0, 0, 1, 0, b'S']].concat(),
            )
        };
        let head = [bof(5), globals.to_vec()].concat();
        let pos = (head.len() + sheets * bound(0).len() + 4) as u32;
        let mut out = head;
        for _ in 0..sheets {
            out.extend(bound(pos));
        }
        out.extend(record(EOF, &[]));
        out.extend(bof(0x10));
        out.extend(cells);
        out.extend(record(EOF, &[]));
        out
    }

    fn scan(stream: &[u8], cells: u64, text: u64) -> Result<()> {
        check_workbook(stream, &mut Budget::new(cells, text, 1000))
    }

    /// A 512-byte sector holding `ids`, padded with free entries.
    fn sector(ids: &[u32]) -> Vec<u8> {
        let mut out: Vec<u8> = ids.iter().flat_map(|id| id.to_le_bytes()).collect();
        out.resize(512, 0xFF);
        out
    }

    /// A 128-byte directory entry: its name, its first sector and its length.
    fn entry(name: &str, start: u32, len: u32) -> Vec<u8> {
        let mut e: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
        e.resize(116, 0);
        e.extend(start.to_le_bytes());
        e.extend(len.to_le_bytes());
        e.resize(128, 0);
        e
    }

    /// A version 3 header (512-byte sectors) whose fields from offset 44 are `fields`: FAT
    /// sectors, first directory sector, transaction, mini stream cutoff, first mini FAT
    /// sector, mini FAT sectors, first DIFAT sector, DIFAT sectors. Its FAT is sector 0.
    fn header(fields: [u32; 8]) -> Vec<u8> {
        let mut header = SIGNATURE.to_vec();
        header.resize(24, 0);
        for v in [0x3E_u16, 3, 0xFFFE, 9, 6] {
            header.extend(v.to_le_bytes());
        }
        header.resize(44, 0);
        for v in fields {
            header.extend(v.to_le_bytes());
        }
        header.extend(sector(&[0]).iter().take(512 - 76));
        header
    }

    /// A compound file (512-byte sectors) holding `workbook` (under 4096 bytes) in its mini
    /// stream, as Excel and LibreOffice store small workbooks: sector 0 the FAT, 1 the
    /// directory, 2 the mini FAT, then the mini stream. The root entry says the mini stream
    /// is `cut` bytes shorter than it is; `mini_fat` edits the mini FAT.
    pub(in super::super) fn compound(
        workbook: &[u8],
        cut: u32,
        mini_fat: impl FnOnce(&mut Vec<u32>),
    ) -> Vec<u8> {
        let mini_sectors = workbook.len().div_ceil(64);
        let mini_stream = [workbook, &vec![0; mini_sectors * 64 - workbook.len()]].concat();
        let sectors = mini_stream.len().div_ceil(512);
        let mut fat = vec![0xFFFF_FFFD, ENDOFCHAIN, ENDOFCHAIN];
        fat.extend((4..3 + sectors as u32).chain([ENDOFCHAIN]));
        let mut minifat: Vec<u32> = (1..mini_sectors as u32).chain([ENDOFCHAIN]).collect();
        mini_fat(&mut minifat);
        // The mini FAT at sector 2, one sector long.
        let header = header([1, 1, 0, 4096, 2, 1, ENDOFCHAIN, 0]);
        let mut directory = entry("Root Entry", 3, mini_stream.len() as u32 - cut);
        directory.extend(entry("Workbook", 0, workbook.len() as u32));
        directory.resize(512, 0);
        let mut out = [
            header,
            sector(&fat),
            directory,
            sector(&minifat),
            mini_stream,
        ]
        .concat();
        out.resize(512 * (4 + sectors), 0);
        out
    }

    /// A compound file (512-byte sectors) holding `workbook`, padded to 4096 bytes, in
    /// regular sectors laid out in reverse order: sector 0 the FAT, 1 the directory, then the
    /// stream's last sector first.
    pub(in super::super) fn regular(workbook: &[u8]) -> Vec<u8> {
        let mut stream = workbook.to_vec();
        stream.resize(stream.len().max(4096).div_ceil(512) * 512, 0);
        let n = stream.len() / 512;
        assert!(n + 2 <= 128, "one FAT sector");
        // Stream sector k lies in file sector 2 + n - 1 - k.
        let id = |k: usize| (2 + n - 1 - k) as u32;
        let mut fat = vec![0xFFFF_FFFD_u32, ENDOFCHAIN];
        fat.resize(2 + n, 0);
        for k in 0..n {
            fat[id(k) as usize] = if k + 1 < n { id(k + 1) } else { ENDOFCHAIN };
        }
        let header = header([1, 1, 0, 4096, ENDOFCHAIN, 0, ENDOFCHAIN, 0]);
        let mut directory = entry("Root Entry", ENDOFCHAIN, 0);
        directory.extend(entry("Workbook", id(0), stream.len() as u32));
        directory.resize(512, 0);
        let mut out = [header, sector(&fat), directory].concat();
        for k in (0..n).rev() {
            out.extend(&stream[k * 512..(k + 1) * 512]);
        }
        out
    }

    #[test]
    fn a_workbook_in_the_mini_stream_is_read_as_calamine_reads_it() {
        let stream = workbook(1, &[], &[number(0, 0), number(999, 99)].concat());
        let check = |file: &[u8]| super::check(file, &mut Budget::new(99_999, 0, 0));
        let err = check(&compound(&stream, 0, |_| {})).unwrap_err();
        assert!(err.message().contains("1000 rows × 100 columns"), "{err}");
        // Past the mini stream, calamine would read whatever follows in the file.
        let err = check(&compound(&stream, 64, |_| {})).unwrap_err();
        assert!(
            err.message()
                .contains("runs past the end of its mini stream"),
            "{err}"
        );
        // A chain that loops: calamine stops at the stream's length, under 4096 bytes.
        let err = check(&compound(&stream, 0, |fat| fat[1] = 0)).unwrap_err();
        assert!(err.message().contains("1000 rows × 100 columns"), "{err}");
        // A chain into a free mini sector: calamine fails before it reads any sheet.
        assert!(check(&compound(&stream, 0, |fat| fat[0] = 0xFFFF_FFFF)).is_ok());
    }

    #[test]
    fn a_sheet_spans_the_bounding_box_of_its_cells() {
        let cells = [number(2, 3), number(11, 7)].concat();
        let stream = workbook(1, &[], &cells);
        assert!(scan(&stream, 50, 0).is_ok());
        let err = scan(&stream, 49, 0).unwrap_err();
        assert!(err.message().contains("10 rows × 5 columns"), "{err}");
        assert!(err.message().contains("max_sheet_cells"), "{err}");
    }

    #[test]
    fn every_sheet_name_counts_even_on_one_substream() {
        let stream = workbook(3, &[], &[number(0, 0), number(9, 9)].concat());
        assert!(scan(&stream, 300, 0).is_ok());
        let err = scan(&stream, 299, 0).unwrap_err();
        assert!(err.message().contains("300 cells together"), "{err}");
    }

    #[test]
    fn nested_substreams_and_blanks_are_not_cells() {
        let chart = [
            record(BOF, &[0, 6, 0x20, 0]),
            number(60_000, 200),
            record(EOF, &[]),
        ];
        let blank = record(0x0201, &[0xFF, 0xFF, 0xFF, 0xFF, 0, 0]);
        let cells = [number(0, 0), chart.concat(), blank, number(1, 1)].concat();
        assert!(scan(&workbook(1, &[], &cells), 4, 0).is_ok());
    }

    #[test]
    fn mulrk_and_formula_strings_reach_their_cells() {
        // MULRK at row 4 from column 2, three values: columns 2 to 4.
        let mut mulrk = vec![4, 0, 2, 0];
        mulrk.extend([0; 18]);
        mulrk.extend([4, 0]);
        // A STRING before any formula lands at A1.
        let cells = [record(MULRK, &mulrk), record(STRING, &[0, 0, 0])].concat();
        let err = scan(&workbook(1, &[], &cells), 14, 0).unwrap_err();
        assert!(err.message().contains("5 rows × 5 columns"), "{err}");
    }

    #[test]
    fn a_declared_dimension_counts_as_calamine_computes_it() {
        let dims = |first: u32, last: u32, cols: u16| {
            let data = [
                &first.to_le_bytes()[..],
                &last.to_le_bytes(),
                &[0, 0],
                &cols.to_le_bytes(),
                &[0, 0],
            ];
            record(DIMENSIONS, &data.concat())
        };
        assert_eq!(
            dimensions(&dims(0, 1 << 28, 256)[4..]),
            Some((1 << 28, 256))
        );
        // A first row past the last: calamine's release build wraps around.
        assert_eq!(
            dimensions(&dims(5, 1, 1)[4..]),
            Some((u64::from(u32::MAX) - 3, 1))
        );
        let err = scan(&workbook(1, &[], &dims(0, 1 << 28, 256)), 1 << 20, 0).unwrap_err();
        assert!(
            err.message()
                .contains("declares 268435456 rows × 256 columns"),
            "{err}"
        );
    }

    /// An SST record of 8-bit strings, the last split into a CONTINUE record.
    fn sst(strings: &[&[u8]], split: usize) -> Vec<u8> {
        let mut data = vec![0; 8];
        for s in strings {
            data.extend((s.len() as u16).to_le_bytes());
            data.push(0);
            data.extend(*s);
        }
        let (head, tail) = data.split_at(data.len() - split);
        let mut out = record(SST, head);
        if split > 0 {
            out.extend(record(CONTINUE, &[&[0u8][..], tail].concat()));
        }
        out
    }

    fn label_sst(row: u16, index: u32) -> Vec<u8> {
        record(
            LABELSST,
            &[&row.to_le_bytes()[..], &[0, 0, 0, 0], &index.to_le_bytes()].concat(),
        )
    }

    #[test]
    fn shared_strings_count_once_per_cell_that_copies_them() {
        let strings = sst(&[b"ab", &[b'x'; 1000]], 400);
        let cells: Vec<u8> = (0..10).flat_map(|row| label_sst(row, 1)).collect();
        // A missing string makes no cell and copies nothing.
        let cells = [cells, label_sst(500, 7), label_sst(10, 0)].concat();
        let stream = workbook(1, &strings, &cells);
        assert!(scan(&stream, 100, 10_002).is_ok());
        let err = scan(&stream, 100, 10_001).unwrap_err();
        assert!(err.message().contains("max_decoded_size"), "{err}");
        assert!(err.message().contains("10002 bytes"), "{err}");
    }

    #[test]
    fn rich_strings_skip_their_runs_and_extensions() {
        // "é" (8-bit, 2 bytes in UTF-8) with 2 formatting runs and 3 bytes of ExtRst, then
        // "€" as UTF-16 (3 bytes).
        let mut data = vec![0; 8];
        data.extend([1, 0, 0x0C, 2, 0, 3, 0, 0, 0, 0xE9]);
        data.extend([0; 11]);
        data.extend([1, 0, 1, 0xAC, 0x20]);
        let stream = record(SST, &data);
        let mut rec = Records::new(&stream).next().unwrap();
        assert_eq!(shared_strings(&mut rec, true), Some(vec![2, 3]));
        // A negative cbExtRst: calamine fails, and so does the scan.
        let mut data = vec![0; 8];
        data.extend([1, 0, 0x04, 0xFF, 0xFF, 0xFF, 0xFF, b'a']);
        let stream = record(SST, &data);
        let mut rec = Records::new(&stream).next().unwrap();
        assert_eq!(shared_strings(&mut rec, true), None);
    }
}
