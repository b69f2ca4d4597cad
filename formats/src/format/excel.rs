//! Workbooks: `.xlsx`, `.xlsm`, `.xlsb`, `.xls` and `.ods`, read with calamine (whatever
//! the extension says, the file's own signature picks the reader); `.xlsx` written with
//! rust_xlsxwriter, one sheet per frame.
//!
//! Reading `.xlsx` and `.xlsb` streams the sheet's cells instead of asking calamine for the
//! sheet's declared range, so a tiny file that declares a huge sheet cannot make s3io
//! allocate for it; the frame is built from the cells actually present, up to
//! [`Limits::max_sheet_cells`](crate::Limits::max_sheet_cells). calamine reads `.xls` and
//! `.ods` workbooks whole as it opens them, every sheet into a dense grid over its cells, so
//! before it sees one, `xls_scan` and `ods_scan` walk the file as calamine will and refuse
//! one that would make it allocate past the limits (the cells of each sheet and of all
//! sheets, the text copied into cells) or never finish; `budget` does the counting. calamine
//! also parses every `.xls` formula as it opens the workbook, in time quadratic in the
//! formula's length; s3io reads only the cached values, so `xls_formulas` first sets each
//! formula's length to 0 in a copy of the file, and the scan and calamine read that copy.
//! calamine 0.38 skips some `.xlsb` cell records (the short forms SheetJS writes, formula
//! cells holding an error, rich-text cells); `xlsb_fix` rewrites them first, so no cell is
//! lost.
//!
//! Writing keeps dtypes: numbers as numbers, booleans as booleans, dates and datetimes as
//! Excel dates with a date format. The header row is bold and frozen and the columns are
//! fitted to their contents, each optional through [`WriteOptions`](crate::WriteOptions).
//!
//! `polars_excel_writer` was considered for writing: its 0.27 release fits polars 0.55 but
//! pins rust_xlsxwriter 0.98 (s3io uses 0.102, so two copies would be built) and pulls in
//! chrono and polars' `temporal` feature. The writer below is small and shares its cell
//! rules with JSON and pickle through [`FrameCells`].

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{Cursor, Read};

use bytes::Bytes;
use calamine::{
    CellErrorType, Data as CalData, DataRef, Reader, SheetType, Sheets as Workbook,
    open_workbook_auto_from_rs,
};
use polars::prelude::DataFrame;
use rust_xlsxwriter::{Format as CellFormat, Workbook as XlsxBook, Worksheet, XlsxError};

use super::codec::{Codec, cannot_encode, decode_error, encode_error, unless_it_panics};
use super::table::{
    Cell, FrameBuilder, FrameCells, MICROS_PER_DAY, days_from_civil, in_asked_order, iso_date,
};
use crate::data::Data;
use crate::error::{Error, ErrorKind, Result};
use crate::limits::{CELL_BYTES, exceeded};
use crate::settings::{ReadSettings, SheetRef, Sheets, WriteSettings};

mod budget;
mod ods_scan;
mod xls_formulas;
mod xls_scan;
mod xlsb_fix;

/// Days between Excel's 1900 epoch (serial 0 = 1899-12-30) and 1970-01-01.
const EXCEL_EPOCH_OFFSET: i32 = 25_569;

/// The largest integer Excel's doubles store exactly; larger ones are written as text.
const MAX_EXACT_INT: i64 = 1 << 53;

/// A workbook format. All are read the same way; only `.xlsx` is written.
pub(crate) struct Spreadsheet {
    name: &'static str,
    extensions: &'static [&'static str],
    content_type: &'static str,
    writes: bool,
}

/// Office Open XML workbooks, the one format s3io writes.
pub(crate) static XLSX: Spreadsheet = Spreadsheet {
    name: "xlsx",
    extensions: &["xlsx"],
    content_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    writes: true,
};

/// Macro-enabled workbooks; the macros are never run, nor kept.
pub(crate) static XLSM: Spreadsheet = Spreadsheet {
    name: "xlsm",
    extensions: &["xlsm"],
    content_type: "application/vnd.ms-excel.sheet.macroenabled.12",
    writes: false,
};

/// Excel's binary workbooks.
pub(crate) static XLSB: Spreadsheet = Spreadsheet {
    name: "xlsb",
    extensions: &["xlsb"],
    content_type: "application/vnd.ms-excel.sheet.binary.macroenabled.12",
    writes: false,
};

/// Excel 97–2003 workbooks (BIFF8).
pub(crate) static XLS: Spreadsheet = Spreadsheet {
    name: "xls",
    extensions: &["xls"],
    content_type: "application/vnd.ms-excel",
    writes: false,
};

/// OpenDocument spreadsheets, LibreOffice's own format.
pub(crate) static ODS: Spreadsheet = Spreadsheet {
    name: "ods",
    extensions: &["ods"],
    content_type: "application/vnd.oasis.opendocument.spreadsheet",
    writes: false,
};

