# Sourced by profile.sh and ab.sh: starts s3s-fs (from a run of run.sh) on an empty root
# `$root` at port `$port`, stops it when the script exits, and exports what the compare
# binary reads (S3_ENDPOINT, S3_BUCKET, the keys, S3_WARMUP_KEY with its tiny object).
rm -rf "$root" && mkdir -p "$root/bench/warmup"
target/compare-tools/bin/s3s-fs --host 127.0.0.1 --port "$port" --access-key bench-access-key \
    --secret-key bench-secret-key-0123456789 "$root" 2>/dev/null &
server=$!
trap 'kill $server' EXIT
sleep 1
export S3_ENDPOINT=http://127.0.0.1:$port S3_BUCKET=bench S3_ACCESS_KEY=bench-access-key \
    S3_SECRET_KEY=bench-secret-key-0123456789 S3_WARMUP_KEY=warmup/tiny.csv \
    AWS_EC2_METADATA_DISABLED=true
printf 'a,b\n1,2\n' > "$root/bench/warmup/tiny.csv"
