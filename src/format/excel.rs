//! `.xlsx`: Excel workbooks. Reads the first sheet with calamine; writes one sheet "Sheet1"
//! with rust_xlsxwriter.
//!
//! Reading streams the sheet's cells instead of asking calamine for the sheet's declared
//! range, so a tiny file that declares a huge sheet cannot make s3io allocate for it; the
//! frame is built from the cells actually present, up to [`MAX_CELLS`].

use std::io::Cursor;

use bytes::Bytes;
use calamine::{CellErrorType, DataRef, Reader, Xlsx};
use polars::prelude::DataFrame;
use rust_xlsxwriter::{Format as CellFormat, Workbook, Worksheet, XlsxError};

use super::table::{Cell, FrameBuilder, FrameCells, MICROS_PER_DAY, days_from_civil, iso_date};
use super::{Codec, cannot_encode, decode_error, encode_error};
use crate::data::Data;
use crate::error::{Error, ErrorKind, Result};

/// The most cells (rows × columns of the used area) a sheet may span.
pub(crate) const MAX_CELLS: u64 = 50_000_000;

/// Days between Excel's 1900 epoch (serial 0 = 1899-12-30) and 1970-01-01.
const EXCEL_EPOCH_OFFSET: i32 = 25_569;

/// The largest integer Excel's doubles store exactly; larger ones are written as text.
const MAX_EXACT_INT: i64 = 1 << 53;

pub(crate) struct Excel;

impl Codec for Excel {
    fn name(&self) -> &'static str {
        "xlsx"
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["xlsx"]
    }

    fn content_type(&self) -> &'static str {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    }

    fn decode(&self, bytes: Bytes) -> Result<Data> {
        self.decode_frame(bytes).map(Data::Frame)
    }

    fn decode_frame(&self, bytes: Bytes) -> Result<DataFrame> {
        let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes))
            .map_err(|e| decode_error("not a valid xlsx workbook", e))?;
        let first = workbook
            .sheet_names()
            .into_iter()
            .next()
            .ok_or_else(|| Error::new(ErrorKind::Decode, "the workbook has no sheets"))?;
        let sheet = read_sheet(&mut workbook, &first)?;
        sheet_to_frame(sheet)
            .map_err(|m| Error::new(ErrorKind::Decode, format!("sheet {first:?}: {m}")))
    }

    fn encode(&self, data: &Data) -> Result<Vec<u8>> {
        let Data::Frame(df) = data else {
            return Err(cannot_encode(data, "xlsx", "a frame"));
        };
        let cells = FrameCells::new(df).map_err(|m| Error::new(ErrorKind::Unsupported, m))?;
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        write_sheet(sheet, &cells).map_err(|e| encode_error("cannot write the xlsx sheet", e))?;
        workbook
            .save_to_buffer()
            .map_err(|e| encode_error("cannot write the xlsx workbook", e))
    }
}

