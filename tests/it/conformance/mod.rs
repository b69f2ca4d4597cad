//! The conformance suite: what s3io does against an S3 server, written once as functions of a
//! [`Target`] and run against every server ([`target`] says which and how they are chosen),
//! as object_store's `integration.rs` runs one suite against every backend.
//!
//! Each case becomes one test per server, named `conformance::<server>::<case>`, so
//! `cargo test conformance::moto::` runs the moto column.

mod access;
mod dataset;
mod in_parts;
#[cfg(feature = "lazy")]
mod lazy;
mod node_failure;
mod objects;
mod read_less;
mod roundtrip;
mod servers;
mod target;
pub mod transfer;

use target::{Server, Target};

/// One test per server for each case: `embedded::<case>`, `moto::<case>`, `garage::<case>`;
/// a case's attributes (such as `#[cfg(feature = "lazy")]`) go on each of its tests.
macro_rules! conformance {
    ($($(#[$when:meta])* $file:ident :: $case:ident),* $(,)?) => {
        conformance!(@server embedded, Server::Embedded; $($(#[$when])* $file::$case),*);
        conformance!(@server moto, Server::Moto; $($(#[$when])* $file::$case),*);
        conformance!(@server garage, Server::Garage; $($(#[$when])* $file::$case),*);
    };
    (@server $server:ident, $kind:expr; $($(#[$when:meta])* $file:ident :: $case:ident),*) => {
        mod $server {
            use super::*;
            $(
                $(#[$when])*
                #[tokio::test]
                async fn $case() {
                    if let Some(t) = Target::start($kind, stringify!($case)).await {
                        $file::$case(&t).await;
                        t.finish().await;
                    }
                }
            )*
        }
    };
}

conformance! {
    #[cfg(feature = "lazy")]
    lazy::lazy_scans_and_sinks_read_and_write_what_the_eager_api_does,
    #[cfg(feature = "lazy")]
    lazy::lazy_parquet_scans_fetch_only_the_columns_asked_for,
    read_less::parquet_reads_only_the_footer_and_the_chunks_asked_for,
    read_less::parquet_footers_past_the_first_read_and_hostile_ones,
    read_less::first_rows_of_csv_and_ndjson_read_only_a_prefix,
    read_less::first_rows_of_arrow_ipc_read_the_footer_and_a_prefix,
    access::upload_options_reach_the_server,
    access::unsigned_requests_carry_no_signature,
    access::requester_pays_is_sent_with_every_request,
    access::checksums_are_chosen_and_corrupt_bodies_are_caught,
    access::upload_bodies_are_signed_as_asked_and_the_server_takes_them,
    dataset::datasets_round_trip_with_escaped_hive_partitions,
    dataset::dataset_overwrites_replace_only_their_own_prefix,
    dataset::dataset_overwrite_failing_part_way_leaves_the_old_data,
    dataset::dataset_reads_are_bounded_per_file_and_per_call,
    dataset::pyarrow_reads_what_s3io_wrote_and_s3io_reads_pyarrow,
    dataset::s3io_reads_what_awswrangler_wrote,
    objects::listing_pages_past_a_thousand_keys,
    objects::listing_filters_and_folders,
    objects::globs_match_keys_and_list_only_the_literal_prefix,
    objects::uris_name_keys_with_spaces_unicode_and_symbols,
    objects::download_many_stacks_mixed_formats_by_column_name,
    objects::head_exists_and_user_metadata,
    objects::deletes_one_many_and_by_prefix_with_dry_run,
    objects::copies_and_renames_server_side,
    objects::prefixes_copy_server_side_keeping_relative_paths,
    objects::large_copies_go_in_parts,
    objects::buckets_exist_empty_and_force_delete,
    objects::waiters_see_objects_arrive_and_leave,
    objects::presigned_urls_work_with_plain_http,
    roundtrip::frames_round_trip_through_xlsx_json_and_pickle,
    roundtrip::frames_round_trip_through_csv,
    roundtrip::values_round_trip,
    roundtrip::uploads_carry_the_formats_content_type_and_bytes_stay_unchanged,
    roundtrip::buckets_and_objects_are_listed,
    servers::errors_keep_codes_and_request_ids,
    servers::versions_listed_downloaded_and_deleted,
    servers::identity_and_listing_details,
    servers::multipart_uploads_complete_and_leave_nothing_open,
    servers::keys_that_escape_a_download_folder_are_refused,
    in_parts::csv_and_tsv_decode_while_their_parts_arrive,
    in_parts::ndjson_decodes_while_its_parts_arrive,
    in_parts::json_lists_decode_while_their_parts_arrive,
    in_parts::csv_and_parquet_uploads_leave_in_parts_while_encoding,
    transfer::ranged_parallel_download_and_multipart_upload_are_byte_exact,
    transfer::empty_objects_download_as_empty,
    transfer::progress_reports_every_byte_once,
    transfer::folder_transfers_report_each_file_by_key_and_path,
    transfer::files_go_up_and_down_whole,
    transfer::downloads_stream_into_a_writer_in_order,
    transfer::folders_go_up_and_down_and_keys_cannot_escape,
}
