//! Rich display in notebooks: HTML tables for frames, values, listings and metadata, through
//! evcxr's convention (a method named `evcxr_display` printing the content between
//! `EVCXR_BEGIN_CONTENT` and `EVCXR_END_CONTENT` markers), with plain text as well for
//! terminals and evcxr's REPL. Big frames are cut to their first and last rows, never dumped.

use std::fmt::{self, Write as _};
use std::ops::{Deref, DerefMut};
use std::time::SystemTime;

use polars::prelude::DataFrame;

use crate::connector::BucketInfo;
use crate::data::Data;
use crate::format::table::{Cell, FrameCells, iso_datetime};
use crate::listing::{ObjectInfo, VersionInfo};
use crate::object::ObjectMeta;

/// Rows shown at each end of a long table.
const EDGE_ROWS: usize = 5;
/// Characters of text or JSON shown before the rest is cut.
const MAX_TEXT: usize = 4000;

/// A list of buckets, objects or versions: a `Vec` that also shows itself as a table in
/// notebooks.
///
/// ```
/// use s3io::{BucketInfo, Listing};
///
/// let listing: Listing<BucketInfo> = Listing::from(Vec::new());
/// assert!(listing.is_empty());
/// assert!(listing.to_html().starts_with("<table"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing<T>(pub Vec<T>);

impl<T> Default for Listing<T> {
    fn default() -> Self {
        Listing(Vec::new())
    }
}

impl<T> Extend<T> for Listing<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        self.0.extend(iter);
    }
}

impl<T> Listing<T> {
    /// The items, as a `Vec`.
    pub fn into_vec(self) -> Vec<T> {
        self.0
    }
}

impl<T> Deref for Listing<T> {
    type Target = Vec<T>;
    fn deref(&self) -> &Vec<T> {
        &self.0
    }
}

impl<T> DerefMut for Listing<T> {
    fn deref_mut(&mut self) -> &mut Vec<T> {
        &mut self.0
    }
}

impl<T> From<Vec<T>> for Listing<T> {
    fn from(items: Vec<T>) -> Self {
        Listing(items)
    }
}

impl<T> From<Listing<T>> for Vec<T> {
    fn from(listing: Listing<T>) -> Self {
        listing.0
    }
}

impl<T> IntoIterator for Listing<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a, T> IntoIterator for &'a Listing<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<T> FromIterator<T> for Listing<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Listing(iter.into_iter().collect())
    }
}

/// A type that is one row of a table.
pub trait Row {
    /// The column headers.
    fn headers() -> &'static [&'static str];
    /// This row's cells, as text.
    fn cells(&self) -> Vec<String>;
}

impl Row for BucketInfo {
    fn headers() -> &'static [&'static str] {
        &["name", "created"]
    }
    fn cells(&self) -> Vec<String> {
        vec![self.name.clone(), time(self.created)]
    }
}

impl Row for ObjectInfo {
    fn headers() -> &'static [&'static str] {
        &["key", "size", "last_modified", "etag", "storage_class"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.key.clone(),
            human_size(self.size),
            time(self.last_modified),
            self.etag.clone().unwrap_or_default(),
            self.storage_class.clone().unwrap_or_default(),
        ]
    }
}

impl Row for VersionInfo {
    fn headers() -> &'static [&'static str] {
        &[
            "key",
            "version_id",
            "latest",
            "delete_marker",
            "size",
            "last_modified",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.key.clone(),
            self.version_id.clone(),
            self.is_latest.to_string(),
            self.is_delete_marker.to_string(),
            human_size(self.size),
            time(self.last_modified),
        ]
    }
}

impl<T: Row> Listing<T> {
    /// An HTML table, cut to the first and last rows when long.
    pub fn to_html(&self) -> String {
        let rows: Vec<Vec<String>> = self.0.iter().map(Row::cells).collect();
        html_table(T::headers(), &[], &rows, self.0.len())
    }

    /// Shows the listing as a table in an evcxr notebook.
    pub fn evcxr_display(&self) {
        evcxr_emit(&self.to_string(), &self.to_html());
    }
}

impl<T: Row> fmt::Display for Listing<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<Vec<String>> = self.0.iter().map(Row::cells).collect();
        text_table(f, T::headers(), &rows, self.0.len())
    }
}

