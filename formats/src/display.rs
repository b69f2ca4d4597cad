//! How data shows itself: as text, and as HTML tables in notebooks through evcxr's convention
//! (a method named `evcxr_display` printing the content between `EVCXR_BEGIN_CONTENT` and
//! `EVCXR_END_CONTENT` markers), with plain text as well for terminals and evcxr's REPL. Big
//! frames are cut to their first and last rows, never dumped. The table helpers serve the
//! listings of the `s3io` crate too.

use std::fmt::{self, Write as _};

use polars::prelude::DataFrame;

use crate::data::Data;
use crate::format::table::{Cell, FrameCells, iso_date, iso_datetime};

/// Rows shown at each end of a long table.
const EDGE_ROWS: usize = 5;
/// Characters of text or JSON shown before the rest is cut.
const MAX_TEXT: usize = 4000;

impl Data {
    /// HTML for a notebook: a frame as a table with shape and dtypes, cut to its first and
    /// last rows; values and text as preformatted text, cut when long.
    pub fn to_html(&self) -> String {
        match self {
            Data::Frame(df) => frame_html(df),
            other => format!("<pre>{}</pre>", escape(&cut(&other.to_string(), MAX_TEXT))),
        }
    }

    /// Shows the data in an evcxr notebook.
    pub fn evcxr_display(&self) {
        evcxr_emit(&cut(&self.to_string(), MAX_TEXT), &self.to_html());
    }
}

impl fmt::Display for Data {
    /// Frames as polars prints them (already cut when long), JSON pretty-printed, pickles as
    /// Python would show them, text as is, bytes as a count and the first few.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Data::Frame(df) => write!(f, "{df}"),
            Data::Json(value) => write!(f, "{value:#}"),
            Data::Pickle(value) => write!(f, "{value}"),
            Data::Text(text) => f.write_str(text),
            Data::Bytes(bytes) => {
                let shown = &bytes[..bytes.len().min(32)];
                write!(f, "{} bytes: {shown:02x?}", bytes.len())?;
                if bytes.len() > shown.len() {
                    f.write_str(" …")?;
                }
                Ok(())
            }
        }
    }
}

/// Writes evcxr's rich-output block: plain text and HTML.
#[doc(hidden)]
pub fn evcxr_emit(text: &str, html: &str) {
    println!("EVCXR_BEGIN_CONTENT text/plain\n{text}\nEVCXR_END_CONTENT");
    println!("EVCXR_BEGIN_CONTENT text/html\n{html}\nEVCXR_END_CONTENT");
}

fn frame_html(df: &DataFrame) -> String {
    let (height, width) = df.shape();
    let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
    let dtypes: Vec<String> = df.dtypes().iter().map(|d| d.to_string()).collect();
    let shown = shown_rows(height);
    let rows: Vec<Vec<String>> = match FrameCells::new(df) {
        Ok(cells) => shown
            .iter()
            .map(|&row| {
                (0..width)
                    .map(|col| cell_text(cells.get(col, row)))
                    .collect()
            })
            .collect(),
        // Dtypes cells cannot hold (lists, structs, ...) come through polars' own formatting.
        Err(_) => shown
            .iter()
            .map(|&row| {
                df.columns()
                    .iter()
                    .map(|c| c.get(row).map(|v| v.to_string()).unwrap_or_default())
                    .collect()
            })
            .collect(),
    };
    let mut html = format!("<div><small>shape: ({height}, {width})</small>");
    html.push_str(&html_table(&names, &dtypes, &rows, height));
    html.push_str("</div>");
    html
}

/// The rows to show of `height`: all, or the first and last few.
fn shown_rows(height: usize) -> Vec<usize> {
    if height <= 2 * EDGE_ROWS {
        (0..height).collect()
    } else {
        (0..EDGE_ROWS).chain(height - EDGE_ROWS..height).collect()
    }
}

fn cell_text(cell: Cell<'_>) -> String {
    match cell {
        Cell::Null => "null".to_owned(),
        Cell::Bool(b) => b.to_string(),
        Cell::Int(i) => i.to_string(),
        Cell::Float(x) => x.to_string(),
        Cell::Str(s) => s.into_owned(),
        Cell::Date(d) => iso_date(d),
        Cell::Datetime(us) => iso_datetime(us),
    }
}

/// An HTML table. `rows` holds either every row or, for long tables, the first and last
/// [`EDGE_ROWS`]; `total` says which, so a "…" row marks the cut.
#[doc(hidden)]
pub fn html_table<H: AsRef<str>>(
    headers: &[H],
    subheaders: &[String],
    rows: &[Vec<String>],
    total: usize,
) -> String {
    let mut html = String::from("<table class=\"dataframe\" border=\"1\"><thead><tr>");
    for h in headers {
        let _ = write!(html, "<th>{}</th>", escape(h.as_ref()));
    }
    html.push_str("</tr>");
    if !subheaders.is_empty() {
        html.push_str("<tr>");
        for d in subheaders {
            let _ = write!(html, "<td><small>{}</small></td>", escape(d));
        }
        html.push_str("</tr>");
    }
    html.push_str("</thead><tbody>");
    let cut = total > rows.len();
    for (i, row) in rows.iter().enumerate() {
        if cut && i == rows.len() / 2 {
            let _ = write!(
                html,
                "<tr><td colspan=\"{}\">… {} more rows …</td></tr>",
                headers.len(),
                total - rows.len()
            );
        }
        html.push_str("<tr>");
        for cell in row {
            let _ = write!(html, "<td>{}</td>", escape(&cut_text(cell)));
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table>");
    html
}

/// A plain-text table for listings, cut like the HTML one.
#[doc(hidden)]
pub fn text_table(
    f: &mut fmt::Formatter<'_>,
    headers: &[&str],
    rows: &[Vec<String>],
    total: usize,
) -> fmt::Result {
    let shown = shown_rows(rows.len());
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for &r in &shown {
        for (w, cell) in widths.iter_mut().zip(&rows[r]) {
            *w = (*w).max(cut_text(cell).chars().count());
        }
    }
    let line = |f: &mut fmt::Formatter<'_>, cells: &[String]| -> fmt::Result {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{:<w$}", cut_text(c)))
            .collect();
        writeln!(f, "{}", padded.join("  ").trim_end())
    };
    line(
        f,
        &headers.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
    )?;
    for (i, &r) in shown.iter().enumerate() {
        if total > shown.len() && i == EDGE_ROWS {
            writeln!(f, "… {} more rows …", total - shown.len())?;
        }
        line(f, &rows[r])?;
    }
    write!(f, "({total} rows)")
}

/// A long cell cut to 80 characters.
fn cut_text(cell: &str) -> String {
    cut(cell, 80)
}

fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;

    #[test]
    fn long_frames_are_cut_and_html_is_escaped() {
        let df = df!("x" => (0..100).collect::<Vec<i64>>(), "s" => vec!["<b>&"; 100]).unwrap();
        let html = Data::Frame(df).to_html();
        assert!(html.contains("shape: (100, 2)"));
        assert!(html.contains("… 90 more rows …"));
        assert!(html.contains("<td>99</td>") && !html.contains("<td>50</td>"));
        assert!(html.contains("&lt;b&gt;&amp;") && !html.contains("<b>&"));
        assert!(html.contains("<small>i64</small>"));
    }
}
