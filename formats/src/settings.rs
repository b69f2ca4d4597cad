//! What a codec is told when it decodes or encodes: [`ReadSettings`] and [`WriteSettings`].
//!
//! These are the format-specific fields of the public [`ReadOptions`](crate::ReadOptions) and
//! [`WriteOptions`](crate::WriteOptions), without the choice of format and compression, which
//! is made above the codecs. They sit below the format registry so that a codec depends on
//! its settings and never on the registry that lists it.

use indexmap::IndexMap;
use polars::prelude::{DataFrame, DataType};

use crate::error::Result;
use crate::limits::{Limits, OutputBudget};

/// Every sheet of a workbook, by name, in the workbook's order.
pub type Sheets = IndexMap<String, DataFrame>;

/// A sheet chosen by name or by position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SheetRef {
    Name(String),
    Index(usize),
}

/// How a codec reads one object: the limits and output budget of the call, and the options of
/// its format family.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReadSettings {
    pub(crate) limits: Limits,
    pub(crate) separator: Option<u8>,
    pub(crate) has_header: Option<bool>,
    /// The row of the header: for CSV, the lines skipped before it.
    pub(crate) header_row: Option<usize>,
    pub(crate) skip_rows_after_header: usize,
    pub(crate) null_values: Vec<String>,
    /// Whether pandas' default missing-value tokens are nulls too (`None`: yes).
    pub(crate) keep_default_na: Option<bool>,
    pub(crate) schema_overrides: Vec<(String, DataType)>,
    /// `None`: not set (the first 10,000 rows, then all); `Some(None)`: every row.
    pub(crate) infer_schema_length: Option<Option<usize>>,
    pub(crate) decimal_comma: bool,
    pub(crate) sheet: Option<SheetRef>,
    /// The columns to read, in this order (`None`: all); Parquet, CSV and TSV.
    pub(crate) columns: Option<Vec<String>>,
    /// The rows to read from the start (`None`: all); Parquet, CSV and TSV.
    pub(crate) n_rows: Option<usize>,
    /// The output budget of the call these settings are decoding for; set by
    /// [`ObjectFormat`](crate::ObjectFormat) as decoding starts, or shared by a call that
    /// decodes many objects.
    pub(crate) budget: Option<OutputBudget>,
}

impl ReadSettings {
    /// Charges `bytes` that decoding is about to produce to the call's output budget (see
    /// [`Limits::max_decoded_size`]); `what` says what they are, for the error.
    pub(crate) fn charge_output(&self, bytes: u64, what: impl FnOnce() -> String) -> Result<()> {
        match &self.budget {
            Some(budget) => budget.charge(bytes, what),
            None => OutputBudget::new(&self.limits).charge(bytes, what),
        }
    }

    /// The call's output budget; a fresh one under these limits if none was set.
    pub(crate) fn budget(&self) -> OutputBudget {
        self.budget
            .clone()
            .unwrap_or_else(|| OutputBudget::new(&self.limits))
    }

    /// The bytes decoding may still produce in this call.
    pub(crate) fn output_remaining(&self) -> u64 {
        match &self.budget {
            Some(budget) => budget.remaining(),
            None => OutputBudget::new(&self.limits).remaining(),
        }
    }
}

/// What a frame uploaded to `.pkl` / `.pickle` becomes.
///
/// ```
/// use s3io_formats::{PickleLayout, WriteOptions};
///
/// // For a Python reader without pandas: `pd.DataFrame(pickle.loads(b))` rebuilds the frame.
/// let builtins = WriteOptions::pickle().layout(PickleLayout::DictOfLists);
/// # let _ = builtins;
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum PickleLayout {
    /// A pandas DataFrame, as `pickle.dumps(df)` makes one: `pickle.loads` and
    /// `pd.read_pickle` give a DataFrame, dtype by dtype (pandas 2.x and 3.x; docs/formats.md
    /// has the table). The default.
    #[default]
    DataFrame,
    /// A dict of column name to list of Python builtins (dates as ISO 8601 text), which any
    /// Python unpickles without pandas; `pd.DataFrame(pickle.loads(b))` rebuilds the frame.
    DictOfLists,
}

/// How a codec writes one object: the options of its format family.
#[derive(Debug, Clone, Default)]
pub(crate) struct WriteSettings {
    pub(crate) separator: Option<u8>,
    pub(crate) include_header: Option<bool>,
    pub(crate) date_format: Option<String>,
    pub(crate) datetime_format: Option<String>,
    pub(crate) null_value: Option<String>,
    pub(crate) include_bom: bool,
    pub(crate) decimal_comma: bool,
    pub(crate) sheet_name: Option<String>,
    pub(crate) bold_header: Option<bool>,
    pub(crate) autofit: Option<bool>,
    pub(crate) freeze_header: Option<bool>,
    pub(crate) pickle_layout: PickleLayout,
}
