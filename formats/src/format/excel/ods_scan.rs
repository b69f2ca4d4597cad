//! The `.ods` pre-scan. calamine reads an OpenDocument spreadsheet whole as it opens it:
//! every table of `content.xml`, each into a dense grid over its values, and it expands
//! `table:number-columns-repeated` (up to 16,384 per row) and `table:number-rows-repeated`
//! (up to 1,048,576 per table) of cells that hold something: 150 bytes of XML ask for 98
//! million cells (5.5 GB), under calamine's own cap of 100 million. Empty repeated cells and
//! rows cost nothing unless a value follows them. It also pushes `<text:s text:c="n"/>`'s
//! n spaces one by one (n up to 2^31 - 1, any number of times in a cell), and it waits
//! forever for the end of a table that `content.xml` never closes.
//!
//! So s3io reads `content.xml` first with the same XML reader and settings (quick-xml; its
//! size is already bounded by the decompression limit), following calamine's `ods.rs` event
//! by event, and refuses
//!
//! - a table whose values span, with their repeats, more than
//!   [`Limits::max_sheet_cells`](crate::Limits::max_sheet_cells), or whose rows hold more
//!   before their repeats; and tables that span more together;
//! - more text than the decompression limit once repeated cells and rows and spaces are
//!   expanded;
//! - a `content.xml` that ends inside a table.
//!
//! Where calamine fails by itself (bad XML, a repeat count that is not a number, an element
//! it does not expect in a row), the scan stops: calamine builds nothing more.

use std::io::{BufRead, BufReader, Cursor, Read};

use quick_xml::Reader;
use quick_xml::escape::unescape;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::QName;

use super::budget::Budget;
use crate::error::{Error, ErrorKind, Result};

const MIMETYPE: &[u8] = b"application/vnd.oasis.opendocument.spreadsheet";
/// calamine's caps: rows in a table, with their repeats, and cells in a row.
const MAX_ROWS: u64 = 1_048_576;
const MAX_COLUMNS: u64 = 16_384;
const CELL: &str = "table:table-cell";
const COVERED_CELL: &str = "table:covered-table-cell";

/// An error if calamine, opening `bytes` as an `.ods` workbook, would allocate past the
/// budget or never finish. Anything without the OpenDocument spreadsheet mimetype is left
/// alone.
pub(super) fn check(bytes: &[u8], budget: &mut Budget) -> Result<()> {
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Ok(());
    };
    let mut mimetype = [0; MIMETYPE.len()];
    let is_ods = match zip.by_name("mimetype") {
        Ok(mut entry) => entry.read_exact(&mut mimetype).is_ok() && mimetype == MIMETYPE,
        Err(_) => false,
    };
    if !is_ods {
        return Ok(());
    }
    let Ok(content) = zip.by_name("content.xml") else {
        return Ok(());
    };
    check_content(&mut xml_reader(BufReader::new(content)), budget)
}

/// An XML reader set up as calamine sets up its own for `content.xml`.
fn xml_reader<R: BufRead>(input: R) -> Reader<R> {
    let mut reader = Reader::from_reader(input);
    let config = reader.config_mut();
    config.check_end_names = false;
    config.trim_text(false);
    config.check_comments = false;
    config.expand_empty_elements = true;
    reader
}

/// How reading goes on after a part of `content.xml`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Flow {
    Go,
    /// calamine fails here, and builds nothing more.
    Stop,
    /// The document ends where calamine loops forever waiting for an end tag.
    Hangs,
}

/// calamine's `parse_content`: the tables, each read as it comes.
fn check_content<R: BufRead>(reader: &mut Reader<R>, budget: &mut Budget) -> Result<()> {
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let name = match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) if e.name() == QName("table:table") => {
                match raw_attr(&e, "table:name") {
                    Ok(Some(name)) => match unescape(name) {
                        Ok(name) => name.into_owned(),
                        Err(_) => return Ok(()),
                    },
                    // Only named tables are sheets.
                    Ok(None) => continue,
                    Err(()) => return Ok(()),
                }
            }
            Ok(Event::Eof) | Err(_) => return Ok(()),
            Ok(_) => continue,
        };
        let (table, flow) = read_table(reader);
        table.check(&name, budget)?;
        match flow {
            Flow::Go => {}
            Flow::Stop => return Ok(()),
            Flow::Hangs => {
                return Err(Error::new(
                    ErrorKind::Decode,
                    format!(
                        "not a valid workbook: its content.xml ends inside sheet {name:?}, \
                         unclosed"
                    ),
                ));
            }
        }
    }
}

