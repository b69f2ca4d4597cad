//! The one bridge between polars frames and cell-by-cell formats.
//!
//! Excel sheets, JSON records and pickled dicts all describe a table one value at a time.
//! [`FrameBuilder`] turns such columns of [`Cell`]s into a `DataFrame`, choosing each column's
//! dtype the way pandas does; [`FrameCells`] reads a `DataFrame` back one [`Cell`] at a time.
//! Each format converts its own values to and from `Cell` and never touches polars directly.

use std::borrow::Cow;

use polars::prelude::*;

use crate::error::{Error, ErrorKind};
use crate::limits::{CELL_BYTES, OutputBudget};
use serde::de::{Deserialize, Deserializer, Visitor};
use serde::{Serialize, Serializer};

/// One value of a table cell, independent of any file format.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell<'a> {
    /// A missing value: an empty Excel cell, JSON `null`, Python `None`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A 64-bit integer.
    Int(i64),
    /// A 64-bit float; NaN is a value here, not a null.
    Float(f64),
    /// Text.
    Str(Cow<'a, str>),
    /// A calendar date, as days since 1970-01-01.
    Date(i32),
    /// A date and time without time zone, as microseconds since 1970-01-01T00:00:00.
    Datetime(i64),
}

impl<'a> Cell<'a> {
    /// Text for a cell that has to live in a column of strings.
    fn into_text(self) -> Option<Cow<'a, str>> {
        match self {
            Cell::Null => None,
            Cell::Bool(b) => Some(b.to_string().into()),
            Cell::Int(i) => Some(i.to_string().into()),
            Cell::Float(f) => Some(f.to_string().into()),
            Cell::Str(s) => Some(s),
            Cell::Date(d) => Some(iso_date(d).into()),
            Cell::Datetime(us) => Some(iso_datetime(us).into()),
        }
    }
}

/// Builds a `DataFrame` column by column from [`Cell`]s.
#[derive(Default)]
pub(crate) struct FrameBuilder {
    columns: Vec<Column>,
    height: Option<usize>,
}

impl FrameBuilder {
    /// Adds a column; its dtype follows from the cells, as pandas infers it:
    /// only booleans give Boolean, only integers Int64, integers and floats Float64, only dates
    /// Date, dates and datetimes Datetime, and anything else String. Nulls fit every dtype.
    pub(crate) fn push(&mut self, name: &str, cells: Vec<Cell<'_>>) -> Result<(), String> {
        if let Some(height) = self.height
            && height != cells.len()
        {
            return Err(format!(
                "column {name:?} has {} values but the columns before it have {height}",
                cells.len()
            ));
        }
        self.height = Some(cells.len());
        self.columns.push(column_from_cells(name.into(), cells));
        Ok(())
    }

    /// The finished frame.
    pub(crate) fn finish(self) -> Result<DataFrame, String> {
        DataFrame::new(self.height.unwrap_or(0), self.columns).map_err(|e| e.to_string())
    }
}

/// The dtype a column of cells gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Inferred {
    Null,
    Bool,
    Int,
    Float,
    Str,
    Date,
    Datetime,
    Mixed,
}

