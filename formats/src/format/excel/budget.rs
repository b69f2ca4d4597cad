//! What calamine would build for a workbook it reads whole (`.xls`, `.ods`), counted by the
//! pre-scans against the limits before calamine sees the bytes.
//!
//! calamine builds every sheet of such a workbook when it opens it, each as a dense grid over
//! its cells' bounding box, and keeps them all; so the cells of all sheets count together,
//! as does the text the cells copy (a shared string into each cell that uses it, a
//! repeated cell into each repeat).

use super::check_cells;
use crate::error::Result;
use crate::limits::{CELL_BYTES, exceeded};

pub(super) struct Budget {
    /// [`Limits::max_sheet_cells`](crate::Limits::max_sheet_cells).
    cells_limit: u64,
    /// What is left of the call's output budget, for the cells and their text.
    output_limit: u64,
    object_len: usize,
    /// Cells kept so far, over all sheets.
    cells: u64,
    /// Bytes of text the cells copy, over all sheets.
    text: u64,
}

impl Budget {
    pub(super) fn new(cells_limit: u64, output_limit: u64, object_len: usize) -> Self {
        Self {
            cells_limit,
            output_limit,
            object_len,
            cells: 0,
            text: 0,
        }
    }

    /// A sheet whose cells span `rows` × `cols`: calamine keeps a cell for each.
    pub(super) fn sheet(&mut self, sheet: &str, rows: u64, cols: u64) -> Result<()> {
        check_cells(sheet, rows, cols, self.cells_limit)?;
        self.cells = self.cells.saturating_add(rows.saturating_mul(cols));
        if self.cells > self.cells_limit {
            return Err(exceeded(
                "max_sheet_cells",
                format!(
                    "the workbook's sheets span {} cells together, more than the {} cells \
                     allowed (.xls and .ods workbooks are read whole, every sheet at once)",
                    self.cells, self.cells_limit
                ),
            ));
        }
        Ok(())
    }

    /// What calamine builds, in bytes: its cells and the text they copy. The text is checked
    /// as it is counted; the whole is charged to the call's output budget once the scan is
    /// done, before calamine opens the workbook.
    pub(super) fn produced(&self) -> u64 {
        self.text
            .saturating_add(self.cells.saturating_mul(CELL_BYTES))
    }

    /// Cells calamine sets aside for a while when it reads a sheet, `what` saying how many
    /// and why (a declared dimension, the rows before their repeats).
    pub(super) fn passing(&self, sheet: &str, cells: u64, what: &str) -> Result<()> {
        if cells > self.cells_limit {
            return Err(exceeded(
                "max_sheet_cells",
                format!(
                    "sheet {sheet:?} {what}, more than the {} cells allowed",
                    self.cells_limit
                ),
            ));
        }
        Ok(())
    }

    /// `bytes` more of text that the cells copy; `how` says where the copies come from.
    pub(super) fn text(&mut self, bytes: u64, how: &str) -> Result<()> {
        self.text = self.text.saturating_add(bytes);
        if self.text > self.output_limit {
            return Err(exceeded(
                "max_decoded_size",
                format!(
                    "the workbook's cells would hold at least {} bytes of text once {how}, \
                     more than the {} bytes left of this call's output budget, for a \
                     {}-byte object",
                    self.text, self.output_limit, self.object_len
                ),
            ));
        }
        Ok(())
    }
}
