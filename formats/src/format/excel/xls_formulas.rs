//! Blanking the formulas of an `.xls` workbook before calamine opens it.
//!
//! calamine 0.38 turns every FORMULA record of every sheet into formula text as it opens an
//! `.xls` workbook, and its formula parser takes time quadratic in the formula's length: a
//! space token (PtgAttrSpace) inserts up to 255 spaces one at a time at the front of the
//! text built so far, and unary operators and parentheses insert there too. One crafted
//! 8 KB record takes seconds, and a file may hold thousands.
//!
//! s3io never reads formulas, only the values Excel cached with them (in the FORMULA record
//! itself, or the STRING record after it). So in a copy of the file, each FORMULA record
//! that calamine reads gets its formula's length (`cce`, the u16 at offset 20 of the
//! record's data) set to 0: calamine then parses an empty formula, which fails at once, and
//! keeps the cached value as before. No size changes, so the patch is 2 bytes in place per
//! record, at the file offsets the stream's sector chain (or the mini stream's, within the
//! root entry's chain) puts them. The copy is read again the way calamine will read it, and
//! refused if a formula is still there (records that overlap another walk's, sectors that
//! appear twice in a chain).

use super::xls_scan::{
    BOUNDSHEET, CompoundFile, EOF, FORMULA, Placement, Records, SIGNATURE, malformed,
    sheet_records, u16_at, u32_at,
};
use crate::error::Result;

/// Where `cce` lies in a FORMULA record's data.
const CCE: usize = 20;

/// A copy of the `.xls` workbook in `bytes` in which every formula calamine would parse is
/// empty; `None` if there is none (or `bytes` are not a compound file calamine reads).
pub(super) fn without_formulas(bytes: &[u8]) -> Result<Option<Vec<u8>>> {
    let Some((file, mut stream, placement)) = workbook(bytes)? else {
        return Ok(None);
    };
    let formulas = blank(&mut stream);
    if formulas.is_empty() {
        return Ok(None);
    }
    let mut out = bytes.to_vec();
    for (pos, cce) in formulas {
        for (i, byte) in cce.into_iter().enumerate() {
            // A zero byte may lie past the end of the file, where calamine reads zeros.
            if byte == 0 {
                continue;
            }
            let at = file
                .file_offset(&placement, pos + i)
                .ok_or_else(|| malformed("workbook stream has a formula it cannot place"))?;
            out[at] = 0;
        }
    }
    // Read the copy as calamine will: nothing must be left to parse.
    if let Some((_, mut stream, _)) = workbook(&out)?
        && !blank(&mut stream).is_empty()
    {
        return Err(malformed(
            "workbook stream has formula records that overlap one another",
        ));
    }
    Ok(Some(out))
}

/// The compound file in `bytes`, its workbook stream, and where the stream's bytes lie.
fn workbook(bytes: &[u8]) -> Result<Option<(CompoundFile<'_>, Vec<u8>, Placement)>> {
    if !bytes.starts_with(SIGNATURE) {
        return Ok(None);
    }
    let Some(file) = CompoundFile::open(bytes)? else {
        return Ok(None);
    };
    Ok(file
        .workbook()?
        .map(|(stream, placement)| (file, stream, placement)))
}

/// Empties, in the workbook `stream`, each formula calamine parses: the FORMULA records of
/// every sheet's substream. Returns where each `cce` was, and what it held.
fn blank(stream: &mut [u8]) -> Vec<(usize, [u8; 2])> {
    let mut sheets = Vec::new();
    for record in Records::new(stream) {
        match record.typ {
            BOUNDSHEET if record.data.len() >= 4 => sheets.push(u32_at(record.data, 0) as usize),
            EOF => break,
            _ => {}
        }
    }
    let mut blanked = Vec::new();
    for pos in sheets {
        // Past the stream, calamine panics (caught) on this sheet.
        if pos > stream.len() {
            continue;
        }
        // calamine reads `cce` only when there are 20 bytes before it, and panics (caught)
        // when it is cut short.
        let found: Vec<usize> = sheet_records(stream, pos)
            .filter(|r| r.typ == FORMULA && r.data.len() >= CCE + 2)
            .filter(|r| u16_at(r.data, CCE) != 0)
            .map(|r| r.at + CCE)
            .collect();
        // The next sheet is read with these formulas blanked, as calamine will read it.
        for at in found {
            blanked.push((at, [stream[at], stream[at + 1]]));
            stream[at..at + 2].fill(0);
        }
    }
    blanked
}

#[cfg(test)]
mod tests {
    use super::super::xls_scan::tests::{compound, record, regular, workbook as book};
    use super::*;

    /// A FORMULA record at (`row`, 0) caching `value`, its formula `rgce`.
    fn formula(row: u16, value: f64, rgce: &[u8]) -> Vec<u8> {
        let mut data = row.to_le_bytes().to_vec();
        data.extend([0; 4]);
        data.extend(value.to_le_bytes());
        data.extend([0; 6]);
        data.extend((rgce.len() as u16).to_le_bytes());
        data.extend(rgce);
        record(FORMULA, &data)
    }