impl Codec for Spreadsheet {
    fn name(&self) -> &'static str {
        self.name
    }

    fn extensions(&self) -> &'static [&'static str] {
        self.extensions
    }

    fn content_type(&self) -> &'static str {
        self.content_type
    }

    fn decode(&self, bytes: Bytes, options: &ReadSettings) -> Result<Data> {
        self.decode_frame(bytes, options).map(Data::Frame)
    }

    /// The sheet the options name, else the first worksheet.
    fn decode_frame(&self, bytes: Bytes, options: &ReadSettings) -> Result<DataFrame> {
        let mut workbook = open(bytes, options)?;
        let names = worksheet_names(&workbook);
        let name = match &options.sheet {
            None => names.first(),
            Some(SheetRef::Name(wanted)) => names.iter().find(|n| *n == wanted),
            Some(SheetRef::Index(i)) => names.get(*i),
        };
        let Some(name) = name else {
            return Err(Error::new(
                ErrorKind::NotFound,
                match &options.sheet {
                    None => "the workbook has no worksheets".to_owned(),
                    Some(wanted) => format!("no sheet {wanted:?}; the sheets are {names:?}"),
                },
            ));
        };
        read_frame(&mut workbook, name, options)
    }

    fn decode_sheets(&self, bytes: Bytes, options: &ReadSettings) -> Result<Sheets> {
        let mut workbook = open(bytes, options)?;
        worksheet_names(&workbook)
            .into_iter()
            .map(|name| {
                let df = read_frame(&mut workbook, &name, options)?;
                Ok((name, df))
            })
            .collect()
    }

    fn encode(&self, data: &Data, options: &WriteSettings) -> Result<Vec<u8>> {
        let Data::Frame(df) = data else {
            return Err(cannot_encode(data, self.name, "a frame"));
        };
        let name = options.sheet_name.as_deref().unwrap_or("Sheet1");
        self.encode_sheets(&[(name.to_owned(), df.clone())], options)
    }

    fn encode_sheets(
        &self,
        sheets: &[(String, DataFrame)],
        options: &WriteSettings,
    ) -> Result<Vec<u8>> {
        if !self.writes {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "s3io reads {} workbooks but writes only .xlsx; use an .xlsx key",
                    self.name
                ),
            ));
        }
        // In low-memory mode rust_xlsxwriter panics where it cannot write its temporary
        // file (a full disk): that becomes an error naming the directory.
        unless_it_panics(|| {
            let mut workbook = XlsxBook::new();
            for (name, df) in sheets {
                let cells = FrameCells::new(df).map_err(|m| {
                    Error::new(ErrorKind::Unsupported, format!("sheet {name:?}: {m}"))
                })?;
                // rust_xlsxwriter's low-memory mode sends each finished row to a temporary file
                // and keeps only the shared strings, where its standard mode keeps every cell
                // in a map until the end (about 170 bytes a cell). The file is the same. Where
                // no temporary file can be made, the sheet is kept in memory.
                if workbook.add_worksheet_with_low_memory().is_err() {
                    workbook.add_worksheet();
                }
                let sheet = workbook.worksheets_mut().last_mut().ok_or_else(|| {
                    Error::new(ErrorKind::Encode, "rust_xlsxwriter added no worksheet")
                })?;
                write_sheet(sheet, name, &cells, options).map_err(|e| {
                    encode_error(&format!("cannot write the xlsx sheet {name:?}"), e)
                })?;
            }
            workbook
                .save_to_buffer()
                .map_err(|e| encode_error("cannot write the xlsx workbook", e))
        })
        .unwrap_or_else(|panic| {
            Err(Error::new(
                ErrorKind::Encode,
                format!(
                    "cannot write the xlsx workbook: rust_xlsxwriter failed ({panic}) writing \
                     rows to its temporary file in {:?}; is that directory full? TMPDIR sets it",
                    std::env::temp_dir()
                ),
            ))
        })
    }
}

/// Opens a workbook, after checking that its zip entries (xlsx, xlsm, xlsb, ods) inflate
/// within the decompression limit, and that what calamine builds on opening an `.xls` or
/// `.ods` workbook, which it reads whole, stays within the limits. An `.xlsb` whose
/// worksheets hold records calamine would skip is reopened with them rewritten (see
/// `xlsb_fix`).
fn open(bytes: Bytes, options: &ReadSettings) -> Result<Workbook<Cursor<Bytes>>> {
    let limit = options.limits.decompression_limit(bytes.len());
    check_zip(&bytes, limit)?;
    // calamine parses every formula of an `.xls` as it opens it, in quadratic time; s3io
    // reads only the cached values, so the formulas are blanked first (see `xls_formulas`),
    // and the scan below reads the bytes calamine will.
    let bytes = match xls_formulas::without_formulas(&bytes)? {
        Some(blanked) => Bytes::from(blanked),
        None => bytes,
    };
    let mut budget = budget::Budget::new(
        options.limits.sheet_cells(),
        options.output_remaining(),
        bytes.len(),
    );
    xls_scan::check(&bytes, &mut budget)?;
    ods_scan::check(&bytes, &mut budget)?;
    options.charge_output(budget.produced(), || {
        "the cells calamine builds as it opens the workbook".into()
    })?;
    let open = |bytes: Bytes| {
        open_workbook_auto_from_rs(Cursor::new(bytes))
            .map_err(|e| decode_error("not a valid workbook (xlsx, xlsm, xlsb, xls or ods)", e))
    };
    let workbook = open(bytes.clone())?;
    if !matches!(workbook, Workbook::Xlsb(_)) {
        return Ok(workbook);
    }
    // calamine 0.38 skips the short cell records SheetJS writes, formula cells holding an
    // error and rich-text cells; xlsb_fix rewrites them into records it reads. Most of
    // Excel's files have none and are not touched.
    match xlsb_fix::with_full_cell_records(&bytes, limit)? {
        Some(rewritten) => open(Bytes::from(rewritten)),
        None => Ok(workbook),
    }
}