fn infer(cells: &[Cell<'_>]) -> Inferred {
    use Inferred::*;
    cells.iter().fold(Null, |acc, cell| {
        acc.and(match cell {
            Cell::Null => return acc,
            Cell::Bool(_) => Bool,
            Cell::Int(_) => Int,
            Cell::Float(_) => Float,
            Cell::Str(_) => Str,
            Cell::Date(_) => Date,
            Cell::Datetime(_) => Datetime,
        })
    })
}

fn column_from_cells(name: PlSmallStr, cells: Vec<Cell<'_>>) -> Column {
    let kind = infer(&cells);
    column_of_kind(name, kind, cells)
}

impl Inferred {
    /// The dtype of a column of this kind.
    fn dtype(self) -> DataType {
        match self {
            Inferred::Bool => DataType::Boolean,
            Inferred::Int => DataType::Int64,
            Inferred::Float => DataType::Float64,
            Inferred::Date => DataType::Date,
            Inferred::Datetime => DataType::Datetime(TimeUnit::Microseconds, None),
            Inferred::Null | Inferred::Str | Inferred::Mixed => DataType::String,
        }
    }

    /// The kind of a column whose cells come in two runs of these kinds, as [`infer`] folds.
    fn and(self, other: Inferred) -> Inferred {
        use Inferred::*;
        match (self, other) {
            (Null, t) | (t, Null) => t,
            (a, t) if a == t => a,
            (Int | Float, Int | Float) => Float,
            (Date | Datetime, Date | Datetime) => Datetime,
            _ => Mixed,
        }
    }

    /// Whether a column of this kind, cast to `whole`'s dtype, holds what a column of kind
    /// `whole` made from the same cells holds. Casting numbers or booleans to text would not
    /// spell them as [`Cell::into_text`] does.
    fn casts_exactly_to(self, whole: Inferred) -> bool {
        use Inferred::*;
        matches!(
            (self, whole),
            (Null, _) | (Int, Float) | (Date, Datetime) | (Str, Mixed) | (Mixed, Str)
        ) || self == whole
    }
}

fn column_of_kind(name: PlSmallStr, kind: Inferred, cells: Vec<Cell<'_>>) -> Column {
    let it = cells.into_iter();
    let series = match kind {
        Inferred::Bool => Series::new(
            name,
            it.map(|c| match c {
                Cell::Bool(b) => Some(b),
                _ => None,
            })
            .collect::<Vec<_>>(),
        ),
        Inferred::Int => Series::new(
            name,
            it.map(|c| match c {
                Cell::Int(i) => Some(i),
                _ => None,
            })
            .collect::<Vec<_>>(),
        ),
        Inferred::Float => Series::new(
            name,
            it.map(|c| match c {
                Cell::Int(i) => Some(i as f64),
                Cell::Float(f) => Some(f),
                _ => None,
            })
            .collect::<Vec<_>>(),
        ),
        Inferred::Date => Int32Chunked::from_iter_options(
            name,
            it.map(|c| match c {
                Cell::Date(d) => Some(d),
                _ => None,
            }),
        )
        .into_date()
        .into_series(),
        Inferred::Datetime => Int64Chunked::from_iter_options(
            name,
            it.map(|c| match c {
                Cell::Date(d) => Some(i64::from(d) * MICROS_PER_DAY),
                Cell::Datetime(us) => Some(us),
                _ => None,
            }),
        )
        .into_datetime(TimeUnit::Microseconds, None)
        .into_series(),
        Inferred::Null | Inferred::Str | Inferred::Mixed => it
            .map(Cell::into_text)
            .collect::<StringChunked>()
            .with_name(name)
            .into_series(),
    };
    series.into()
}

/// A `DataFrame` read cell by cell.
pub(crate) struct FrameCells {
    names: Vec<String>,
    columns: Vec<TypedColumn>,
    height: usize,
}

/// A column cast to one of the dtypes a [`Cell`] can hold.
enum TypedColumn {
    Null,
    Bool(BooleanChunked),
    Int(Int64Chunked),
    Float(Float64Chunked),
    Str(StringChunked),
    Date(Int32Chunked),
    /// Microseconds since the epoch.
    Datetime(Int64Chunked),
}

impl FrameCells {
    /// Prepares `df` for reading; fails, naming the column, on dtypes no cell can hold
    /// (lists, structs, durations, ...).
    pub(crate) fn new(df: &DataFrame) -> Result<Self, String> {
        let columns = df
            .columns()
            .iter()
            .map(typed_column)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(FrameCells {
            names: df
                .get_column_names()
                .iter()
                .map(|s| s.to_string())
                .collect(),
            columns,
            height: df.height(),
        })
    }

    /// The column names, in order.
    pub(crate) fn names(&self) -> &[String] {
        &self.names
    }

    /// The number of rows.
    pub(crate) fn height(&self) -> usize {
        self.height
    }

    /// The cell at column `col`, row `row`. Out-of-range positions read as null.
    pub(crate) fn get(&self, col: usize, row: usize) -> Cell<'_> {
        let Some(column) = self.columns.get(col) else {
            return Cell::Null;
        };
        let cell = match column {
            TypedColumn::Null => None,
            TypedColumn::Bool(ca) => ca.get(row).map(Cell::Bool),
            TypedColumn::Int(ca) => ca.get(row).map(Cell::Int),
            TypedColumn::Float(ca) => ca.get(row).map(Cell::Float),
            TypedColumn::Str(ca) => ca.get(row).map(|s| Cell::Str(Cow::Borrowed(s))),
            TypedColumn::Date(ca) => ca.get(row).map(Cell::Date),
            TypedColumn::Datetime(ca) => ca.get(row).map(Cell::Datetime),
        };
        cell.unwrap_or(Cell::Null)
    }
}