    /// `=1` followed by `spaces` PtgAttrSpace tokens of 255 spaces each.
    fn spaced(spaces: usize) -> Vec<u8> {
        let mut rgce = vec![0x1E, 1, 0];
        for _ in 0..spaces {
            rgce.extend([0x19, 0x40, 0, 0xFF]);
        }
        rgce
    }

    /// The file offsets where `a` and `b` differ.
    fn changed(a: &[u8], b: &[u8]) -> Vec<usize> {
        assert_eq!(a.len(), b.len());
        (0..a.len()).filter(|&i| a[i] != b[i]).collect()
    }

    /// The workbook stream of `file`, as calamine reads it.
    fn stream_of(file: &[u8]) -> Vec<u8> {
        workbook(file).unwrap().unwrap().1
    }

    /// Where each FORMULA record's `cce` lies in `stream`, in a workbook built by `workbook`.
    fn cces(stream: &[u8]) -> Vec<usize> {
        Records::new(stream)
            .filter(|r| r.typ == FORMULA)
            .map(|r| r.at + CCE)
            .collect()
    }

    #[test]
    fn a_formula_in_the_mini_stream_is_blanked_where_it_lies() {
        let cells = [formula(0, 1.5, &spaced(3)), formula(1, 2.5, &[0x1E, 7, 0])].concat();
        let stream = book(1, &[], &cells);
        let file = compound(&stream, 0, |_| {});
        let out = without_formulas(&file).unwrap().expect("formulas to blank");
        // The mini stream follows the header, the FAT, the directory and the mini FAT.
        let [a, b] = cces(&stream)[..] else { panic!() };
        let at = |pos: usize| 4 * 512 + pos;
        assert_eq!(changed(&file, &out), [at(a), at(b)]);
        let mut expected = stream.clone();
        expected[a] = 0;
        expected[b] = 0;
        assert_eq!(stream_of(&out), expected);
        // Nothing left: blanking again changes nothing.
        assert_eq!(without_formulas(&out).unwrap(), None);
    }

    #[test]
    fn a_formula_in_regular_sectors_is_blanked_where_its_sector_lies() {
        // Formulas past the first sectors, the second with its cce across a sector boundary.
        let filler: Vec<u8> = (0..300).flat_map(|_| record(0x0201, &[0; 6])).collect();
        let mut cells = [filler, formula(0, 1.0, &spaced(300))].concat();
        // The cells start 4 bytes before the end of an empty workbook (its last EOF).
        let start = book(1, &[], &[]).len() - 4;
        let cce = start + cells.len() + 4 + 4 + CCE;
        let pad = (511 + 512 - cce % 512) % 512;
        cells.extend(record(0x0201, &vec![0; pad]));
        cells.extend(formula(1, 2.0, &[0x1E, 0x00, 0x01]));
        let stream = book(1, &[], &cells);
        assert!(stream.len() > 4096);
        let file = regular(&stream);
        let out = without_formulas(&file).unwrap().expect("formulas to blank");
        let sites = cces(&stream);
        assert_eq!(sites.len(), 2);
        assert_eq!(sites[1] % 512, 511);
        let n = stream.len().max(4096).div_ceil(512);
        let at = |pos: usize| (2 + n - 1 - pos / 512 + 1) * 512 + pos % 512;
        let mut expected_offsets = Vec::new();
        let mut expected = stream.clone();
        for &pos in &sites {
            for p in [pos, pos + 1] {
                if stream[p] != 0 {
                    expected_offsets.push(at(p));
                }
                expected[p] = 0;
            }
        }
        expected_offsets.sort_unstable();
        assert_eq!(changed(&file, &out), expected_offsets);
        assert_eq!(stream_of(&out)[..stream.len()], expected[..]);
    }

    #[test]
    fn a_workbook_without_formulas_is_left_alone() {
        let number = record(0x0203, &[0; 14]);
        let stream = book(1, &[], &number);
        assert_eq!(
            without_formulas(&compound(&stream, 0, |_| {})).unwrap(),
            None
        );
        assert_eq!(without_formulas(&regular(&stream)).unwrap(), None);
        // Formulas already empty, or too short to hold a cce (calamine fails on those).
        let cells = [formula(0, 1.0, &[]), record(FORMULA, &[0; 21])].concat();
        let stream = book(1, &[], &cells);
        assert_eq!(without_formulas(&regular(&stream)).unwrap(), None);
        assert_eq!(without_formulas(b"not a compound file").unwrap(), None);
    }

    #[test]
    fn formulas_in_nested_substreams_are_not_read() {
        let chart = [
            record(0x0809, &[0, 6, 0x20, 0]),
            formula(5, 1.0, &spaced(2)),
            record(0x000A, &[]),
        ]
        .concat();
        let stream = book(1, &[], &chart);
        assert_eq!(without_formulas(&regular(&stream)).unwrap(), None);
    }
}