/// The non-empty cells of a sheet, with their positions.
struct SheetCells {
    cells: Vec<(u32, u32, Cell<'static>)>,
    rows: (u32, u32),
    cols: (u32, u32),
}

fn read_sheet(workbook: &mut Xlsx<Cursor<Bytes>>, name: &str) -> Result<SheetCells> {
    let bad_sheet = |e| decode_error(&format!("cannot read sheet {name:?}"), e);
    let mut reader = workbook.worksheet_cells_reader(name).map_err(bad_sheet)?;
    let mut sheet = SheetCells {
        cells: Vec::new(),
        rows: (u32::MAX, 0),
        cols: (u32::MAX, 0),
    };
    while let Some(cell) = reader.next_cell().map_err(bad_sheet)? {
        let value = excel_cell(cell.get_value());
        if value == Cell::Null {
            continue;
        }
        let (row, col) = cell.get_position();
        sheet.rows = (sheet.rows.0.min(row), sheet.rows.1.max(row));
        sheet.cols = (sheet.cols.0.min(col), sheet.cols.1.max(col));
        sheet.cells.push((row, col, value));
    }
    Ok(sheet)
}

/// The frame of a sheet: the first used row is the header, the rest are values.
fn sheet_to_frame(sheet: SheetCells) -> Result<DataFrame, String> {
    if sheet.cells.is_empty() {
        return Ok(DataFrame::empty());
    }
    let (top, bottom) = sheet.rows;
    let (left, right) = sheet.cols;
    let height = u64::from(bottom - top);
    let width = u64::from(right - left) + 1;
    if (height + 1) * width > MAX_CELLS {
        return Err(format!(
            "its cells span {} rows × {width} columns, more than the {MAX_CELLS} cells s3io reads",
            height + 1
        ));
    }
    let mut headers: Vec<Option<String>> = vec![None; width as usize];
    let mut columns: Vec<Vec<Cell<'static>>> =
        vec![vec![Cell::Null; height as usize]; width as usize];
    for (row, col, value) in sheet.cells {
        let col = (col - left) as usize;
        if row == top {
            headers[col] = Some(header_text(value));
        } else {
            columns[col][(row - top - 1) as usize] = value;
        }
    }
    let mut builder = FrameBuilder::default();
    let mut used: Vec<String> = Vec::new();
    for (i, (header, cells)) in headers.into_iter().zip(columns).enumerate() {
        let name = unique_name(header.unwrap_or_else(|| format!("Unnamed: {i}")), &used);
        builder.push(&name, cells)?;
        used.push(name);
    }
    builder.finish()
}

/// A header cell's text: pandas uses numbers and dates in the header row as names too.
fn header_text(cell: Cell<'_>) -> String {
    match cell {
        Cell::Str(s) => s.into_owned(),
        Cell::Int(i) => i.to_string(),
        Cell::Float(f) => f.to_string(),
        Cell::Bool(b) => if b { "True" } else { "False" }.to_owned(),
        Cell::Date(d) => iso_date(d),
        Cell::Datetime(us) => super::table::iso_datetime(us),
        Cell::Null => String::new(),
    }
}

/// `name`, or `name.1`, `name.2`, ... if taken, as pandas renames duplicate headers.
fn unique_name(name: String, used: &[String]) -> String {
    if !used.contains(&name) {
        return name;
    }
    (1..)
        .map(|n| format!("{name}.{n}"))
        .find(|candidate| !used.contains(candidate))
        .unwrap_or(name)
}

/// A calamine cell as a table cell. Whole numbers become integers, as pandas reads them;
/// `#N/A` is a null, other errors keep their text.
fn excel_cell(value: &DataRef<'_>) -> Cell<'static> {
    match value {
        DataRef::Empty => Cell::Null,
        DataRef::Int(i) => Cell::Int(*i),
        DataRef::Float(f) => {
            if f.fract() == 0.0 && f.abs() < MAX_EXACT_INT as f64 {
                Cell::Int(*f as i64)
            } else {
                Cell::Float(*f)
            }
        }
        DataRef::String(s) => Cell::Str(s.clone().into()),
        DataRef::SharedString(s) => Cell::Str(s.to_string().into()),
        DataRef::Bool(b) => Cell::Bool(*b),
        DataRef::DateTime(dt) if dt.is_duration() => Cell::Float(dt.as_f64()),
        DataRef::DateTime(dt) => {
            let (y, mo, d, h, mi, s, ms) = dt.to_ymd_hms_milli();
            let days = days_from_civil(i32::from(y), u32::from(mo), u32::from(d));
            let micros_of_day = ((i64::from(h) * 60 + i64::from(mi)) * 60 + i64::from(s))
                * 1_000_000
                + i64::from(ms) * 1000;
            if micros_of_day == 0 {
                Cell::Date(days)
            } else {
                Cell::Datetime(i64::from(days) * MICROS_PER_DAY + micros_of_day)
            }
        }
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => Cell::Str(s.clone().into()),
        DataRef::Error(CellErrorType::NA) => Cell::Null,
        DataRef::Error(e) => Cell::Str(e.to_string().into()),
    }
}

/// Writes a header row in bold, then the cells; dates are numbers with a date format, as
/// Excel stores them.
fn write_sheet(sheet: &mut Worksheet, cells: &FrameCells) -> Result<(), XlsxError> {
    sheet.set_name("Sheet1")?;
    let bold = CellFormat::new().set_bold();
    let date = CellFormat::new().set_num_format("yyyy-mm-dd");
    let datetime = CellFormat::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    for (col, name) in cells.names().iter().enumerate() {
        let col = column_index(col)?;
        sheet.write_string_with_format(0, col, name, &bold)?;
        for row in 0..cells.height() {
            let at = u32::try_from(row + 1).map_err(|_| XlsxError::RowColumnLimitError)?;
            match cells.get(col.into(), row) {
                Cell::Null => {}
                Cell::Bool(b) => {
                    sheet.write_boolean(at, col, b)?;
                }
                Cell::Int(i) if i.abs() <= MAX_EXACT_INT => {
                    sheet.write_number(at, col, i as f64)?;
                }
                Cell::Int(i) => {
                    sheet.write_string(at, col, i.to_string())?;
                }
                Cell::Float(f) if f.is_nan() => {}
                Cell::Float(f) if f.is_infinite() => {
                    // pandas' to_excel writes infinities as the text inf / -inf.
                    sheet.write_string(at, col, if f > 0.0 { "inf" } else { "-inf" })?;
                }
                Cell::Float(f) => {
                    sheet.write_number(at, col, f)?;
                }
                Cell::Str(s) => {
                    sheet.write_string(at, col, s.as_ref())?;
                }
                Cell::Date(d) => match excel_serial(i64::from(d) * MICROS_PER_DAY) {
                    Some(serial) => {
                        sheet.write_number_with_format(at, col, serial, &date)?;
                    }
                    None => {
                        sheet.write_string(at, col, iso_date(d))?;
                    }
                },
                Cell::Datetime(us) => match excel_serial(us) {
                    Some(serial) => {
                        sheet.write_number_with_format(at, col, serial, &datetime)?;
                    }
                    None => {
                        sheet.write_string(at, col, super::table::iso_datetime(us))?;
                    }
                },
            }
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

fn column_index(col: usize) -> Result<u16, XlsxError> {
    u16::try_from(col).map_err(|_| XlsxError::RowColumnLimitError)
}

/// The Excel serial number (1900 date system) of a moment, or `None` before 1900-03-01,
/// where Excel's calendar is off by its phantom 1900-02-29, or past 9999.
fn excel_serial(micros: i64) -> Option<f64> {
    let serial = micros as f64 / MICROS_PER_DAY as f64 + f64::from(EXCEL_EPOCH_OFFSET);
    (61.0..2_958_466.0).contains(&serial).then_some(serial)
}
