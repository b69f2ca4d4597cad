//! What listings and `head` return: [`BucketInfo`], [`ObjectInfo`], [`VersionInfo`] and
//! [`ObjectMeta`], and [`Listing`], a `Vec` of them that shows itself as a table, in text and,
//! in notebooks, as HTML (the display of [`Data`](crate::Data) lives with the formats); sizes
//! and times for people. Plain data: the verbs that fill them live above, with the connector.

use std::collections::HashMap;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::time::SystemTime;

use s3io_formats::for_s3io::iso_datetime;
use s3io_formats::for_s3io::{evcxr_emit, html_table, text_table};

/// A bucket, as [`S3Connector::list_buckets`](crate::S3Connector::list_buckets) reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BucketInfo {
    /// The bucket's name.
    pub name: String,
    /// When the bucket was created, if the server says.
    pub created: Option<SystemTime>,
}

/// An object, as a listing reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectInfo {
    /// The object's key.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
    /// When it was last written.
    pub last_modified: Option<SystemTime>,
    /// Its entity tag, with quotes, as S3 sends it.
    pub etag: Option<String>,
    /// Its storage class, such as `STANDARD`.
    pub storage_class: Option<String>,
}

/// One version of an object, or a delete marker, as
/// [`S3Connector::list_versions`](crate::S3Connector::list_versions) reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VersionInfo {
    /// The object's key.
    pub key: String,
    /// The version id (`null` for objects written before versioning was turned on).
    pub version_id: String,
    /// Whether this is the current version.
    pub is_latest: bool,
    /// Whether this is a delete marker rather than data.
    pub is_delete_marker: bool,
    /// Size in bytes; 0 for delete markers.
    pub size: u64,
    /// When this version was written.
    pub last_modified: Option<SystemTime>,
    /// The entity tag; none for delete markers.
    pub etag: Option<String>,
}

/// What S3 knows about an object, from a `HeadObject` request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectMeta {
    /// The bucket.
    pub bucket: String,
    /// The key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// The Content-Type stored with the object.
    pub content_type: Option<String>,
    /// The entity tag, with quotes, as S3 sends it.
    pub etag: Option<String>,
    /// When the object was last written.
    pub last_modified: Option<SystemTime>,
    /// The version id, when the bucket has versioning on.
    pub version_id: Option<String>,
    /// User metadata (`x-amz-meta-*`), without the prefix.
    pub metadata: HashMap<String, String>,
    /// The storage class, when S3 names one (it leaves STANDARD out of HEAD answers).
    pub storage_class: Option<String>,
    /// The server-side encryption: `AES256`, `aws:kms`, ...
    pub encryption: Option<String>,
    /// The KMS key of SSE-KMS.
    pub kms_key_id: Option<String>,
    /// The Cache-Control header stored with the object.
    pub cache_control: Option<String>,
    /// The Content-Disposition header stored with the object.
    pub content_disposition: Option<String>,
}

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