fn typed_column(column: &Column) -> Result<TypedColumn, String> {
    let unsupported = || {
        format!(
            "column {:?} has dtype {}, which this format cannot hold",
            column.name().as_str(),
            column.dtype()
        )
    };
    let cast = |dtype: DataType| -> Result<Series, String> {
        column
            .as_materialized_series()
            .strict_cast(&dtype)
            .map_err(|e| format!("column {:?}: {e}", column.name().as_str()))
    };
    let dtype = column.dtype();
    let typed = match dtype {
        DataType::Null => TypedColumn::Null,
        DataType::Boolean => TypedColumn::Bool(column.bool().map_err(|e| e.to_string())?.clone()),
        DataType::String => TypedColumn::Str(column.str().map_err(|e| e.to_string())?.clone()),
        dt if dt.is_integer() => TypedColumn::Int(
            cast(DataType::Int64)?
                .i64()
                .map_err(|e| e.to_string())?
                .clone(),
        ),
        dt if dt.is_float() => TypedColumn::Float(
            cast(DataType::Float64)?
                .f64()
                .map_err(|e| e.to_string())?
                .clone(),
        ),
        DataType::Date => TypedColumn::Date(
            cast(DataType::Int32)?
                .i32()
                .map_err(|e| e.to_string())?
                .clone(),
        ),
        DataType::Datetime(unit, _) => {
            let raw = cast(DataType::Int64)?;
            let raw = raw.i64().map_err(|e| e.to_string())?;
            TypedColumn::Datetime(match unit {
                TimeUnit::Nanoseconds => raw / 1000,
                TimeUnit::Microseconds => raw.clone(),
                TimeUnit::Milliseconds => raw * 1000,
            })
        }
        _ => return Err(unsupported()),
    };
    Ok(typed)
}

impl Serialize for Cell<'_> {
    /// Nulls serialize as unit (JSON `null`, Python `None`), dates and datetimes as ISO 8601
    /// text, since neither JSON nor pickled builtins have a date type.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Cell::Null => s.serialize_unit(),
            Cell::Bool(b) => s.serialize_bool(*b),
            Cell::Int(i) => s.serialize_i64(*i),
            Cell::Float(f) => s.serialize_f64(*f),
            Cell::Str(text) => s.serialize_str(text),
            Cell::Date(d) => s.serialize_str(&iso_date(*d)),
            Cell::Datetime(us) => s.serialize_str(&iso_datetime(*us)),
        }
    }
}

impl<'de> Deserialize<'de> for Cell<'static> {
    /// Reads one scalar of any self-describing format; lists and maps are refused, since a
    /// cell holds one value.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct CellVisitor;
        impl<'de> Visitor<'de> for CellVisitor {
            type Value = Cell<'static>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a single value")
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Cell::Null)
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(Cell::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Self::Value, E> {
                Ok(Cell::Bool(b))
            }
            fn visit_i64<E>(self, i: i64) -> Result<Self::Value, E> {
                Ok(Cell::Int(i))
            }
            fn visit_u64<E>(self, u: u64) -> Result<Self::Value, E> {
                // Past i64, keep every digit as text rather than round to a float.
                Ok(i64::try_from(u).map_or_else(|_| Cell::Str(u.to_string().into()), Cell::Int))
            }
            fn visit_f64<E>(self, f: f64) -> Result<Self::Value, E> {
                Ok(Cell::Float(f))
            }
            fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Cell::Str(s.to_owned().into()))
            }
            fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
                Ok(Cell::Str(s.into()))
            }
        }
        d.deserialize_any(CellVisitor)
    }
}

