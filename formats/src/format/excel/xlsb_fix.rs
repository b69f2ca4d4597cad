//! `.xlsb` worksheets rewritten so that calamine reads every cell.
//!
//! A worksheet part of an `.xlsb` (`xl/worksheets/*.bin`) is a stream of BIFF12 records, one
//! per cell. A cell record starts with the cell's column ([MS-XLSB] 2.5.9 Cell: the column,
//! then the style), except for the short forms, BrtShortBlank ... BrtShortIsst (0x0C–0x12,
//! 2.5.10 ShortCell: the style alone), whose column is the previous cell's plus one in the same
//! row. SheetJS writes the short form for every cell after the first of a run of adjacent
//! cells; Excel writes full records. calamine 0.38 reads only the full forms and skips the
//! short ones without an error, and it skips BrtFmlaError (0x0B, a formula whose cached value
//! is an error) and BrtCellRString (0x3E, rich text) too: those cells would be lost silently.
//!
//! So when calamine has opened a workbook as an `.xlsb`, [`with_full_cell_records`] rewrites
//! each worksheet part that holds such records ([`full_cell_records`]), and `excel::open`
//! opens the result instead:
//!
//! - each short record becomes its full form (0x0C → BrtCellBlank 0x01, ... 0x12 →
//!   BrtCellIsst 0x07), the column inserted before the style;
//! - BrtFmlaError becomes BrtCellError (0x03): the cell and its cached error value, which is
//!   all calamine reads from a BrtCellError; the formula is dropped, s3io reads values only;
//! - BrtCellRString (0x3E, a cell of rich text, which Excel writes when a cell mixes fonts)
//!   becomes BrtCellSt (0x06): the cell and its text, without the formatting runs, which
//!   calamine also skips.
//!
//! Every other record is copied byte for byte, and a workbook without these records (any
//! Excel file) is left as it is: its worksheets are scanned as they inflate, never held in
//! memory. The rewritten parts go into a new zip in memory, stored uncompressed; the other
//! entries are copied still compressed.
//!
//! The input is untrusted. Records are framed exactly as calamine frames them, so both see
//! the same records; a record cut short at the end of a part is copied as it is, for calamine
//! to report. A short record with no cell before it in its row, or too small to hold its
//! value, is a `Decode` error rather than a guess; so is a part holding such records that
//! cannot be inflated whole. The output is bounded: a rewritten record grows by at most 5
//! bytes and is at least 6 bytes long, so a part at most doubles, and the parts read count
//! against the decompression limit, as in `check_zip`.