/// An error if the zip archive in `bytes` declares, or actually inflates to, more than
/// `limit` bytes in all. The entries are inflated into nothing to measure them, since a zip
/// header may lie about the size. Bytes that are not a readable zip are left to calamine.
fn check_zip(bytes: &[u8], limit: u64) -> Result<()> {
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Ok(());
    };
    let too_much = |what: String| {
        exceeded(
            "max_decompressed_size",
            format!(
                "the workbook's zip entries {what}, more than the {limit}-byte decompression \
                 limit for this {}-byte object",
                bytes.len()
            ),
        )
    };
    let declared = (0..archive.len())
        .filter_map(|i| archive.by_index_raw(i).ok().map(|entry| entry.size()))
        .fold(0u64, u64::saturating_add);
    if declared > limit {
        return Err(too_much(format!("declare {declared} bytes")));
    }
    let mut inflated = 0u64;
    for i in 0..archive.len() {
        let Ok(entry) = archive.by_index(i) else {
            return Ok(());
        };
        let budget = limit - inflated;
        match std::io::copy(&mut entry.take(budget + 1), &mut std::io::sink()) {
            Ok(n) if n > budget => {
                return Err(too_much(format!("inflate past {limit} bytes")));
            }
            Ok(n) => inflated += n,
            Err(_) => return Ok(()),
        }
    }
    Ok(())
}

/// The names of the worksheets, in the workbook's order; chart sheets have no cells.
fn worksheet_names(workbook: &Workbook<Cursor<Bytes>>) -> Vec<String> {
    workbook
        .sheets_metadata()
        .iter()
        .filter(|sheet| sheet.typ == SheetType::WorkSheet)
        .map(|sheet| sheet.name.clone())
        .collect()
}

fn read_frame(
    workbook: &mut Workbook<Cursor<Bytes>>,
    name: &str,
    options: &ReadSettings,
) -> Result<DataFrame> {
    let sheet = read_sheet(workbook, name, options)?;
    sheet_to_frame(sheet, name, options)
}

/// The non-empty cells of a sheet, by column, each with its row. A column's cells are
/// laid out and built into a frame column one column at a time, so the whole sheet is never
/// held twice. Text from the workbook's shared strings is borrowed from calamine (`'w`),
/// not copied.
struct SheetCells<'o, 'w> {
    name: &'o str,
    /// The cells of each column that has any, in the order they came (rows ascending in
    /// every file s3io has met; the layout does not rely on it).
    columns: BTreeMap<u32, Vec<(u32, Cell<'w>)>>,
    rows: (u32, u32),
    /// The call's options, whose output budget each cell is charged to.
    options: &'o ReadSettings,
    /// Bytes of cells kept but not charged yet: charges go in batches of [`CHARGE_BATCH`].
    unpaid: u64,
    /// Cells kept, for the budget's message.
    kept: u64,
}

/// How many bytes of cells [`SheetCells`] keeps before it charges them to the budget.
const CHARGE_BATCH: u64 = 1 << 20;

impl<'w> SheetCells<'_, 'w> {
    /// Keeps a non-empty cell. Each cell is charged to the output budget, in batches, with
    /// its text as if copied (the frame will copy it, even where the workbook shares one
    /// string among many cells, so a small file can ask for gigabytes), before the batch
    /// grows past it.
    fn push(&mut self, (row, col): (u32, u32), value: Cell<'w>) -> Result<()> {
        if value == Cell::Null {
            return Ok(());
        }
        let text = match &value {
            Cell::Str(s) => s.len() as u64,
            _ => 0,
        };
        self.unpaid += CELL_BYTES + 8 + text;
        if self.unpaid >= CHARGE_BATCH {
            self.pay()?;
        }
        self.rows = (self.rows.0.min(row), self.rows.1.max(row));
        self.columns.entry(col).or_default().push((row, value));
        self.kept += 1;
        Ok(())
    }

    /// Charges the cells kept since the last charge.
    fn pay(&mut self) -> Result<()> {
        let unpaid = std::mem::take(&mut self.unpaid);
        let (name, cells) = (self.name, self.kept);
        self.options.charge_output(unpaid, || {
            format!("sheet {name:?} at its {cells}th cell, each cell with a copy of its text")
        })
    }
}

fn read_sheet<'o, 'w>(
    workbook: &'w mut Workbook<Cursor<Bytes>>,
    name: &'o str,
    options: &'o ReadSettings,
) -> Result<SheetCells<'o, 'w>> {
    let bad_sheet = |e| decode_error(&format!("cannot read sheet {name:?}"), e);
    let mut sheet = SheetCells {
        name,
        columns: BTreeMap::new(),
        rows: (u32::MAX, 0),
        options,
        unpaid: 0,
        kept: 0,
    };
    // Each reader yields cells with a different lifetime and error type; one macro body
    // keeps the loop in one place.
    macro_rules! stream {
        ($reader:expr, $err:expr) => {{
            let mut reader = $reader.map_err($err)?;
            while let Some(cell) = reader.next_cell().map_err($err)? {
                sheet.push(cell.get_position(), excel_cell(cell.get_value()))?;
            }
        }};
    }
    match workbook {
        Workbook::Xlsx(book) => stream!(book.worksheet_cells_reader(name), |e| bad_sheet(
            calamine::Error::Xlsx(e)
        )),
        // `open` has rewritten the short cell records (BrtShort*, no column index) that
        // SheetJS writes, and BrtFmlaError, which calamine 0.38 would skip; see xlsb_fix.
        Workbook::Xlsb(book) => stream!(book.worksheet_cells_reader(name), |e| bad_sheet(
            calamine::Error::Xlsb(e)
        )),
        Workbook::Xls(_) | Workbook::Ods(_) => {
            let range = workbook.worksheet_range(name).map_err(bad_sheet)?;
            let (top, left) = range.start().unwrap_or((0, 0));
            for (row, col, value) in range.used_cells() {
                let at = (top + row as u32, left + col as u32);
                sheet.push(at, owned(excel_cell(&data_ref(value))))?;
            }
        }
    }
    sheet.pay()?;
    Ok(sheet)
}