// A cell takes CELL_BYTES while a frame is built.
const _: () = assert!(std::mem::size_of::<Cell<'static>>() as u64 <= CELL_BYTES);

/// The columns asked for (polars' and pandas' `columns`/`usecols`), in the order asked for;
/// the whole frame when none were. A name the frame lacks is the caller's mistake.
pub(crate) fn in_asked_order(
    df: DataFrame,
    columns: Option<&[String]>,
) -> Result<DataFrame, Error> {
    let Some(columns) = columns else {
        return Ok(df);
    };
    df.select(columns.iter().map(String::as_str)).map_err(|e| {
        Error::new(
            ErrorKind::InvalidInput,
            format!("cannot select the columns: {e}"),
        )
        .with_source(e)
    })
}

/// A frame from records: one list of (column, value) pairs per row. Columns appear in the
/// order they are first seen; a row without a column has a null there.
///
/// Records whose keys differ make a frame of every column by every row, mostly nulls: 30,000
/// records with one fresh key each make 900 million cells. Every cell, null or not, is
/// charged to `budget` before it is made.
pub(crate) fn frame_from_records<'a, Row>(
    rows: impl IntoIterator<Item = Row>,
    budget: &OutputBudget,
) -> crate::error::Result<DataFrame>
where
    Row: IntoIterator<Item = (String, Cell<'a>)>,
{
    let mut table = RecordColumns::new(budget);
    for row in rows {
        for (name, cell) in row {
            let col = table.column(&name)?;
            table.put(col, cell);
        }
        table.end_row()?;
    }
    table.finish()
}

/// Columns being filled from records one (key, value) pair at a time, as
/// [`frame_from_records`] does; decoders that stream their records fill it directly.
pub(crate) struct RecordColumns<'a, 'b> {
    budget: &'b OutputBudget,
    index: std::collections::HashMap<String, usize>,
    names: Vec<String>,
    columns: Vec<Vec<Cell<'a>>>,
    height: usize,
    /// The column the next key most likely names: records usually repeat one key order.
    expected: usize,
}

impl<'a, 'b> RecordColumns<'a, 'b> {
    /// No columns yet; every cell made is charged to `budget` first.
    pub(crate) fn new(budget: &'b OutputBudget) -> Self {
        RecordColumns {
            budget,
            index: std::collections::HashMap::new(),
            names: Vec::new(),
            columns: Vec::new(),
            height: 0,
            expected: 0,
        }
    }

    fn charge(&self, cells: u64) -> crate::error::Result<()> {
        let (columns, height) = (self.names.len(), self.height);
        self.budget.charge(cells.saturating_mul(CELL_BYTES), || {
            format!("records whose keys make {columns} columns, at row {height}")
        })
    }

    /// The column named `name`, added (null in every row so far) if it is new.
    pub(crate) fn column(&mut self, name: &str) -> crate::error::Result<usize> {
        let col = match self.names.get(self.expected) {
            Some(expected) if expected == name => self.expected,
            _ => match self.index.get(name) {
                Some(&col) => col,
                None => {
                    // A new column is null in every row before this one.
                    self.names.push(name.to_owned());
                    self.charge(self.height as u64)?;
                    self.columns.push(Vec::new());
                    self.index.insert(name.to_owned(), self.columns.len() - 1);
                    self.columns.len() - 1
                }
            },
        };
        self.expected = col + 1;
        Ok(col)
    }

    /// Sets the current row's cell in column `col`; a key given twice in one record keeps
    /// its last value, as a JSON object or a Python dict does.
    pub(crate) fn put(&mut self, col: usize, cell: Cell<'a>) {
        let column = &mut self.columns[col];
        if column.len() > self.height {
            column[self.height] = cell;
        } else {
            column.resize(self.height, Cell::Null);
            column.push(cell);
        }
    }

    /// Ends the current row.
    pub(crate) fn end_row(&mut self) -> crate::error::Result<()> {
        // Every column has a cell in this row, by the end.
        self.charge(self.columns.len() as u64)?;
        self.height += 1;
        self.expected = 0;
        Ok(())
    }

    /// The rows ended so far, as typed columns with the kind their cells gave: one piece of
    /// a [`StackedRecords`].
    pub(crate) fn into_piece(self) -> TypedPiece {
        let height = self.height;
        let columns = self.names.into_iter().zip(self.columns);
        let typed = columns.map(|(name, mut cells)| {
            cells.resize(height, Cell::Null);
            let kind = infer(&cells);
            let column = column_of_kind(name.as_str().into(), kind, cells);
            (name, kind, column)
        });
        TypedPiece {
            height,
            columns: typed.collect(),
        }
    }

    /// The frame of the rows ended so far.
    pub(crate) fn finish(self) -> crate::error::Result<DataFrame> {
        let mut builder = FrameBuilder::default();
        let decode = |m: String| Error::new(ErrorKind::Decode, m);
        for (name, mut cells) in self.names.iter().zip(self.columns) {
            cells.resize(self.height, Cell::Null);
            builder.push(name, cells).map_err(decode)?;
        }
        builder.finish().map_err(decode)
    }
}

/// The records of one piece of an object as typed columns, each with the kind its cells
/// gave ([`RecordColumns::into_piece`]).
pub(crate) struct TypedPiece {
    height: usize,
    columns: Vec<(String, Inferred, Column)>,
}

/// Records read in pieces (the parts of one object, in order), each piece made into typed
/// columns as soon as it is read, stacked into the frame reading every record at once gives.
/// Where that frame needs what a piece no longer holds (a column of numbers in one piece
/// and text in another, which the whole frame spells cell by cell), it gives up.
pub(crate) struct StackedRecords {
    names: Vec<String>,
    index: std::collections::HashMap<String, usize>,
    /// Each column's kind over every piece so far, and the kinds its pieces had.
    kinds: Vec<(Inferred, Vec<Inferred>)>,
    /// Each piece's height and columns, by column number (`None`: not in that piece).
    pieces: Vec<(usize, Vec<Option<Column>>)>,
}

impl StackedRecords {
    /// No pieces yet.
    pub(crate) fn new() -> Self {
        StackedRecords {
            names: Vec::new(),
            index: std::collections::HashMap::new(),
            kinds: Vec::new(),
            pieces: Vec::new(),
        }
    }

    /// Adds the next piece; `false` when the stacked frame could no longer be the whole one.
    pub(crate) fn push(&mut self, piece: TypedPiece) -> bool {
        let TypedPiece { height, columns } = piece;
        let mut by_number: Vec<Option<Column>> = vec![None; self.names.len()];
        for (name, kind, column) in columns {
            let col = match self.index.get(&name) {
                Some(&col) => col,
                None => {
                    self.index.insert(name.clone(), self.names.len());
                    self.names.push(name);
                    self.kinds.push((Inferred::Null, Vec::new()));
                    by_number.push(None);
                    self.names.len() - 1
                }
            };
            let (whole, seen) = &mut self.kinds[col];
            *whole = whole.and(kind);
            seen.push(kind);
            by_number[col] = Some(column);
        }
        self.pieces.push((height, by_number));
        let exact = |(whole, seen): &(Inferred, Vec<Inferred>)| {
            seen.iter().all(|kind| kind.casts_exactly_to(*whole))
        };
        self.kinds.iter().all(exact)
    }

    /// The frame; a column a piece lacks is null there, charged to `budget` first.
    pub(crate) fn finish(self, budget: &OutputBudget) -> crate::error::Result<DataFrame> {
        let height: usize = self.pieces.iter().map(|(h, _)| h).sum();
        let mut columns: Vec<Option<Column>> = vec![None; self.names.len()];
        for (piece_height, piece) in self.pieces {
            for (col, (name, (whole, _))) in self.names.iter().zip(&self.kinds).enumerate() {
                let dtype = whole.dtype();
                let part = match piece.get(col).cloned().flatten() {
                    Some(part) if part.dtype() == &dtype => part,
                    Some(part) if part.null_count() == part.len() => {
                        Column::full_null(name.as_str().into(), piece_height, &dtype)
                    }
                    Some(part) => part.cast(&dtype).map_err(decode_error)?,
                    None => {
                        let cells = piece_height as u64;
                        budget.charge(cells.saturating_mul(CELL_BYTES), || {
                            format!("records whose keys make {} columns", self.names.len())
                        })?;
                        Column::full_null(name.as_str().into(), piece_height, &dtype)
                    }
                };
                match &mut columns[col] {
                    Some(stacked) => {
                        stacked.append_owned(part).map_err(decode_error)?;
                    }
                    empty => *empty = Some(part),
                }
            }
        }
        let columns = columns.into_iter().flatten().collect();
        DataFrame::new(height, columns).map_err(decode_error)
    }
}

fn decode_error(e: PolarsError) -> Error {
    Error::new(ErrorKind::Decode, e.to_string()).with_source(e)
}

/// A frame serialized as a list of records, one map per row: pandas'
/// `to_json(orient="records")`.
pub(crate) struct Records<'a>(pub(crate) &'a FrameCells);