use std::io::{BufRead, BufReader, Cursor, Read, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use crate::error::{Error, ErrorKind, Result};
use crate::format::codec::decode_error;
use crate::limits::exceeded;

/// BrtRowHdr: starts a row.
const ROW_HDR: u16 = 0x0000;
/// BrtCellBlank, the first full cell record; BrtCellIsst (0x07) is the last whose short form
/// exists, and BrtFmlaString ... BrtFmlaError (0x08–0x0B) are full cells too.
const CELL_BLANK: u16 = 0x0001;
/// BrtCellError: what a BrtFmlaError becomes.
const CELL_ERROR: u16 = 0x0003;
/// BrtFmlaError: a formula cell whose cached value is an error.
const FMLA_ERROR: u16 = 0x000B;
/// BrtShortBlank, the first short cell record; the full form of a short record is its type
/// minus this distance.
const SHORT_BLANK: u16 = 0x000C;
const SHORT_TO_FULL: u16 = SHORT_BLANK - CELL_BLANK;
/// BrtShortIsst, the last short cell record.
const SHORT_ISST: u16 = 0x0012;
/// BrtCellSt: a cell holding a string; what a BrtCellRString becomes.
const CELL_ST: u16 = 0x0006;
/// BrtCellRString: a cell holding rich text (a string with formatting runs), no short form.
const CELL_RSTRING: u16 = 0x003E;

/// The smallest body of each short record, BrtShortBlank ... BrtShortIsst: the 4-byte style,
/// then nothing, an RkNumber (4), an error byte, a boolean byte, a double (8), a string's
/// length (4, then its characters), a shared-string index (4).
const SHORT_MIN_SIZE: [usize; 7] = [4, 8, 5, 5, 12, 8, 8];

/// The body of a BrtCellError: the column, the style and the error value.
const CELL_ERROR_SIZE: usize = 9;

/// The largest record body the 4-byte size field can state.
const MAX_RECORD_SIZE: usize = (1 << 28) - 1;

/// The workbook in `bytes` with [`full_cell_records`] applied to every worksheet part, or
/// `None` when there is nothing to rewrite: not a zip, not an `.xlsb` (no `xl/workbook.bin`),
/// or no part holding a short record or a BrtFmlaError. `limit` bounds the bytes inflated.
pub(super) fn with_full_cell_records(bytes: &[u8], limit: u64) -> Result<Option<Vec<u8>>> {
    let Ok(mut archive) = ZipArchive::new(Cursor::new(bytes)) else {
        return Ok(None);
    };
    // calamine finds parts by name with `\` as `/` and case ignored; so does this.
    let names: Vec<Option<String>> = (0..archive.len())
        .map(|i| {
            let name = archive.name_for_index(i)?.ok()?;
            Some(name.replace('\\', "/").to_ascii_lowercase())
        })
        .collect();
    if !names.iter().flatten().any(|name| name == "xl/workbook.bin") {
        return Ok(None);
    }
    let mut budget = limit;
    let mut rewritten = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let Some(name) = name else { continue };
        if !(name.starts_with("xl/worksheets/") && name.ends_with(".bin")) {
            continue;
        }
        // A part that cannot be inflated is left for calamine to report. Parts with nothing
        // to rewrite, all of Excel's, are scanned as they inflate and never held in memory.
        let Ok(entry) = archive.by_index(i) else {
            continue;
        };
        let mut scanned = entry.take(limit.saturating_add(1));
        let holds = holds_records_to_rewrite(&mut scanned);
        if scanned.limit() == 0 {
            return Err(past_limit(limit));
        }
        drop(scanned);
        if !matches!(holds, Ok(true)) {
            continue;
        }
        let bad_part = |e| decode_error(&format!("cannot read the xlsb worksheet {name}"), e);
        let entry = archive.by_index(i).map_err(bad_part)?;
        let mut part = Vec::new();
        // The part holds records to rewrite: failing to read it all, even at its checksum, is
        // an error, since calamine could read those records' neighbours and skip them.
        let n = entry
            .take(budget.saturating_add(1))
            .read_to_end(&mut part)
            .map_err(|e| bad_part(e.into()))?;
        budget = budget
            .checked_sub(n as u64)
            .ok_or_else(|| past_limit(limit))?;
        match full_cell_records(&part) {
            Ok(Some(full)) => rewritten.push((i, full)),
            Ok(None) => {}
            Err(why) => {
                return Err(Error::new(
                    ErrorKind::Decode,
                    format!("not a valid xlsb worksheet ({name}): {why}"),
                ));
            }
        }
    }
    if rewritten.is_empty() {
        return Ok(None);
    }
    rebuild(&mut archive, rewritten, bytes.len())
        .map(Some)
        .map_err(|e| decode_error("cannot rebuild the xlsb workbook", e))
}

