//! `s3io stat`: what S3 keeps about one object, as text or JSON.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::time::SystemTime;

use clap::Args;
use s3io::{ObjectMeta, S3Uri};
use serde_json::{Value, json};

use super::Context;
use crate::arguments::{COMMAND_HELP, object_uri};
use crate::failure::{Outcome, stdout_failed};

/// What `s3io stat --help` says below the one-line summary.
const DETAILS: &str = "\
Prints an object's size, ETag, Content-Type, last-modified time (UTC), storage class,
server-side encryption, user metadata (x-amz-meta-*), tags and version id, one a line, or
with --json as one JSON object. Tags the server will not tell (no permission for
GetObjectTagging, or a server without tags) show as unknown (null in JSON), with why.";

/// Show an object's metadata: size, ETag, type, time, class, encryption, metadata, tags
#[derive(Args)]
#[command(help_template = COMMAND_HELP, before_help = DETAILS)]
pub struct StatArgs {
    /// The object
    #[arg(value_name = "s3://bucket/key", value_parser = object_uri)]
    uri: S3Uri,

    /// One version of the object
    #[arg(long, value_name = "ID")]
    version_id: Option<String>,

    /// As JSON, for scripts
    #[arg(long)]
    json: bool,
}

/// What `stat` shows beyond the library's `ObjectMeta`.
struct Extra {
    storage_class: Option<String>,
    encryption: Option<String>,
    kms_key_id: Option<String>,
    bucket_key: Option<bool>,
    /// The tags, or why they are not known.
    tags: Result<BTreeMap<String, String>, String>,
}

impl Default for Extra {
    fn default() -> Self {
        Extra {
            storage_class: None,
            encryption: None,
            kms_key_id: None,
            bucket_key: None,
            tags: Ok(BTreeMap::new()),
        }
    }
}

impl StatArgs {
    pub async fn run(self, ctx: &Context) -> Outcome {
        let (bucket, key) = (self.uri.bucket(), self.uri.key());
        let mut object = ctx.s3.object(bucket, key);
        if let Some(version) = &self.version_id {
            object = object.version(version);
        }
        // The library's HeadObject names the object in its errors; the SDK's own answers
        // carry the headers ObjectMeta does not keep, and the tags.
        let meta = object.head().await?;
        let extra = extra(ctx, bucket, key, self.version_id.as_deref()).await;
        let mut out = io::BufWriter::new(io::stdout());
        if self.json {
            writeln!(out, "{:#}", as_json(&self.uri, &meta, &extra)).map_err(stdout_failed)?;
        } else {
            write_text(&mut out, &self.uri, &meta, &extra).map_err(stdout_failed)?;
        }
        out.flush().map_err(stdout_failed)
    }
}

async fn extra(ctx: &Context, bucket: &str, key: &str, version: Option<&str>) -> Extra {
    let client = ctx.s3.client();
    let mut extra = Extra::default();
    let head = client
        .head_object()
        .bucket(bucket)
        .key(key)
        .set_version_id(version.map(str::to_owned))
        .send()
        .await;
    if let Ok(head) = head {
        extra.storage_class = head.storage_class().map(|c| c.as_str().to_owned());
        extra.encryption = head.server_side_encryption().map(|e| e.as_str().to_owned());
        extra.kms_key_id = head.ssekms_key_id().map(str::to_owned);
        extra.bucket_key = head.bucket_key_enabled();
    }
    let tagging = client
        .get_object_tagging()
        .bucket(bucket)
        .key(key)
        .set_version_id(version.map(str::to_owned))
        .send()
        .await;
    extra.tags = match tagging {
        Ok(tagging) => Ok(tagging
            .tag_set()
            .iter()
            .map(|tag| (tag.key().to_owned(), tag.value().to_owned()))
            .collect()),
        Err(e) => {
            let service = e.into_service_error();
            let meta = service.meta();
            Err(meta
                .code()
                .or(meta.message())
                .unwrap_or("no answer")
                .to_owned())
        }
    };
    extra
}