/// A cell that borrows nothing.
fn owned(cell: Cell<'_>) -> Cell<'static> {
    match cell {
        Cell::Str(s) => Cell::Str(Cow::Owned(s.into_owned())),
        Cell::Null => Cell::Null,
        Cell::Bool(b) => Cell::Bool(b),
        Cell::Int(i) => Cell::Int(i),
        Cell::Float(f) => Cell::Float(f),
        Cell::Date(d) => Cell::Date(d),
        Cell::Datetime(us) => Cell::Datetime(us),
    }
}

/// An owned calamine value, as the borrowed kind the streaming readers give.
fn data_ref(value: &CalData) -> DataRef<'_> {
    match value {
        CalData::Int(i) => DataRef::Int(*i),
        CalData::Float(f) => DataRef::Float(*f),
        CalData::String(s) => DataRef::SharedString(s),
        CalData::Bool(b) => DataRef::Bool(*b),
        CalData::DateTime(dt) => DataRef::DateTime(*dt),
        CalData::DateTimeIso(s) => DataRef::DateTimeIso(s.clone()),
        CalData::DurationIso(s) => DataRef::DurationIso(s.clone()),
        CalData::Error(e) => DataRef::Error(e.clone()),
        CalData::Empty => DataRef::Empty,
    }
}

/// The frame of a sheet: the header row (by default the first used row), then after
/// `skip_rows` more, the values. Without a header, columns are `column_1`, `column_2`, ...
fn sheet_to_frame(
    mut sheet: SheetCells<'_, '_>,
    name: &str,
    options: &ReadSettings,
) -> Result<DataFrame> {
    let bad = |m: String| Error::new(ErrorKind::Decode, format!("sheet {name:?}: {m}"));
    let header = options.has_header.unwrap_or(true);
    let first = match options.header_row {
        Some(row) => u32::try_from(row).unwrap_or(u32::MAX),
        None => sheet.rows.0,
    };
    let skip = u32::try_from(options.skip_rows_after_header).unwrap_or(u32::MAX);
    let data_top = first.saturating_add(u32::from(header)).saturating_add(skip);
    // With n_rows, the rows past them are dropped before dtypes are inferred, as pandas'
    // `nrows` reads them.
    let rows_wanted = options
        .n_rows
        .map_or(u32::MAX, |n| u32::try_from(n).unwrap_or(u32::MAX));
    let data_end = data_top.saturating_add(rows_wanted);
    let wanted = |row: u32| row == first && header || (row >= data_top && row < data_end);
    sheet.columns.retain(|_, cells| {
        cells.retain(|&(row, _)| wanted(row));
        !cells.is_empty()
    });
    let (Some(&left), Some(&right)) = (sheet.columns.keys().next(), sheet.columns.keys().last())
    else {
        return Ok(DataFrame::empty());
    };
    sheet.rows.1 = sheet.rows.1.min(data_end.saturating_sub(1));
    // The header row may be empty; the data start at `data_top` either way.
    let top = data_top.min(sheet.rows.1.saturating_add(1));
    let bottom = sheet.rows.1.max(top.saturating_sub(1));
    let height = u64::from(bottom + 1 - top);
    let width = u64::from(right - left) + 1;
    check_cells(name, height + 1, width, options.limits.sheet_cells())?;
    options.charge_output(
        (height + 1)
            .saturating_mul(width)
            .saturating_mul(CELL_BYTES),
        || format!("sheet {name:?} laid out as {height} rows × {width} columns"),
    )?;
    let mut builder = FrameBuilder::default();
    let mut names = UniqueNames::default();
    for (i, col) in (left..=right).enumerate() {
        let mut column_name = None;
        let mut values = vec![Cell::Null; height as usize];
        for (row, value) in sheet.columns.remove(&col).unwrap_or_default() {
            if header && row == first {
                column_name = Some(header_text(value));
            } else {
                values[(row - top) as usize] = value;
            }
        }
        let column_name = match column_name {
            Some(column_name) => column_name,
            None if header => format!("Unnamed: {i}"),
            None => format!("column_{}", i + 1),
        };
        builder
            .push(&names.take(column_name), values)
            .map_err(bad)?;
    }
    in_asked_order(builder.finish().map_err(bad)?, options.columns.as_deref())
}