/// Whether the BIFF12 record stream `reader` gives holds a short cell record or a
/// BrtFmlaError, found without holding the stream in memory. It stops at the first such
/// record; the end of the stream, a cut record included, is `false`.
fn holds_records_to_rewrite(reader: impl Read) -> std::io::Result<bool> {
    let mut reader = BufReader::new(reader);
    // Framed as in Record::parse.
    while let Some(first) = next_byte(&mut reader)? {
        let typ = if first & 0x80 != 0 {
            let Some(second) = next_byte(&mut reader)? else {
                return Ok(false);
            };
            u16::from(first & 0x7F) | u16::from(second & 0x7F) << 7
        } else {
            u16::from(first)
        };
        if (FMLA_ERROR..=SHORT_ISST).contains(&typ) || typ == CELL_RSTRING {
            return Ok(true);
        }
        let mut size = 0u64;
        for shift in [0, 7, 14, 21] {
            let Some(byte) = next_byte(&mut reader)? else {
                return Ok(false);
            };
            size |= u64::from(byte & 0x7F) << shift;
            if byte & 0x80 == 0 {
                break;
            }
        }
        if std::io::copy(&mut (&mut reader).take(size), &mut std::io::sink())? < size {
            return Ok(false);
        }
    }
    Ok(false)
}

/// The next byte of `reader`, `None` at its end.
fn next_byte(reader: &mut impl BufRead) -> std::io::Result<Option<u8>> {
    let byte = reader.fill_buf()?.first().copied();
    if byte.is_some() {
        reader.consume(1);
    }
    Ok(byte)
}

fn past_limit(limit: u64) -> Error {
    exceeded(
        "max_decompressed_size",
        format!("the workbook's worksheets inflate past the {limit}-byte decompression limit"),
    )
}

/// A copy of `archive` with the entries at the given indexes (ascending) replaced.
fn rebuild(
    archive: &mut ZipArchive<Cursor<&[u8]>>,
    replaced: Vec<(usize, Vec<u8>)>,
    size: usize,
) -> zip::result::ZipResult<Vec<u8>> {
    let grown: usize = replaced.iter().map(|(_, part)| part.len()).sum();
    let mut writer = ZipWriter::new(Cursor::new(Vec::with_capacity(size + grown)));
    let mut replaced = replaced.into_iter().peekable();
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i)?;
        match replaced.next_if(|(at, _)| *at == i) {
            Some((_, part)) => {
                let name = entry.name()?.into_owned();
                drop(entry);
                let options = SimpleFileOptions::default()
                    .compression_method(CompressionMethod::Stored)
                    .large_file(part.len() as u64 >= u64::from(u32::MAX));
                writer.start_file(name, options)?;
                writer.write_all(&part)?;
            }
            None => writer.raw_copy_file(entry)?,
        }
    }
    Ok(writer.finish()?.into_inner())
}

