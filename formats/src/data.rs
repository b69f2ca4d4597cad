//! [`Data`]: what a download gives and what an upload takes.

use bytes::Bytes;
use polars::prelude::DataFrame;
use serde::de::DeserializeOwned;

use crate::error::{Error, ErrorKind, Result};

mod value;
pub use value::{PickleValue, PyTimeZone};

/// A decoded object, or a value to encode.
///
/// Downloads pick the variant from the key's extension (see [`Format`](crate::Format));
/// uploads take anything that converts into `Data`, so `upload(bucket, key, &df)`,
/// `upload(bucket, key, "text")` and `upload(bucket, key, &json)` all work.
///
/// ```
/// use s3io_formats::Data;
///
/// let data = Data::from(serde_json::json!([{"a": 1}, {"a": 2}]));
/// let df = data.into_frame().unwrap();
/// assert_eq!(df.shape(), (2, 1));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Data {
    /// A table: from `.csv`, `.xlsx`, or records in `.json` / `.pkl`.
    Frame(DataFrame),
    /// A JSON document.
    Json(serde_json::Value),
    /// A Python value: builtins (dict, list, tuple, str, int, float, bool, None, bytes, set),
    /// and the datetimes, dates, times, timedeltas and Decimals of the standard library. A
    /// pickled pandas DataFrame, Series or numpy array decodes to a [`Data::Frame`] instead.
    Pickle(PickleValue),
    /// UTF-8 text.
    Text(String),
    /// Raw bytes, never decoded; uploaded unchanged whatever the extension.
    Bytes(Bytes),
}

impl Data {
    /// The variant's name, for messages: `a frame`, `a JSON value`, ...
    pub fn kind_name(&self) -> &'static str {
        match self {
            Data::Frame(_) => "a frame",
            Data::Json(_) => "a JSON value",
            Data::Pickle(_) => "a pickle value",
            Data::Text(_) => "text",
            Data::Bytes(_) => "bytes",
        }
    }

    /// The data as text; only [`Data::Text`] is text.
    pub fn into_text(self) -> Result<String> {
        match self {
            Data::Text(text) => Ok(text),
            other => Err(Error::new(
                ErrorKind::Unsupported,
                format!("{} is not text", other.kind_name()),
            )),
        }
    }

    /// Deserializes a JSON or pickle value into any `T: DeserializeOwned`.
    ///
    /// ```
    /// #[derive(serde::Deserialize)]
    /// struct Config { threads: u32 }
    ///
    /// let data = s3io_formats::Data::from(serde_json::json!({"threads": 8}));
    /// let cfg: Config = data.deserialize().unwrap();
    /// assert_eq!(cfg.threads, 8);
    /// ```
    pub fn deserialize<T: DeserializeOwned>(self) -> Result<T> {
        match self {
            Data::Json(value) => serde_json::from_value(value).map_err(|e| {
                Error::new(
                    ErrorKind::Decode,
                    format!("JSON does not fit the type: {e}"),
                )
                .with_source(e)
            }),
            Data::Pickle(value) => serde_pickle::from_value(value.to_serde(true)?).map_err(|e| {
                Error::new(
                    ErrorKind::Decode,
                    format!("pickle does not fit the type: {e}"),
                )
                .with_source(e)
            }),
            other => Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "{} cannot be deserialized into a typed value; only .json and .pkl objects can",
                    other.kind_name()
                ),
            )),
        }
    }
}

impl From<DataFrame> for Data {
    fn from(df: DataFrame) -> Self {
        Data::Frame(df)
    }
}

impl From<&Data> for Data {
    /// Clones the value, so `upload(bucket, key, &data)` keeps `data` for later; frames are
    /// cheap to clone, values and bytes are copied.
    fn from(data: &Data) -> Self {
        data.clone()
    }
}

impl From<&DataFrame> for Data {
    /// Clones the frame, which is cheap: polars columns are reference-counted.
    fn from(df: &DataFrame) -> Self {
        Data::Frame(df.clone())
    }
}

impl From<serde_json::Value> for Data {
    fn from(value: serde_json::Value) -> Self {
        Data::Json(value)
    }
}

impl From<&serde_json::Value> for Data {
    fn from(value: &serde_json::Value) -> Self {
        Data::Json(value.clone())
    }
}

impl From<PickleValue> for Data {
    fn from(value: PickleValue) -> Self {
        Data::Pickle(value)
    }
}

impl From<serde_pickle::Value> for Data {
    fn from(value: serde_pickle::Value) -> Self {
        Data::Pickle(value.into())
    }
}

impl From<String> for Data {
    fn from(text: String) -> Self {
        Data::Text(text)
    }
}

impl From<&str> for Data {
    fn from(text: &str) -> Self {
        Data::Text(text.to_owned())
    }
}

impl From<Bytes> for Data {
    fn from(bytes: Bytes) -> Self {
        Data::Bytes(bytes)
    }
}