/// An error if a sheet of `rows` × `cols` passes the limit on cells.
fn check_cells(sheet: &str, rows: u64, cols: u64, limit: u64) -> Result<()> {
    if rows.saturating_mul(cols) > limit {
        return Err(exceeded(
            "max_sheet_cells",
            format!(
                "sheet {sheet:?} spans {rows} rows × {cols} columns, more than the {limit} cells \
                 allowed"
            ),
        ));
    }
    Ok(())
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

/// Column names made unique as pandas renames duplicate headers: `name`, or `name.1`,
/// `name.2`, ... if taken. In time linear in the names, since a header row may repeat one
/// value 16,384 times.
#[derive(Default)]
struct UniqueNames {
    used: HashSet<String>,
    /// For each name seen taken, the suffix to try next: every smaller one is taken.
    next: HashMap<String, usize>,
}

impl UniqueNames {
    fn take(&mut self, name: String) -> String {
        if self.used.insert(name.clone()) {
            return name;
        }
        let n = self.next.entry(name.clone()).or_insert(1);
        loop {
            let candidate = format!("{name}.{n}");
            *n += 1;
            if self.used.insert(candidate.clone()) {
                return candidate;
            }
        }
    }
}

/// A calamine cell as a table cell. Whole numbers become integers, as pandas reads them;
/// `#N/A` is a null, other errors keep their text.
fn excel_cell<'w>(value: &DataRef<'w>) -> Cell<'w> {
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
        // pandas reads empty text cells, which odfpy and some exporters write for missing
        // values, as missing.
        DataRef::String(s) if s.is_empty() => Cell::Null,
        DataRef::SharedString("") => Cell::Null,
        DataRef::String(s) => Cell::Str(s.clone().into()),
        DataRef::SharedString(s) => Cell::Str(Cow::Borrowed(s)),
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
        DataRef::DateTimeIso(s) => iso_cell(s).unwrap_or_else(|| Cell::Str(s.clone().into())),
        DataRef::DurationIso(s) => Cell::Str(s.clone().into()),
        DataRef::Error(CellErrorType::NA) => Cell::Null,
        DataRef::Error(e) => Cell::Str(e.to_string().into()),
    }
}

/// A date (`2024-01-15`) or naive datetime (`2024-01-15T13:45:30[.fff]`), as OpenDocument
/// stores them; `None` for anything else, which stays text.
fn iso_cell(text: &str) -> Option<Cell<'static>> {
    let (date, time) = match text.split_once('T') {
        Some((date, time)) => (date, Some(time)),
        None => (text, None),
    };
    let mut parts = date.splitn(3, '-').map(str::parse::<u32>);
    let (y, m, d) = (
        parts.next()?.ok()?,
        parts.next()?.ok()?,
        parts.next()?.ok()?,
    );
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || y > 9999 {
        return None;
    }
    let days = days_from_civil(i32::try_from(y).ok()?, m, d);
    let Some(time) = time else {
        return Some(Cell::Date(days));
    };
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let mut hms = hms.splitn(3, ':').map(str::parse::<i64>);
    let (h, mi, sec) = (hms.next()?.ok()?, hms.next()?.ok()?, hms.next()?.ok()?);
    if h > 23 || mi > 59 || sec > 60 || frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let micros: i64 = format!("{frac:0<6}")[..6].parse().ok()?;
    let micros = ((h * 60 + mi) * 60 + sec) * 1_000_000 + micros;
    Some(if micros == 0 {
        Cell::Date(days)
    } else {
        Cell::Datetime(i64::from(days) * MICROS_PER_DAY + micros)
    })
}

/// Writes a header row (bold unless turned off), then the cells row by row, as rust_xlsxwriter's
/// low-memory mode needs them; dates are numbers with a date format, as Excel stores them.
/// Columns are autofitted as rust_xlsxwriter's `autofit` would, from widths measured while
/// the cells are written (`autofit` itself sees only the last row in low-memory mode).
fn write_sheet(
    sheet: &mut Worksheet,
    name: &str,
    cells: &FrameCells,
    options: &WriteSettings,
) -> Result<(), XlsxError> {
    sheet.set_name(name)?;
    let bold = if options.bold_header.unwrap_or(true) {
        CellFormat::new().set_bold()
    } else {
        CellFormat::new()
    };
    let formats = DateFormats {
        date: CellFormat::new().set_num_format("yyyy-mm-dd"),
        datetime: CellFormat::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
    };
    let width = cells.names().len();
    column_index(width.saturating_sub(1))?;
    let mut widths = vec![0u32; width];
    for (col, name) in cells.names().iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, name, &bold)?;
        widths[col] = text_width(name);
    }
    let mut scratch = String::new();
    for row in 0..cells.height() {
        let at = u32::try_from(row + 1).map_err(|_| XlsxError::RowColumnLimitError)?;
        for (col, widest) in widths.iter_mut().enumerate() {
            let cell = cells.get(col, row);
            let fitted = write_cell(sheet, (at, col as u16), cell, &formats, &mut scratch)?;
            *widest = (*widest).max(fitted);
        }
    }
    if options.freeze_header.unwrap_or(true) {
        sheet.set_freeze_panes(1, 0)?;
    }
    if options.autofit.unwrap_or(true) {
        for (col, &widest) in widths.iter().enumerate() {
            if widest > 0 {
                sheet.set_column_autofit_width(col as u16, widest)?;
            }
        }
    }
    Ok(())
}

/// The number formats of date and datetime cells.
struct DateFormats {
    date: CellFormat,
    datetime: CellFormat,
}