impl Serialize for Records<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let cells = self.0;
        s.collect_seq((0..cells.height()).map(|row| Row(cells, row)))
    }
}

/// One row of a frame, serialized as a map from column name to cell.
pub(crate) struct Row<'a>(pub(crate) &'a FrameCells, pub(crate) usize);

impl Serialize for Row<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Row(cells, row) = *self;
        let names = cells.names().iter().enumerate();
        s.collect_map(names.map(|(col, name)| (name, cells.get(col, row))))
    }
}

/// A frame serialized as a map from column name to the list of its values, in column order:
/// `df.to_dict("list")`, which `pd.DataFrame(obj)` turns back into the frame.
pub(crate) struct Columns<'a>(pub(crate) &'a FrameCells);

impl Serialize for Columns<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let cells = self.0;
        let names = cells.names().iter().enumerate();
        s.collect_map(names.map(|(col, name)| (name, ColumnValues(cells, col))))
    }
}

/// One column of a frame, serialized as a list.
struct ColumnValues<'a>(&'a FrameCells, usize);

impl Serialize for ColumnValues<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let ColumnValues(cells, col) = *self;
        s.collect_seq((0..cells.height()).map(|row| cells.get(col, row)))
    }
}

/// Microseconds in one day.
pub(crate) const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(year: i32, month: u32, day: u32) -> i32 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i32;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a count of days since 1970-01-01.
pub(crate) fn civil_from_days(days: i32) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i32::from(month <= 2);
    (year, month, day)
}

