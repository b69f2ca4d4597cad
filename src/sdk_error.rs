//! AWS SDK errors as s3io [`Error`]s: the S3 error code and request id kept, the kind chosen
//! from the code, and one line that says what happened.

use std::error::Error as StdError;

use s3io_formats::{Error, ErrorKind};

/// Converts an AWS SDK error, keeping the S3 error code and request id.
pub(crate) fn from_sdk<E>(
    err: aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> Error
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
    use aws_sdk_s3::operation::RequestId;

    let request_id = err.request_id().map(str::to_owned);
    let status = err.raw_response().map(|r| r.status().as_u16());
    let code = err.code().map(str::to_owned);
    let (kind, message) = match &err {
        SdkError::ServiceError(_) => {
            let kind = ErrorKind::for_s3_code(code.as_deref(), status);
            let message = match (code.as_deref(), err.message()) {
                (Some(c), Some(m)) => format!("{c}: {m}"),
                (Some(c), None) => match standard_message(c) {
                    Some(m) => format!("{c}: {m}"),
                    None => c.to_owned(),
                },
                (None, _) => match status {
                    Some(404) => "NotFound: no such bucket or key (HTTP 404)".to_owned(),
                    Some(403) => "Forbidden: access denied (HTTP 403)".to_owned(),
                    Some(s) => format!(
                        "HTTP {s} without an S3 error in the body (a proxy or load \
                         balancer may have answered instead of S3)"
                    ),
                    None => "S3 answered with an error".to_owned(),
                },
            };
            (kind, message)
        }
        _ if chain_has_credentials_error(&err) => (
            ErrorKind::Credentials,
            format!("no usable AWS credentials: {}", innermost(&err)),
        ),
        SdkError::TimeoutError(_) => (ErrorKind::Transport, "the request timed out".to_owned()),
        SdkError::DispatchFailure(_) => (
            ErrorKind::Transport,
            format!("could not reach S3: {}", innermost(&err)),
        ),
        SdkError::ResponseError(_) => (
            ErrorKind::Transport,
            format!("S3's response could not be read: {}", innermost(&err)),
        ),
        SdkError::ConstructionFailure(_) => (
            ErrorKind::InvalidInput,
            format!("the request could not be built: {}", innermost(&err)),
        ),
        _ => (ErrorKind::Service, innermost(&err)),
    };
    Error::new(kind, message)
        .with_service_details(code, request_id)
        .with_source(err)
}

/// The message AWS S3 sends with common error codes, for servers that send only the code.
fn standard_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "NoSuchKey" => "The specified key does not exist.",
        "NoSuchBucket" => "The specified bucket does not exist.",
        "AccessDenied" => "Access Denied",
        "InvalidAccessKeyId" => "The AWS Access Key Id you provided does not exist in our records.",
        "SignatureDoesNotMatch" => {
            "The request signature we calculated does not match the signature you provided. \
             Check your key and signing method."
        }
        "BucketNotEmpty" => "The bucket you tried to delete is not empty.",
        "NotImplemented" => {
            "This server does not implement the operation (S3-compatible servers such as Garage \
             leave some out, e.g. object versions)."
        }
        "InvalidBucketName" => {
            "The specified bucket is not valid (3 to 63 characters: lower-case letters, digits, \
             dots and hyphens)."
        }
        _ => return None,
    })
}

/// Whether a credentials provider failure is anywhere in the chain.
fn chain_has_credentials_error(err: &(dyn StdError + 'static)) -> bool {
    std::iter::successors(Some(err), |&e| e.source())
        .any(|e| e.is::<aws_credential_types::provider::error::CredentialsError>())
}

/// The text of the deepest cause, which is usually the one that says what happened.
fn innermost(err: &(dyn StdError + 'static)) -> String {
    std::iter::successors(Some(err), |&e| e.source())
        .last()
        .map(|e| e.to_string())
        .unwrap_or_default()
}