/// `2024-01-15T13:45:30Z`.
fn iso_time(at: Option<SystemTime>) -> Option<String> {
    at.map(|at| format!("{}Z", s3io::utc_time(at).replace(' ', "T")))
}

/// S3 leaves the storage class out for STANDARD.
fn storage_class(extra: &Extra) -> &str {
    extra.storage_class.as_deref().unwrap_or("STANDARD")
}

fn encryption_text(extra: &Extra) -> String {
    let Some(algorithm) = &extra.encryption else {
        return "none stated".to_owned();
    };
    let mut text = algorithm.clone();
    if let Some(key) = &extra.kms_key_id {
        text.push_str(&format!(", key {key}"));
    }
    if extra.bucket_key == Some(true) {
        text.push_str(", bucket key");
    }
    text
}

fn write_text(
    out: &mut impl Write,
    uri: &S3Uri,
    meta: &ObjectMeta,
    extra: &Extra,
) -> io::Result<()> {
    let row = |out: &mut dyn Write, name: &str, value: &str| writeln!(out, "{name:<14} {value}");
    row(out, "Object", &uri.to_string())?;
    let size = format!("{} ({})", meta.size, s3io::human_size(meta.size));
    row(out, "Size", &size)?;
    row(
        out,
        "Last modified",
        &crate::output::time(meta.last_modified),
    )?;
    row(out, "ETag", meta.etag.as_deref().unwrap_or("-"))?;
    row(
        out,
        "Content-Type",
        meta.content_type.as_deref().unwrap_or("-"),
    )?;
    row(out, "Storage class", storage_class(extra))?;
    row(out, "Encryption", &encryption_text(extra))?;
    row(out, "Version", meta.version_id.as_deref().unwrap_or("-"))?;
    let metadata: BTreeMap<&String, &String> = meta.metadata.iter().collect();
    if metadata.is_empty() {
        row(out, "Metadata", "-")?;
    }
    for (name, value) in metadata {
        row(out, "Metadata", &format!("{name}={value}"))?;
    }
    match &extra.tags {
        Ok(tags) if tags.is_empty() => row(out, "Tags", "-")?,
        Ok(tags) => {
            for (name, value) in tags {
                row(out, "Tags", &format!("{name}={value}"))?;
            }
        }
        Err(why) => row(out, "Tags", &format!("unknown ({why})"))?,
    }
    Ok(())
}

fn as_json(uri: &S3Uri, meta: &ObjectMeta, extra: &Extra) -> Value {
    let metadata: BTreeMap<&String, &String> = meta.metadata.iter().collect();
    let encryption = extra.encryption.as_ref().map(|algorithm| {
        json!({
            "algorithm": algorithm,
            "kms_key_id": extra.kms_key_id,
            "bucket_key_enabled": extra.bucket_key,
        })
    });
    json!({
        "uri": uri.to_string(),
        "bucket": meta.bucket,
        "key": meta.key,
        "size": meta.size,
        "last_modified": iso_time(meta.last_modified),
        "etag": meta.etag,
        "content_type": meta.content_type,
        "storage_class": storage_class(extra),
        "encryption": encryption,
        "version_id": meta.version_id,
        "metadata": metadata,
        "tags": extra.tags.as_ref().ok(),
        "tags_unknown_because": extra.tags.as_ref().err(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_iso_8601() {
        let at = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_705_326_330);
        assert_eq!(iso_time(Some(at)).as_deref(), Some("2024-01-15T13:45:30Z"));
        assert_eq!(iso_time(None), None);
    }

    #[test]
    fn encryption_reads_as_a_phrase() {
        let extra = Extra {
            encryption: Some("aws:kms".into()),
            kms_key_id: Some("arn:aws:kms:k".into()),
            bucket_key: Some(true),
            ..Extra::default()
        };
        assert_eq!(
            encryption_text(&extra),
            "aws:kms, key arn:aws:kms:k, bucket key"
        );
        assert_eq!(encryption_text(&Extra::default()), "none stated");
        assert_eq!(storage_class(&Extra::default()), "STANDARD");
    }
}