/// What calamine builds for one table.
#[derive(Default)]
struct Table {
    /// Rows so far, with their repeats, capped as calamine caps them.
    rows: u64,
    /// Cells stored, each row once, before its repeats.
    stored: u64,
    /// Rows with their repeats since the first that holds a value, if any has.
    since_first: Option<u64>,
    /// Rows with their repeats from the first that holds a value to the last.
    spanned_rows: u64,
    /// The first and last columns holding a value.
    cols: Option<(u64, u64)>,
    /// Bytes of text in the cells once repeats are expanded.
    text: u64,
}

impl Table {
    fn add(&mut self, row: &Row, repeats: u64) {
        self.stored = self.stored.saturating_add(row.len);
        // Stored once, then copied for each repeat.
        let copies = repeats.saturating_add(1);
        self.text = self.text.saturating_add(row.text.saturating_mul(copies));
        if let Some(since) = &mut self.since_first {
            *since += repeats;
        }
        if let Some(first) = row.first {
            self.spanned_rows = *self.since_first.get_or_insert(repeats);
            let (left, right) = self.cols.get_or_insert((first, row.last));
            *left = (*left).min(first);
            *right = (*right).max(row.last);
        }
    }

    fn check(&self, name: &str, budget: &mut Budget) -> Result<()> {
        if let Some((left, right)) = self.cols {
            budget.sheet(name, self.spanned_rows, right - left + 1)?;
        }
        let stored = self.stored;
        let what = format!("stores {stored} cells before its repeated rows are expanded");
        budget.passing(name, stored, &what)?;
        budget.text(self.text, "repeated cells, rows and spaces are expanded")
    }
}

/// calamine's `read_table`: rows until the table's end tag.
fn read_table<R: BufRead>(reader: &mut Reader<R>) -> (Table, Flow) {
    let mut table = Table::default();
    let (mut buf, mut row_buf, mut cell_buf) = (Vec::new(), Vec::new(), Vec::new());
    loop {
        buf.clear();
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) if e.name() == QName("table:table-row") => {
                let repeats = match raw_attr(&e, "table:number-rows-repeated") {
                    Ok(None) => 1,
                    Ok(Some(n)) => match unescape(n).ok().and_then(|n| n.parse::<u64>().ok()) {
                        Some(n) => n,
                        None => return (table, Flow::Stop),
                    },
                    Err(()) => return (table, Flow::Stop),
                };
                let repeats = repeats.min(MAX_ROWS.saturating_sub(table.rows));
                table.rows += repeats;
                let (row, flow) = read_row(reader, &mut row_buf, &mut cell_buf);
                table.add(&row, repeats);
                if flow != Flow::Go {
                    return (table, flow);
                }
            }
            Ok(Event::End(e)) if e.name() == QName("table:table") => return (table, Flow::Go),
            // calamine's loop takes the end of the document as one more event to skip.
            Ok(Event::Eof) => return (table, Flow::Hangs),
            Err(_) => return (table, Flow::Stop),
            Ok(_) => {}
        }
    }
}

/// The cells calamine stores for one row element, before its repeats.
#[derive(Default)]
struct Row {
    /// Cells stored: values with their repeats, and the empty cells between them.
    len: u64,
    /// The first and last columns holding a value, if any.
    first: Option<u64>,
    last: u64,
    /// Bytes of text in the row's cells, once repeated cells are expanded.
    text: u64,
}