impl ObjectMeta {
    /// An HTML table of the metadata, one field a row.
    pub fn to_html(&self) -> String {
        let rows: Vec<Vec<String>> = self.fields().into_iter().map(|(k, v)| vec![k, v]).collect();
        html_table(&["field", "value"], &[], &rows, rows.len())
    }

    /// Shows the metadata as a table in an evcxr notebook.
    pub fn evcxr_display(&self) {
        evcxr_emit(&self.to_string(), &self.to_html());
    }

    fn fields(&self) -> Vec<(String, String)> {
        let mut fields = vec![
            (
                "uri".to_owned(),
                format!("s3://{}/{}", self.bucket, self.key),
            ),
            ("size".to_owned(), human_size(self.size)),
            (
                "content_type".to_owned(),
                self.content_type.clone().unwrap_or_default(),
            ),
            ("etag".to_owned(), self.etag.clone().unwrap_or_default()),
            ("last_modified".to_owned(), time(self.last_modified)),
            (
                "version_id".to_owned(),
                self.version_id.clone().unwrap_or_default(),
            ),
        ];
        let mut metadata: Vec<_> = self.metadata.iter().collect();
        metadata.sort();
        fields.extend(
            metadata
                .into_iter()
                .map(|(k, v)| (format!("x-amz-meta-{k}"), v.clone())),
        );
        fields
    }
}

impl fmt::Display for ObjectMeta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (key, value) in self.fields() {
            writeln!(f, "{key:>14}: {value}")?;
        }
        Ok(())
    }
}

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
fn evcxr_emit(text: &str, html: &str) {
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
        Cell::Date(d) => crate::format::table::iso_date(d),
        Cell::Datetime(us) => iso_datetime(us),
    }
}

/// An HTML table. `rows` holds either every row or, for long tables, the first and last
/// [`EDGE_ROWS`]; `total` says which, so a "…" row marks the cut.
fn html_table<H: AsRef<str>>(
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
fn text_table(
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

/// A size as people read it, in powers of 1024: `312 B`, `1.5 KiB`, `3.2 GiB`. Listings
/// show sizes this way, and so does the command line's `ls --human-readable`.
///
/// ```
/// assert_eq!(s3io::human_size(312), "312 B");
/// assert_eq!(s3io::human_size(1536), "1.5 KiB");
/// assert_eq!(s3io::human_size(5 << 30), "5.0 GiB");
/// ```
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// A timestamp as `2024-01-15 13:45:30 UTC`.
fn time(at: Option<SystemTime>) -> String {
    at.map(|at| format!("{} UTC", utc_time(at)))
        .unwrap_or_default()
}

/// A time as listings show it, to the second in UTC: `2024-01-15 13:45:30`. The command
/// line's `ls` prints object times this way.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let at = UNIX_EPOCH + Duration::from_millis(1_705_326_330_999);
/// assert_eq!(s3io::utc_time(at), "2024-01-15 13:45:30");
/// assert_eq!(s3io::utc_time(UNIX_EPOCH - Duration::from_millis(1)), "1969-12-31 23:59:59");
/// ```
pub fn utc_time(at: SystemTime) -> String {
    let micros = match at.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_micros() as i64,
        Err(e) => -(e.duration().as_micros() as i64),
    };
    let whole_seconds = micros - micros.rem_euclid(1_000_000);
    iso_datetime(whole_seconds).replace('T', " ")
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

    #[test]
    fn listings_show_as_tables() {
        let objects: Listing<ObjectInfo> = (0..3)
            .map(|i| ObjectInfo {
                key: format!("k{i}.csv"),
                size: 1536,
                last_modified: Some(SystemTime::UNIX_EPOCH),
                etag: None,
                storage_class: Some("STANDARD".into()),
            })
            .collect();
        let text = objects.to_string();
        assert!(text.starts_with("key"), "{text}");
        assert!(
            text.contains("k2.csv  1.5 KiB  1970-01-01 00:00:00 UTC"),
            "{text}"
        );
        assert!(text.ends_with("(3 rows)"));
        assert_eq!(objects.to_html().matches("<tr>").count(), 4);
    }
}