/// `YYYY-MM-DD` for days since the epoch.
pub fn iso_date(days: i32) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DDTHH:MM:SS[.ffffff]` for microseconds since the epoch.
pub fn iso_datetime(micros: i64) -> String {
    let days = micros.div_euclid(MICROS_PER_DAY);
    let rest = micros.rem_euclid(MICROS_PER_DAY);
    let (secs, frac) = (rest / 1_000_000, rest % 1_000_000);
    let time = format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    let date = iso_date(days as i32);
    if frac == 0 {
        format!("{date}T{time}")
    } else {
        format!("{date}T{time}.{frac:06}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2024, 1, 15), 19737);
        assert_eq!(days_from_civil(1899, 12, 30), -25569);
        for days in [-800_000, -25569, -1, 0, 59, 19737, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(
            iso_datetime(19737 * MICROS_PER_DAY + 49_530_000_000),
            "2024-01-15T13:45:30"
        );
        assert_eq!(iso_datetime(-1), "1969-12-31T23:59:59.999999");
    }

    #[test]
    fn columns_get_pandas_like_dtypes() {
        let mut b = FrameBuilder::default();
        b.push("i", vec![Cell::Int(1), Cell::Null]).unwrap();
        b.push("f", vec![Cell::Int(1), Cell::Float(2.5)]).unwrap();
        b.push("s", vec![Cell::Str("a".into()), Cell::Int(3)])
            .unwrap();
        b.push("d", vec![Cell::Date(1), Cell::Datetime(5)]).unwrap();
        b.push("n", vec![Cell::Null, Cell::Null]).unwrap();
        assert!(b.push("short", vec![Cell::Null]).is_err());
        let df = b.finish().unwrap();
        let dtypes: Vec<DataType> = df.dtypes();
        assert_eq!(
            dtypes,
            vec![
                DataType::Int64,
                DataType::Float64,
                DataType::String,
                DataType::Datetime(TimeUnit::Microseconds, None),
                DataType::String
            ]
        );
        let cells = FrameCells::new(&df).unwrap();
        assert_eq!(cells.get(2, 1), Cell::Str("3".into()));
        assert_eq!(cells.get(3, 0), Cell::Datetime(MICROS_PER_DAY));
        assert_eq!(cells.get(0, 1), Cell::Null);
    }
}