/// Writes one cell and returns the width, in pixels, rust_xlsxwriter's `autofit` gives what
/// it wrote (0 for nothing). `scratch` is a buffer for formatting numbers.
fn write_cell(
    sheet: &mut Worksheet,
    (row, col): (u32, u16),
    cell: Cell<'_>,
    formats: &DateFormats,
    scratch: &mut String,
) -> Result<u32, XlsxError> {
    let mut number = |sheet: &mut Worksheet, n: f64, format: Option<&CellFormat>| {
        match format {
            Some(format) => sheet.write_number_with_format(row, col, n, format)?,
            None => sheet.write_number(row, col, n)?,
        };
        Ok::<_, XlsxError>(number_width(n, scratch))
    };
    let text = |sheet: &mut Worksheet, s: &str| {
        sheet.write_string(row, col, s)?;
        Ok::<_, XlsxError>(text_width(s))
    };
    match cell {
        Cell::Null => Ok(0),
        Cell::Bool(b) => {
            sheet.write_boolean(row, col, b)?;
            // Excel's widths of TRUE and FALSE, as rust_xlsxwriter's autofit takes them.
            Ok(padded(if b { 31 } else { 36 }))
        }
        Cell::Int(i) if i.abs() <= MAX_EXACT_INT => number(sheet, i as f64, None),
        Cell::Int(i) => text(sheet, &i.to_string()),
        Cell::Float(f) if f.is_nan() => Ok(0),
        // pandas' to_excel writes infinities as the text inf / -inf.
        Cell::Float(f) if f.is_infinite() => text(sheet, if f > 0.0 { "inf" } else { "-inf" }),
        Cell::Float(f) => number(sheet, f, None),
        Cell::Str(s) => text(sheet, &s),
        Cell::Date(d) => match excel_serial(i64::from(d) * MICROS_PER_DAY) {
            Some(serial) => number(sheet, serial, Some(&formats.date)),
            None => text(sheet, &iso_date(d)),
        },
        Cell::Datetime(us) => match excel_serial(us) {
            Some(serial) => number(sheet, serial, Some(&formats.datetime)),
            None => text(sheet, &super::table::iso_datetime(us)),
        },
    }
}

/// The widest line of `text`, in pixels with the cell's padding, as rust_xlsxwriter's
/// `autofit` measures a string cell.
fn text_width(text: &str) -> u32 {
    let pixels = text
        .lines()
        .map(|line| rust_xlsxwriter::utility::cell_autofit_width(line) - AUTOFIT_PADDING)
        .max()
        .unwrap_or(0);
    padded(pixels)
}

/// A number cell's width as rust_xlsxwriter's `autofit` (without `enhanced_autofit`) takes
/// it: 7 pixels a character of the number as Rust prints it, plus the padding.
fn number_width(n: f64, scratch: &mut String) -> u32 {
    use std::fmt::Write;
    // A whole number prints as its digits (and a sign, `-0` too): counted, not formatted.
    let chars = if n.fract() == 0.0 && n.abs() < 1e15 {
        let digits = (n.abs() as u64).checked_ilog10().map_or(1, |d| d + 1);
        digits + u32::from(n.is_sign_negative())
    } else {
        scratch.clear();
        let _ = write!(scratch, "{n}");
        scratch.len() as u32
    };
    padded(7 * chars)
}

/// The padding rust_xlsxwriter adds to a cell's width, in pixels.
const AUTOFIT_PADDING: u32 = 7;

/// The widest column rust_xlsxwriter's `autofit` makes, in pixels (Excel's limit).
const AUTOFIT_MAX: u32 = 1790;