/// calamine's `read_row`: cells until the row's end tag.
fn read_row<R: BufRead>(
    reader: &mut Reader<R>,
    row_buf: &mut Vec<u8>,
    cell_buf: &mut Vec<u8>,
) -> (Row, Flow) {
    let mut row = Row::default();
    // Empty cells are stored only when a value follows them.
    let mut empty = 0u64;
    loop {
        row_buf.clear();
        let (name, repeats, cell) = match reader.read_event_into(row_buf) {
            Ok(Event::Start(e)) if e.name() == QName(CELL) || e.name() == QName(COVERED_CELL) => {
                let name = if e.name() == QName(CELL) {
                    CELL
                } else {
                    COVERED_CELL
                };
                let repeats = match raw_attr(&e, "table:number-columns-repeated") {
                    Ok(None) => Some(1),
                    Ok(Some(n)) => n.parse::<u64>().ok(),
                    Err(()) => None,
                };
                match (repeats, CellAttributes::read(&e)) {
                    (Some(repeats), Some(cell)) => (name, repeats, cell),
                    _ => return (row, Flow::Stop),
                }
            }
            Ok(Event::End(e)) if e.name() == QName("table:table-row") => return (row, Flow::Go),
            // Anything else in a row, the end of the document included, fails calamine.
            _ => return (row, Flow::Stop),
        };
        let content = if cell.reads_content {
            match read_text(reader, cell_buf) {
                (text, Flow::Go) => Some(text),
                // calamine has built the text so far when it fails.
                (text, flow) => {
                    row.text = row.text.saturating_add(text);
                    return (row, flow);
                }
            }
        } else {
            None
        };
        let stored_empty = empty.min(MAX_COLUMNS - row.len);
        row.len += stored_empty;
        let repeats = repeats.min(MAX_COLUMNS - row.len);
        if cell.has_value {
            empty = 0;
            if repeats > 0 {
                row.first.get_or_insert(row.len);
                row.last = row.len + repeats - 1;
            }
            row.len += repeats;
            let text = cell.text.saturating_add(content.unwrap_or(0));
            row.text = row.text.saturating_add(text.saturating_mul(repeats));
        } else {
            empty = repeats;
        }
        // calamine skips the content of the cells it does not read.
        if content.is_none() && reader.read_to_end_into(QName(name), cell_buf).is_err() {
            return (row, Flow::Stop);
        }
    }
}

/// What a cell's attributes say, read as calamine's `get_datatype` reads them.
struct CellAttributes {
    /// A value or formula (then calamine stores the cell, and its repeats).
    has_value: bool,
    /// calamine reads the cell's text from its content.
    reads_content: bool,
    /// Bytes of text in the attributes calamine keeps: a string, date or time value, and
    /// the formula.
    text: u64,
}

impl CellAttributes {
    /// `None` where calamine fails on a malformed attribute.
    fn read(e: &BytesStart<'_>) -> Option<Self> {
        let mut value_set = false;
        let mut is_string = false;
        let mut is_error = false;
        let mut empty_string_value = false;
        let mut value_text = 0;
        let mut formula = 0;
        for attribute in RawAttributes::new(e.attributes_raw()) {
            let (key, value) = attribute.ok()?;
            match key {
                // A number that calamine fails to parse stops it; counting it is as safe.
                "office:value" | "office:boolean-value" if !value_set => value_set = true,
                "office:string-value" | "office:date-value" | "office:time-value" if !value_set => {
                    value_set = true;
                    value_text = value.len();
                    empty_string_value = key == "office:string-value" && value.is_empty();
                }
                "office:value-type" if !value_set => is_string = value == "string",
                "calcext:value-type" => is_error = value == "error",
                "table:formula" => formula = value.len(),
                _ => {}
            }
        }
        let reads_content = (!value_set && is_string) || (is_error && empty_string_value);
        Some(Self {
            has_value: value_set || reads_content || formula > 0,
            reads_content,
            text: (value_text + formula) as u64,
        })
    }
}

/// The length of the text calamine builds from a string cell's content, up to the cell's
/// end tag: the text itself, a character per entity (at most 4 bytes), paragraph break,
/// tab and line break, and `text:c` spaces for each `<text:s>`.
fn read_text<R: BufRead>(reader: &mut Reader<R>, buf: &mut Vec<u8>) -> (u64, Flow) {
    let mut len = 0u64;
    loop {
        buf.clear();
        let add = match reader.read_event_into(buf) {
            Ok(Event::Text(text)) => text.len() as u64,
            Ok(Event::GeneralRef(_)) => 4,
            Ok(Event::End(e)) if e.name() == QName(CELL) || e.name() == QName(COVERED_CELL) => {
                return (len, Flow::Go);
            }
            Ok(Event::Start(e)) if e.name() == QName("office:annotation") => loop {
                // calamine skips a comment up to its end tag, and loops forever without one.
                buf.clear();
                match reader.read_event_into(buf) {
                    Ok(Event::End(e)) if e.name() == QName("office:annotation") => break 0,
                    Ok(Event::Eof) => return (len, Flow::Hangs),
                    Err(_) => return (len, Flow::Stop),
                    Ok(_) => {}
                }
            },
            Ok(Event::Start(e)) if e.name() == QName("text:s") => {
                // calamine parses the count as an i32.
                match raw_attr(&e, "text:c") {
                    Ok(None) => 1,
                    Ok(Some(n)) => match unescape(n).ok().and_then(|n| n.parse::<i32>().ok()) {
                        Some(n) => u64::try_from(n).unwrap_or(0),
                        None => return (len, Flow::Stop),
                    },
                    Err(()) => return (len, Flow::Stop),
                }
            }
            Ok(Event::Start(e))
                if ["text:p", "text:tab", "text:line-break"].contains(&e.name().as_ref()) =>
            {
                1
            }
            Ok(Event::Eof) | Err(_) => return (len, Flow::Stop),
            Ok(_) => 0,
        };
        len = len.saturating_add(add);
    }
}

