//! Building connectors: builder, SDK config, raw client, and secrets kept out of Debug.

use s3io::S3Connector;

use crate::support::*;

#[tokio::test]
async fn debug_never_shows_secrets() {
    let builder = S3Connector::builder()
        .credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG")
        .session_token("FQoGZXIvYXdzEJr-token");
    let shown = format!("{builder:?}");
    assert!(
        shown.contains("AKIDEXAMPLE"),
        "the key id helps debugging: {shown}"
    );
    assert!(
        !shown.contains("wJalrXUtnFEMI") && !shown.contains("FQoGZXIvYXdzEJr"),
        "{shown}"
    );
    let s3 = builder.region("eu-west-1").build().await.unwrap();
    let shown = format!("{s3:?}");
    assert!(
        !shown.contains("wJalrXUtnFEMI") && !shown.contains("FQoGZXIvYXdzEJr"),
        "{shown}"
    );
    assert!(shown.contains("eu-west-1"), "{shown}");
}

#[tokio::test]
async fn connectors_from_sdk_config_and_from_client_reach_the_server() {
    let t = start().await;
    t.s3.upload(BUCKET, "x.txt", "hi").await.unwrap();

    let from_client = S3Connector::from_client(t.s3.client().clone());
    assert_eq!(
        from_client.download_text(BUCKET, "x.txt").await.unwrap(),
        "hi"
    );

    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(t.server.endpoint_url())
        .credentials_provider(aws_credential_types::Credentials::new(
            s3io::local::ACCESS_KEY_ID,
            s3io::local::SECRET_ACCESS_KEY,
            None,
            None,
            "test",
        ))
        .load()
        .await;
    // A custom endpoint turns on path-style addressing by itself.
    let from_sdk = S3Connector::from_sdk_config(&sdk);
    assert_eq!(from_sdk.download_text(BUCKET, "x.txt").await.unwrap(), "hi");
}