/// A width in pixels with the cell's padding, within Excel's limit; nothing stays 0.
fn padded(pixels: u32) -> u32 {
    if pixels == 0 {
        0
    } else {
        (pixels + AUTOFIT_PADDING).min(AUTOFIT_MAX)
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Limits;
    use crate::format::codec::testing::fixture;

    fn cells(limit: u64) -> ReadSettings {
        ReadSettings {
            limits: Limits::new().max_sheet_cells(limit),
            ..ReadSettings::default()
        }
    }

    #[test]
    fn duplicate_headers_are_renamed_as_pandas_does_in_linear_time() {
        let mut names = UniqueNames::default();
        let taken: Vec<String> = ["a", "a", "a.1", "a", "b", "a.1"]
            .into_iter()
            .map(|n| names.take(n.to_owned()))
            .collect();
        assert_eq!(taken, ["a", "a.1", "a.1.1", "a.2", "b", "a.1.2"]);
        let mut names = UniqueNames::default();
        let last = (0..16_384).map(|_| names.take("x".to_owned())).last();
        assert_eq!(last.as_deref(), Some("x.16383"));
    }

    /// `n_rows` drops the rows past it before dtypes are inferred, as pandas' `nrows` does
    /// (pandas gives int64 for the first two rows of a column whose third is text), and
    /// `columns` picks header names in the order asked for, as `usecols`.
    #[test]
    fn n_rows_and_columns_read_as_pandas_nrows_and_usecols() {
        let mut book = XlsxBook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "n").unwrap();
        sheet.write_string(0, 1, "name").unwrap();
        for (row, (n, name)) in [(1.0, "a"), (2.0, "b")].into_iter().enumerate() {
            sheet.write_number(row as u32 + 1, 0, n).unwrap();
            sheet.write_string(row as u32 + 1, 1, name).unwrap();
        }
        sheet.write_string(3, 0, "three").unwrap();
        sheet.write_string(3, 1, "c").unwrap();
        let bytes = Bytes::from(book.save_to_buffer().unwrap());
        let codec = &XLSX;
        let read = |columns: Option<&[&str]>, n_rows: Option<usize>| {
            let options = ReadSettings {
                columns: columns.map(|c| c.iter().map(|s| s.to_string()).collect()),
                n_rows,
                ..ReadSettings::default()
            };
            codec.decode_frame(bytes.clone(), &options)
        };
        let two = read(None, Some(2)).unwrap();
        assert_eq!(
            two.column("n").unwrap().dtype(),
            &polars::prelude::DataType::Int64
        );
        assert_eq!(two.height(), 2);
        let all = read(None, None).unwrap();
        assert_eq!(
            all.column("n").unwrap().dtype(),
            &polars::prelude::DataType::String
        );
        let picked = read(Some(&["name", "n"]), Some(1)).unwrap();
        assert_eq!(picked.get_column_names(), ["name", "n"]);
        assert_eq!(picked.shape(), (1, 2));
        let none = read(None, Some(0)).unwrap();
        assert_eq!(none.height(), 0);
        let e = read(Some(&["nope"]), None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    }

    /// A number's width is 7 pixels a character of the number as Rust prints it, whole
    /// numbers counted without printing them.
    #[test]
    fn number_widths_count_the_characters_rust_prints() {
        let mut scratch = String::new();
        for n in [
            0.0,
            -0.0,
            7.0,
            -123_456.0,
            43_920.0,
            1e14,
            999_999_999_999_999.0,
            -999_999_999_999_999.0,
            1e15,
            1e16,
            0.5,
            -1e-7,
            9_007_199_254_740_992.0,
            f64::MAX,
        ] {
            let printed = n.to_string().len() as u32;
            assert_eq!(number_width(n, &mut scratch), padded(7 * printed), "{n}");
        }
    }

    /// The sheet XML's `<cols>` element: the column widths.
    fn column_widths(xlsx: &[u8]) -> String {
        let mut archive = zip::ZipArchive::new(Cursor::new(xlsx)).unwrap();
        let mut xml = String::new();
        std::io::Read::read_to_string(
            &mut archive.by_name("xl/worksheets/sheet1.xml").unwrap(),
            &mut xml,
        )
        .unwrap();
        let start = xml.find("<cols>").expect("the sheet has column widths");
        let end = xml.find("</cols>").expect("the column widths end");
        xml[start..end].to_owned()
    }

    /// Cells are written row by row in rust_xlsxwriter's low-memory mode, whose `autofit`
    /// sees only the last row; s3io measures the widths as it writes. They are the widths
    /// rust_xlsxwriter's own `autofit` gives the same cells in a sheet kept in memory, and the
    /// two files read back alike.
    #[test]
    fn columns_are_autofitted_as_rust_xlsxwriter_would() {
        use polars::prelude::{DataType, IntoColumn, NamedFrom, Series, TimeUnit};
        let long = "w".repeat(300);
        let column = |name: &str, s: Series| s.with_name(name.into()).into_column();
        let df = DataFrame::new(
            5,
            vec![
                column(
                    "i",
                    Series::new(
                        "".into(),
                        [Some(7i64), Some(-123_456), None, Some(1 << 60), Some(0)],
                    ),
                ),
                column(
                    "a rather long header",
                    Series::new("".into(), [0.1, f64::NAN, f64::INFINITY, 1e-7, -2.5e300]),
                ),
                column(
                    "s",
                    Series::new(
                        "".into(),
                        [
                            Some("東京"),
                            Some("two\nlines, the second longer"),
                            None,
                            Some(""),
                            Some("x"),
                        ],
                    ),
                ),
                column(
                    "long",
                    Series::new("".into(), [None, Some(long.as_str()), None, None, None]),
                ),
                column(
                    "b",
                    Series::new("".into(), [Some(true), Some(false), None, Some(true), None]),
                ),
                column(
                    "d",
                    Series::new(
                        "".into(),
                        [
                            Some(0i32),
                            Some(19_000),
                            None,
                            Some(-30_000),
                            Some(2_932_000),
                        ],
                    )
                    .cast(&DataType::Date)
                    .unwrap(),
                ),
                column(
                    "t",
                    Series::new(
                        "".into(),
                        [
                            Some(1_580_000_000_123_456i64),
                            None,
                            Some(0),
                            Some(-1),
                            Some(86_400_000_000),
                        ],
                    )
                    .cast(&DataType::Datetime(TimeUnit::Microseconds, None))
                    .unwrap(),
                ),
                column("empty", Series::new_null("".into(), 5)),
            ],
        )
        .unwrap();
        let written = XLSX
            .encode(&Data::Frame(df.clone()), &WriteSettings::default())
            .unwrap();
        let cells = FrameCells::new(&df).unwrap();
        let mut book = XlsxBook::new();
        let sheet = book.add_worksheet();
        let unfitted = WriteSettings {
            autofit: Some(false),
            ..WriteSettings::default()
        };
        write_sheet(sheet, "Sheet1", &cells, &unfitted).unwrap();
        sheet.autofit();
        let reference = book.save_to_buffer().unwrap();
        let widths = column_widths(&written);
        assert_eq!(widths, column_widths(&reference));
        assert_eq!(widths.matches("<col ").count(), 8, "{widths}");
        let read = |bytes: Vec<u8>| {
            XLSX.decode_frame(Bytes::from(bytes), &ReadSettings::default())
                .unwrap()
        };
        let back = read(written);
        assert!(back.equals_missing(&read(reference)));
        assert_eq!(back.shape(), (5, 8));
    }

    /// Set in the child processes [`in_child`] starts.
    #[cfg(unix)]
    const CHILD: &str = "S3IO_TEST_CHILD";

    /// Runs the test `name` of this binary again in a child process, after the shell
    /// commands `setup` (the environment and limits are the whole process's), and checks
    /// that it ran and passed.
    #[cfg(unix)]
    fn in_child(name: &str, setup: &str) {
        let child = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                r#"{setup}; exec "$0" --exact "$1" --test-threads=1"#
            ))
            .arg(std::env::current_exe().unwrap())
            .arg(format!("format::excel::tests::{name}"))
            .env(CHILD, "1")
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&child.stdout);
        let err = String::from_utf8_lossy(&child.stderr);
        assert!(child.status.success(), "{out}{err}");
        assert!(
            out.contains("1 passed"),
            "the child ran no test: {out}{err}"
        );
    }

    /// Where no temporary file can be made (`TMPDIR` names no directory), the sheet is kept
    /// in memory instead, and the workbook is the same.
    #[cfg(unix)]
    #[test]
    fn a_workbook_is_written_in_memory_where_no_temporary_file_can_be_made() {
        let df = polars::df!("n" => [1i64, 2, 3], "s" => ["a", "b\nc", "東京"]).unwrap();
        let written = |df: &DataFrame| {
            XLSX.encode(&Data::Frame(df.clone()), &WriteSettings::default())
                .unwrap()
        };
        if std::env::var_os(CHILD).is_some() {
            let nowhere = std::env::temp_dir().join("a-file");
            assert!(
                std::fs::File::create(&nowhere).is_err(),
                "{nowhere:?} was made"
            );
            let bytes = Bytes::from(written(&df));
            let back = XLSX.decode_frame(bytes, &ReadSettings::default()).unwrap();
            assert!(back.equals_missing(&df), "{back}");
            return;
        }
        in_child(
            "a_workbook_is_written_in_memory_where_no_temporary_file_can_be_made",
            "export TMPDIR=/nonexistent/s3io-test",
        );
        assert_eq!(column_widths(&written(&df)), {
            // The same cells through the fallback, here where temporary files can be made.
            let mut book = XlsxBook::new();
            let sheet = book.add_worksheet();
            let cells = FrameCells::new(&df).unwrap();
            write_sheet(sheet, "Sheet1", &cells, &WriteSettings::default()).unwrap();
            column_widths(&book.save_to_buffer().unwrap())
        });
    }

    /// rust_xlsxwriter panics where it cannot write its temporary file; the write is an
    /// `Encode` error naming the directory instead. The child may write files of 8 KiB at
    /// most (`ulimit -f`), and ignores the signal the kernel sends past that, so the write
    /// fails as on a full disk.
    #[cfg(unix)]
    #[test]
    fn a_temporary_file_that_cannot_be_written_is_an_encode_error() {
        if std::env::var_os(CHILD).is_none() {
            in_child(
                "a_temporary_file_that_cannot_be_written_is_an_encode_error",
                "trap '' XFSZ; ulimit -f 16",
            );
            return;
        }
        let n: Vec<i64> = (0..20_000).collect();
        let df = polars::df!("n" => n).unwrap();
        let e = XLSX
            .encode(&Data::Frame(df), &WriteSettings::default())
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Encode, "{e}");
        assert!(e.to_string().contains("temporary file in"), "{e}");
    }

    /// A workbook of a 4 × 5 sheet and a 3 × 2 one: 26 cells that calamine builds together
    /// on opening it. It reads within the limit, and is refused past it.
    fn reads_within_the_limit_only(codec: &Spreadsheet, path: &str) {
        let bytes = fixture(path);
        let sheets = codec
            .decode_sheets(bytes.clone(), &ReadSettings::default())
            .unwrap();
        assert_eq!(sheets.len(), 2, "{path}");
        assert!(
            codec.decode_sheets(bytes.clone(), &cells(26)).is_ok(),
            "{path}"
        );
        let err = codec.decode_frame(bytes.clone(), &cells(25)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::LimitExceeded, "{path}");
        assert!(err.message().contains("26 cells together"), "{path}: {err}");
        // An xls sheet declares its size (DIMENSIONS) before its cells span it.
        let err = codec.decode_frame(bytes, &cells(19)).unwrap_err();
        assert!(err.message().contains("sheet \"Data\""), "{err}");
        assert!(err.message().contains("4 rows × 5 columns"), "{err}");
    }

    #[test]
    fn an_xls_workbook_reads_within_the_limit_only() {
        reads_within_the_limit_only(&XLS, "workbooks/xlwt.xls");
    }

    #[test]
    fn an_ods_workbook_reads_within_the_limit_only() {
        reads_within_the_limit_only(&ODS, "workbooks/pandas.ods");
    }

    /// The hostile workbooks are refused before calamine sees them; each would abort, hang
    /// or exhaust the process without the scans (fixtures/hostile/README.md).
    #[test]
    fn hostile_xls_and_ods_are_refused_by_the_scans() {
        for (file, kind, says) in [
            (
                "xls_dimension_bomb.xls",
                ErrorKind::LimitExceeded,
                "65536 rows × 65536 columns",
            ),
            (
                "xls_dimensions_record_bomb.xls",
                ErrorKind::LimitExceeded,
                "declares 268435456 rows",
            ),
            (
                "xls_shared_substream_bomb.xls",
                ErrorKind::LimitExceeded,
                "cells together",
            ),
            (
                "xls_shared_string_bomb.xls",
                ErrorKind::LimitExceeded,
                "max_decoded_size",
            ),
            (
                "xls_cfb_sector_loop.xls",
                ErrorKind::Decode,
                "directory sector chain loops",
            ),
            (
                "ods_repeat_bomb.ods",
                ErrorKind::LimitExceeded,
                "6000 rows × 16384 columns",
            ),
            (
                "ods_text_spaces_bomb.ods",
                ErrorKind::LimitExceeded,
                "max_decoded_size",
            ),
            (
                "ods_unclosed_table.ods",
                ErrorKind::Decode,
                "ends inside sheet \"Sheet1\"",
            ),
        ] {
            let err = open(
                fixture(&format!("hostile/{file}")),
                &ReadSettings::default(),
            )
            .err();
            let err = err.unwrap_or_else(|| panic!("{file} opened"));
            assert_eq!(err.kind(), kind, "{file}: {err}");
            assert!(err.message().contains(says), "{file}: {err}");
        }
    }
}