/// The value of attribute `key`, as calamine's `raw_attr` finds it: `Err` if a malformed
/// attribute comes first.
fn raw_attr<'a>(e: &'a BytesStart<'_>, key: &str) -> Result<Option<&'a str>, ()> {
    for attribute in RawAttributes::new(e.attributes_raw()) {
        let (k, v) = attribute?;
        if k == key {
            return Ok(Some(v));
        }
    }
    Ok(None)
}

/// An element's attributes as calamine's `RawAttrIter` reads them: raw `(key, value)`
/// pairs, or `Err` for a key without `=` or a value without quotes.
struct RawAttributes<'a> {
    raw: &'a str,
    pos: usize,
}

impl<'a> RawAttributes<'a> {
    fn new(raw: &'a str) -> Self {
        Self { raw, pos: 0 }
    }
}

impl<'a> Iterator for RawAttributes<'a> {
    type Item = Result<(&'a str, &'a str), ()>;

    fn next(&mut self) -> Option<Self::Item> {
        let bytes = self.raw.as_bytes();
        let skip_space = |mut pos: usize| {
            while bytes.get(pos).is_some_and(u8::is_ascii_whitespace) {
                pos += 1;
            }
            pos
        };
        let start = skip_space(self.pos);
        if start >= bytes.len() {
            self.pos = start;
            return None;
        }
        self.pos = bytes.len();
        let Some(eq) = bytes[start..].iter().position(|&b| b == b'=') else {
            return Some(Err(()));
        };
        let eq = start + eq;
        let key = self.raw[start..eq].trim_ascii_end();
        let open = skip_space(eq + 1);
        let quote = match bytes.get(open) {
            Some(&q @ (b'"' | b'\'')) => q,
            _ => return Some(Err(())),
        };
        let end = bytes[open + 1..]
            .iter()
            .position(|&b| b == quote)
            .map_or(bytes.len(), |at| open + 1 + at);
        self.pos = (end + 1).min(bytes.len());
        Some(Ok((key, &self.raw[open + 1..end])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn scan(tables: &str, cells: u64, text: u64) -> Result<()> {
        let xml = format!(
            "<?xml version=\"1.0\"?><office:document-content><office:body><office:spreadsheet>\
             {tables}</office:spreadsheet></office:body></office:document-content>"
        );
        check_content(
            &mut xml_reader(xml.as_bytes()),
            &mut Budget::new(cells, text, 100),
        )
    }

    fn table(rows: &str) -> String {
        format!("<table:table table:name=\"T\">{rows}</table:table>")
    }

    fn row(repeat: u64, cells: &str) -> String {
        format!(
            "<table:table-row table:number-rows-repeated=\"{repeat}\">{cells}</table:table-row>"
        )
    }

    fn cell(repeat: u64, attrs: &str) -> String {
        format!("<table:table-cell table:number-columns-repeated=\"{repeat}\" {attrs}/>")
    }

    const FLOAT: &str = "office:value-type=\"float\" office:value=\"1\"";

    #[test]
    fn repeated_values_count_and_empty_cells_do_not() {
        // 3 empty cells stored before the value; the empty ones after it and the empty
        // rows below are never stored.
        let rows = row(1, &[cell(3, ""), cell(1, FLOAT), cell(1000, "")].concat())
            + &row(1_048_000, &cell(16_384, ""));
        assert!(scan(&table(&rows), 4, 0).is_ok());
        let rows = row(1000, &cell(50, FLOAT));
        assert!(scan(&table(&rows), 50_000, 0).is_ok());
        let err = scan(&table(&rows), 49_999, 0).unwrap_err();
        assert!(err.message().contains("1000 rows × 50 columns"), "{err}");
        // Empty rows between values count, with their repeats.
        let rows = row(1, &cell(1, FLOAT)) + &row(500, "") + &row(1, &cell(1, FLOAT));
        let err = scan(&table(&rows), 501, 0).unwrap_err();
        assert!(err.message().contains("502 rows × 1 columns"), "{err}");
    }

    #[test]
    fn rows_past_the_row_cap_still_store_their_cells() {
        let rows = row(1_048_576, &cell(1, "")) + &row(10, &cell(16_384, FLOAT)).repeat(10);
        let err = scan(&table(&rows), 100_000, 0).unwrap_err();
        assert!(err.message().contains("stores 163840 cells"), "{err}");
        // A cell's repeats stop at 16,384 columns.
        let rows = row(1, &[cell(10_000, FLOAT), cell(10_000, FLOAT)].concat());
        assert!(scan(&table(&rows), 16_384, 0).is_ok());
    }

    #[test]
    fn tables_count_together() {
        let t = table(&row(10, &cell(10, FLOAT)));
        assert!(scan(&t.repeat(3), 300, 0).is_ok());
        let err = scan(&t.repeat(3), 299, 0).unwrap_err();
        assert!(err.message().contains("300 cells together"), "{err}");
    }

    #[test]
    fn text_counts_once_repeats_and_spaces_are_expanded() {
        let string = "<table:table-cell table:number-columns-repeated=\"3\" \
                      office:value-type=\"string\"><text:p>ab<text:s text:c=\"1000\"/>\
                      <text:s text:c=\"-5\"/><text:s/></text:p></table:table-cell>";
        // Per cell: the paragraph, "ab", 1,000 + 0 + 1 spaces; 3 columns; 1 + 9 copies.
        let rows = row(9, string);
        assert!(scan(&table(&rows), 100, 30_120).is_ok());
        let err = scan(&table(&rows), 100, 30_119).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::LimitExceeded);
        assert!(err.message().contains("max_decoded_size"), "{err}");
        // Attribute values and formulas count too.
        let cells = cell(
            2,
            "office:value-type=\"string\" office:string-value=\"abcd\" table:formula=\"of:=1\"",
        );
        assert!(scan(&table(&row(1, &cells)), 100, 36).is_ok());
        assert!(scan(&table(&row(1, &cells)), 100, 35).is_err());
    }

    #[test]
    fn a_document_ending_inside_a_table_is_refused() {
        let open =
            "<table:table table:name=\"T\"><table:table-row><table:table-cell/></table:table-row>";
        let xml = format!("<office:document-content>{open}");
        let err =
            check_content(&mut xml_reader(xml.as_bytes()), &mut Budget::new(9, 9, 9)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode);
        assert!(err.message().contains("ends inside sheet \"T\""), "{err}");
        let annotated = "<table:table table:name=\"T\"><table:table-row><table:table-cell \
                         office:value-type=\"string\"><office:annotation><text:p>x";
        let xml = format!("<office:document-content>{annotated}");
        assert!(check_content(&mut xml_reader(xml.as_bytes()), &mut Budget::new(9, 9, 9)).is_err());
    }

    #[test]
    fn where_calamine_fails_the_scan_stops_having_counted_what_came_before() {
        // Text between cells is an error to calamine: nothing after it is built.
        let bomb = row(1000, &cell(1000, FLOAT));
        let broken = format!(
            "{}<table:table-row> </table:table-row>{bomb}",
            row(1, &cell(1, FLOAT))
        );
        assert!(scan(&table(&broken), 10, 0).is_ok());
        let broken = format!("{bomb}<table:table-row> </table:table-row>");
        assert!(scan(&table(&broken), 10, 0).is_err());
    }

    #[test]
    fn attributes_are_read_as_calamine_reads_them() {
        let attrs: Vec<_> = RawAttributes::new(" a=\"1\" b = '2'  c=\"x\"").collect();
        assert_eq!(attrs, [Ok(("a", "1")), Ok(("b", "2")), Ok(("c", "x"))]);
        // A key runs to the next `=`, spaces and all, as in calamine.
        let attrs: Vec<_> = RawAttributes::new("a=\"1\" b c=\"3\" d").collect();
        assert_eq!(attrs, [Ok(("a", "1")), Ok(("b c", "3")), Err(())]);
        let attrs: Vec<_> = RawAttributes::new("a=1").collect();
        assert_eq!(attrs, [Err(())]);
    }
}