/// The worksheet record stream `part` with each short cell record in its full form and each
/// BrtFmlaError as a BrtCellError, or `None` if it holds neither. An error says why a record
/// cannot be rewritten.
fn full_cell_records(part: &[u8]) -> std::result::Result<Option<Vec<u8>>, String> {
    let mut out = Vec::new();
    // part[..copied] is in `out`, as it is or rewritten.
    let mut copied = 0;
    // The column of the current row's last cell.
    let mut column: Option<u32> = None;
    let mut at = 0;
    while let Some(record) = part.get(at..).and_then(Record::parse) {
        let start = at;
        // Every record is at least 2 bytes long, so this loop ends.
        at += record.len;
        let typ = record.typ;
        match typ {
            ROW_HDR => column = None,
            SHORT_BLANK..=SHORT_ISST => {
                let full = typ - SHORT_TO_FULL;
                let col = column.and_then(|c| c.checked_add(1)).ok_or_else(|| {
                    format!(
                        "the short cell record {typ:#04x} at byte {start} has no cell before it \
                         in its row"
                    )
                })?;
                let min = SHORT_MIN_SIZE
                    .get(usize::from(full - CELL_BLANK))
                    .copied()
                    .unwrap_or(0);
                if record.body.len() < min {
                    return Err(too_small(typ, start, record.body.len(), min));
                }
                column = Some(col);
                out.extend_from_slice(part.get(copied..start).unwrap_or_default());
                push_record(&mut out, full, &[&col.to_le_bytes(), record.body])
                    .ok_or_else(|| format!("the record at byte {start} is too large"))?;
                copied = at;
            }
            FMLA_ERROR => {
                let cell = record
                    .body
                    .get(..CELL_ERROR_SIZE)
                    .ok_or_else(|| too_small(typ, start, record.body.len(), CELL_ERROR_SIZE))?;
                column = cell.first_chunk().map(|c| u32::from_le_bytes(*c));
                out.extend_from_slice(part.get(copied..start).unwrap_or_default());
                push_record(&mut out, CELL_ERROR, &[cell])
                    .ok_or_else(|| format!("the record at byte {start} is too large"))?;
                copied = at;
            }
            CELL_RSTRING => {
                let plain = plain_string_cell(record.body).ok_or_else(|| {
                    format!(
                        "the rich-text cell record at byte {start} has {} bytes, too few for \
                         the string it declares",
                        record.body.len()
                    )
                })?;
                column = plain
                    .first()
                    .and_then(|c| c.first_chunk())
                    .map(|c| u32::from_le_bytes(*c));
                out.extend_from_slice(part.get(copied..start).unwrap_or_default());
                push_record(&mut out, CELL_ST, &plain)
                    .ok_or_else(|| format!("the record at byte {start} is too large"))?;
                copied = at;
            }
            CELL_BLANK..FMLA_ERROR => {
                column = record.body.first_chunk().map(|c| u32::from_le_bytes(*c));
            }
            _ => {}
        }
    }
    if copied == 0 {
        return Ok(None);
    }
    // The rest, a record cut short at the end included, as it is.
    out.extend_from_slice(part.get(copied..).unwrap_or_default());
    Ok(Some(out))
}

/// The body of a BrtCellSt holding the text of the BrtCellRString body `body`: its 8-byte
/// cell, then the string (an XLWideString: a 4-byte length in UTF-16 units, then the units),
/// without the flags byte before the string and the formatting runs after it. `None` if the
/// body is too short for the string it declares.
fn plain_string_cell(body: &[u8]) -> Option<[&[u8]; 2]> {
    let cell = body.get(..8)?;
    let units = u32::from_le_bytes(*body.get(9..)?.first_chunk()?);
    let end = usize::try_from(units)
        .ok()?
        .checked_mul(2)?
        .checked_add(13)?;
    Some([cell, body.get(9..end)?])
}

fn too_small(typ: u16, at: usize, size: usize, min: usize) -> String {
    format!("the cell record {typ:#04x} at byte {at} has {size} bytes, fewer than {min}")
}

/// One record of a BIFF12 stream.
struct Record<'a> {
    typ: u16,
    /// The whole record's length: type, size and body.
    len: usize,
    body: &'a [u8],
}

impl<'a> Record<'a> {
    /// The record at the start of `data`, framed as calamine 0.38 frames it (`RecordIter`):
    /// the type is 1 byte, or 2 if the first has its high bit set (7 bits from each); the size
    /// is 1 to 4 bytes of 7 bits, each but the fourth saying with its high bit that another
    /// follows. `None` if `data` ends before the record does.
    fn parse(data: &'a [u8]) -> Option<Self> {
        let first = *data.first()?;
        let (typ, mut at) = if first & 0x80 != 0 {
            let second = *data.get(1)?;
            (u16::from(first & 0x7F) | u16::from(second & 0x7F) << 7, 2)
        } else {
            (u16::from(first), 1)
        };
        let mut size = 0usize;
        for shift in [0, 7, 14, 21] {
            let byte = *data.get(at)?;
            at += 1;
            size |= usize::from(byte & 0x7F) << shift;
            if byte & 0x80 == 0 {
                break;
            }
        }
        let len = at.checked_add(size)?;
        let body = data.get(at..len)?;
        Some(Record { typ, len, body })
    }
}

/// Appends a record of type `typ` (below 0x80, one byte) whose body is `body` joined; `None`
/// if the body is too large for the size field.
fn push_record(out: &mut Vec<u8>, typ: u16, body: &[&[u8]]) -> Option<()> {
    let typ = u8::try_from(typ).ok().filter(|t| *t < 0x80)?;
    let mut size: usize = body.iter().map(|b| b.len()).sum();
    if size > MAX_RECORD_SIZE {
        return None;
    }
    out.push(typ);
    loop {
        let low = (size & 0x7F) as u8;
        size >>= 7;
        if size == 0 {
            out.push(low);
            break;
        }
        out.push(low | 0x80);
    }
    for part in body {
        out.extend_from_slice(part);
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record with the shortest header, as Excel and SheetJS write them.
    fn rec(typ: u16, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        if typ < 0x80 {
            out.push(typ as u8);
        } else {
            out.extend([(typ & 0x7F) as u8 | 0x80, (typ >> 7) as u8]);
        }
        let mut size = body.len();
        loop {
            let low = (size & 0x7F) as u8;
            size >>= 7;
            if size == 0 {
                out.push(low);
                break;
            }
            out.push(low | 0x80);
        }
        out.extend_from_slice(body);
        out
    }

    fn cat(parts: &[&[u8]]) -> Vec<u8> {
        parts.concat()
    }

    fn row(r: u32) -> Vec<u8> {
        // BrtRowHdr: the row, then style, height and flags (calamine reads only the row).
        rec(ROW_HDR, &cat(&[&r.to_le_bytes(), &[0; 13]]))
    }

    /// A full cell body: column, style 0, then the value.
    fn full(col: u32, value: &[u8]) -> Vec<u8> {
        cat(&[&col.to_le_bytes(), &[0; 4], value])
    }

    /// A short cell body: style 0, then the value.
    fn short(value: &[u8]) -> Vec<u8> {
        cat(&[&[0; 4], value])
    }

    /// An XLWideString.
    fn wide(s: &str) -> Vec<u8> {
        let units: Vec<u16> = s.encode_utf16().collect();
        let mut out = (units.len() as u32).to_le_bytes().to_vec();
        for u in units {
            out.extend(u.to_le_bytes());
        }
        out
    }

    const RK_7: [u8; 4] = [(7 << 2) | 2, 0, 0, 0];
    const ISST_1: [u8; 4] = [1, 0, 0, 0];

    /// Records that open a worksheet and its sheet data: two-byte types, as in every part.
    fn head() -> Vec<u8> {
        cat(&[
            &rec(0x0081, &[]),      // BrtBeginSheet
            &rec(0x0094, &[0; 16]), // BrtWsDim
            &rec(0x0091, &[]),      // BrtBeginSheetData
        ])
    }

    fn tail() -> Vec<u8> {
        cat(&[&rec(0x0092, &[]), &rec(0x0082, &[])])
    }

    #[test]
    fn every_short_record_becomes_its_full_form_with_the_next_column() {
        let values: [(u16, Vec<u8>); 7] = [
            (0x0C, vec![]),
            (0x0D, RK_7.to_vec()),
            (0x0E, vec![0x07]),
            (0x0F, vec![1]),
            (0x10, 2.5f64.to_le_bytes().to_vec()),
            (0x11, wide("Zoë 🚀")),
            (0x12, ISST_1.to_vec()),
        ];
        let mut input = cat(&[&head(), &row(0), &rec(0x07, &full(2, &ISST_1))]);
        let mut expected = input.clone();
        for (i, (typ, value)) in values.iter().enumerate() {
            input.extend(rec(*typ, &short(value)));
            expected.extend(rec(typ - 0x0B, &full(3 + i as u32, value)));
        }
        // A new row starts over: its first cell is full, the next follow it.
        for part in [
            row(1),
            rec(0x05, &full(0, &1.5f64.to_le_bytes())),
            rec(0x04, &full(4, &[0])),
        ] {
            input.extend(&part);
            expected.extend(&part);
        }
        input.extend(rec(0x0D, &short(&RK_7)));
        expected.extend(rec(0x02, &full(5, &RK_7)));
        input.extend(tail());
        expected.extend(tail());

        assert!(holds_records_to_rewrite(&input[..]).unwrap());
        let output = full_cell_records(&input).unwrap().unwrap();
        assert_eq!(output, expected);
        // The output has nothing left to rewrite.
        assert_eq!(full_cell_records(&output), Ok(None));
    }

    #[test]
    fn a_formula_error_becomes_an_error_cell_and_is_a_column_for_the_next() {
        // BrtFmlaError: cell, bErr (#DIV/0!), grbitFlags, then the formula: cce, rgce
        // (PtgInt 1, PtgInt 0, PtgDiv), cb.
        let formula = [3, 0, 0, 0, 0x1E, 1, 0, 0x1E, 0, 0, 0x06, 0, 0, 0, 0];
        let input = cat(&[
            &head(),
            &row(4),
            &rec(0x0B, &cat(&[&full(6, &[0x07, 0, 0]), &formula])),
            &rec(0x0F, &short(&[1])),
            &tail(),
        ]);
        let expected = cat(&[
            &head(),
            &row(4),
            &rec(0x03, &full(6, &[0x07])),
            &rec(0x04, &full(7, &[1])),
            &tail(),
        ]);
        assert_eq!(full_cell_records(&input), Ok(Some(expected)));
    }

    /// A BrtCellRString body's value: fRichStr set, the text, then one formatting run.
    fn rich(s: &str) -> Vec<u8> {
        cat(&[&[1], &wide(s), &1u32.to_le_bytes(), &[0, 0, 1, 0]])
    }

    #[test]
    fn rich_text_becomes_plain_text_and_is_a_column_for_the_next() {
        let input = cat(&[
            &head(),
            &row(0),
            &rec(0x3E, &full(2, &rich("Bold, then plain"))),
            &rec(0x0D, &short(&RK_7)),
            &tail(),
        ]);
        let expected = cat(&[
            &head(),
            &row(0),
            &rec(0x06, &full(2, &wide("Bold, then plain"))),
            &rec(0x02, &full(3, &RK_7)),
            &tail(),
        ]);
        assert!(holds_records_to_rewrite(&input[..]).unwrap());
        assert_eq!(full_cell_records(&input), Ok(Some(expected)));
        // A string longer than its record is an error, not a guess.
        let mut cut = full(0, &rich("abc"));
        cut.truncate(8 + 1 + 4 + 4);
        let input = cat(&[&row(0), &rec(0x3E, &cut)]);
        let err = full_cell_records(&input).unwrap_err();
        assert!(err.contains("too few for the string"), "{err}");
    }

    #[test]
    fn a_stream_without_short_records_is_left_alone() {
        let input = cat(&[
            &head(),
            &row(0),
            &rec(0x07, &full(0, &ISST_1)),
            &rec(0x02, &full(1, &RK_7)),
            &rec(0x06, &full(2, &wide("text"))),
            &rec(0x01, &full(3, &[])),
            &rec(0x09, &full(5, &[0; 14])),
            &tail(),
            // Records after the sheet data, one with a 3-byte size.
            &rec(0x01E5, &[0; 20_000]),
        ]);
        assert_eq!(full_cell_records(&input), Ok(None));
        assert!(!holds_records_to_rewrite(&input[..]).unwrap());
        assert_eq!(full_cell_records(&[]), Ok(None));
        assert!(!holds_records_to_rewrite(&[][..]).unwrap());
    }

    #[test]
    fn a_truncated_stream_keeps_its_cut_record_for_calamine() {
        let cut = &rec(0x0D, &short(&RK_7))[..5];
        let input = cat(&[
            &row(0),
            &rec(0x07, &full(0, &ISST_1)),
            &rec(0x12, &short(&ISST_1)),
        ]);
        let rewritten = cat(&[
            &row(0),
            &rec(0x07, &full(0, &ISST_1)),
            &rec(0x07, &full(1, &ISST_1)),
        ]);
        let truncated = cat(&[&input, cut]);
        assert_eq!(
            full_cell_records(&truncated),
            Ok(Some(cat(&[&rewritten, cut])))
        );
        // Cut inside a header: a two-byte type, then a size whose bytes all say "more".
        for cut in [&[0x81][..], &[0x07, 0x80, 0x80]] {
            let truncated = cat(&[&input, cut]);
            assert_eq!(
                full_cell_records(&truncated),
                Ok(Some(cat(&[&rewritten, cut])))
            );
        }
        // Nothing to rewrite before the cut: unchanged.
        assert_eq!(full_cell_records(&cat(&[&row(0), cut])), Ok(None));
    }

    #[test]
    fn a_short_record_needs_a_cell_before_it_in_its_row() {
        for input in [
            rec(0x0D, &short(&RK_7)),
            cat(&[&row(0), &rec(0x0D, &short(&RK_7))]),
            // The row before had a cell; this one does not.
            cat(&[
                &row(0),
                &rec(0x07, &full(0, &ISST_1)),
                &row(1),
                &rec(0x0C, &short(&[])),
            ]),
            // A cell record too small to hold a column.
            cat(&[&row(0), &rec(0x01, &[0; 3]), &rec(0x0C, &short(&[]))]),
            // The column after the last one is none.
            cat(&[
                &row(0),
                &rec(0x01, &full(u32::MAX, &[])),
                &rec(0x0C, &short(&[])),
            ]),
        ] {
            let err = full_cell_records(&input).unwrap_err();
            assert!(err.contains("no cell before it in its row"), "{err}");
        }
    }

    #[test]
    fn records_too_small_for_their_value_are_errors() {
        for (typ, size) in [
            (0x0C, 3),
            (0x0D, 7),
            (0x0E, 4),
            (0x0F, 4),
            (0x10, 11),
            (0x11, 7),
            (0x12, 7),
            (0x0B, 8),
        ] {
            let input = cat(&[
                &row(0),
                &rec(0x01, &full(0, &[])),
                &rec(typ, &vec![0; size]),
            ]);
            let err = full_cell_records(&input).unwrap_err();
            assert!(
                err.contains(&format!("has {size} bytes")),
                "{typ:#04x}: {err}"
            );
        }
    }

    #[test]
    fn a_long_short_record_gets_a_longer_size_field() {
        // 124 bytes of body fit a one-byte size; 128 need two.
        let text = wide(&"x".repeat(58));
        let body = short(&text);
        assert_eq!(body.len(), 124);
        let input = cat(&[&row(0), &rec(0x07, &full(0, &ISST_1)), &rec(0x11, &body)]);
        let output = full_cell_records(&input).unwrap().unwrap();
        let expected = rec(0x06, &full(1, &text));
        assert_eq!(&expected[..3], [0x06, 0x80, 0x01]);
        assert!(output.ends_with(&expected));
    }

    #[test]
    fn records_are_framed_as_calamine_frames_them() {
        // A 4-byte size whose last byte has its high bit set: calamine stops reading the size
        // there and ignores that bit.
        let record = [0x07, 0x84, 0x80, 0x80, 0x80, 1, 0, 0, 0];
        let parsed = Record::parse(&record).unwrap();
        assert_eq!(
            (parsed.typ, parsed.len, parsed.body),
            (0x07, 9, &record[5..])
        );
        // A two-byte type ignores the second byte's high bit too.
        let parsed = Record::parse(&[0x91, 0x81, 0]).unwrap();
        assert_eq!((parsed.typ, parsed.len), (0x91, 3));
    }

    #[test]
    fn random_streams_never_panic_and_at_most_double() {
        // xorshift64: deterministic, no dependency.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut rewritten = 0;
        for _ in 0..20_000 {
            let mut input = Vec::new();
            for _ in 0..next() % 12 {
                let typ = [
                    0x00, 0x01, 0x02, 0x07, 0x0B, 0x0C, 0x0D, 0x11, 0x12, 0x3E, 0x92,
                ][(next() % 11) as usize];
                let size = (next() % 20) as usize;
                let body: Vec<u8> = (0..size).map(|_| next() as u8).collect();
                match next() % 8 {
                    0 => input.extend((0..next() % 6).map(|_| next() as u8)),
                    _ => input.extend(rec(typ, &body)),
                }
            }
            let result = full_cell_records(&input);
            if let Ok(Some(output)) = &result {
                assert!(output.len() <= 2 * input.len(), "{input:?}");
                rewritten += 1;
            }
            // The scan that spares Excel's parts finds whatever would be rewritten.
            if !matches!(result, Ok(None)) {
                assert!(holds_records_to_rewrite(&input[..]).unwrap(), "{input:?}");
            }
        }
        assert!(rewritten > 1000, "only {rewritten} streams rewritten");
    }

    const SHEETJS_XLSB: &[u8] = include_bytes!("../../../../fixtures/sheetjs/sample.xlsb");
    const SHEETJS_XLSX: &[u8] = include_bytes!("../../../../fixtures/sheetjs/sample.xlsx");

    #[test]
    fn only_xlsb_workbooks_with_short_records_are_rebuilt() {
        let fixed = with_full_cell_records(SHEETJS_XLSB, u64::MAX)
            .unwrap()
            .unwrap();
        // Every sheet part is now in full form.
        assert_eq!(with_full_cell_records(&fixed, u64::MAX).unwrap(), None);
        assert_eq!(
            with_full_cell_records(SHEETJS_XLSX, u64::MAX).unwrap(),
            None
        );
        assert_eq!(
            with_full_cell_records(b"not a zip", u64::MAX).unwrap(),
            None
        );
        // The sheet parts count against the decompression limit.
        let err = with_full_cell_records(SHEETJS_XLSB, 100).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::LimitExceeded);
    }

    #[test]
    fn calamine_reads_the_rewritten_cells() {
        use crate::format::Codec;
        // SheetJS's Notes sheet, plus a row of a formula error cell, then a short record, and
        // a row of a rich-text cell, then a short record.
        let mut archive = ZipArchive::new(Cursor::new(SHEETJS_XLSB)).unwrap();
        let i = archive.index_for_name("xl/worksheets/sheet2.bin").unwrap();
        let mut notes = Vec::new();
        archive
            .by_index(i)
            .unwrap()
            .read_to_end(&mut notes)
            .unwrap();
        let mut end = 0;
        while let Some(record) = Record::parse(&notes[end..]).filter(|r| r.typ != 0x92) {
            end += record.len;
        }
        let formula = [3, 0, 0, 0, 0x1E, 1, 0, 0x1E, 0, 0, 0x06, 0, 0, 0, 0];
        let added = cat(&[
            &row(4),
            &rec(0x0B, &cat(&[&full(0, &[0x07, 0, 0]), &formula])),
            &rec(0x0D, &short(&[(4 << 2) | 2, 0, 0, 0])),
            &row(5),
            &rec(0x3E, &full(0, &rich("rich"))),
            &rec(0x0D, &short(&[(5 << 2) | 2, 0, 0, 0])),
        ]);
        notes.splice(end..end, added);
        let book = rebuild(&mut archive, vec![(i, notes)], SHEETJS_XLSB.len()).unwrap();

        let options = crate::settings::ReadSettings::default();
        let sheets = crate::format::excel::XLSB
            .decode_sheets(book.into(), &options)
            .unwrap();
        let expected = polars::df!(
            "note" => ["first", "second, with comma", "Ünïcödé 🚀", "#DIV/0!", "rich"],
            "count" => [1i64, 2, 3, 4, 5],
        )
        .unwrap();
        assert_eq!(sheets["Notes"], expected);
    }
}
