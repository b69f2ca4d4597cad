#!/usr/bin/env bash
# A 3-node Garage cluster (replication factor 3) on 127.0.0.1, for the conformance suite and
# the node-failure test (tests/it/conformance/, docs/testing.md).
#
#   bash scripts/garage-cluster.sh install     # cargo install garage into the cache, once
#   bash scripts/garage-cluster.sh start       # install if needed, start, connect, lay out
#   eval "$(bash scripts/garage-cluster.sh env)"   # the S3IO_GARAGE_* variables for the tests
#   bash scripts/garage-cluster.sh kill N      # SIGKILL node N (1-3)
#   bash scripts/garage-cluster.sh restart N   # start node N again
#   bash scripts/garage-cluster.sh status
#   bash scripts/garage-cluster.sh stop        # stop every node and remove the cluster's data
#
# GARAGE_CACHE (default target/garage) holds the garage binary, reused when present: building
# it takes tens of minutes on 2 cores, so CI never builds it and runs the Garage suite only
# when a cached binary exists. GARAGE_CLUSTER_DIR (default target/garage-cluster) holds the
# nodes' configs, data and logs. Node i listens for S3 on 127.0.0.1:39i0 and RPC on 39i1.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
version=2.5.0
cache=${GARAGE_CACHE:-$root/target/garage}
dir=${GARAGE_CLUSTER_DIR:-$root/target/garage-cluster}
garage=$cache/bin/garage
# A fixed test key: Garage key ids are GK + 24 hex digits, secrets 64 hex digits.
key_id=GK5133105c8c1e2ab1d1e2f3a4
secret=9c2f5b7e1d4a3c6b8e0f2a4c6e8b0d2f4a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b
rpc_secret=4425f5c26c5e11581d3223904324dcb5b5d5dfb14e5e7f35e38c595424f5f1e6

s3_port() { echo $((3900 + 10 * $1)); }
rpc_port() { echo $((3901 + 10 * $1)); }
g() { "$garage" -c "$dir/n1/garage.toml" "$@"; }

install() {
    if [ -x "$garage" ] && "$garage" --version 2>/dev/null | grep -q "$version"; then
        echo "garage: $garage ($("$garage" --version | head -1))"
        return
    fi
    echo "== cargo install garage $version into $cache (tens of minutes on 2 cores, once)"
    local start=$SECONDS
    cargo install garage --version "$version" --locked --root "$cache"
    echo "garage built in $((SECONDS - start)) s"
}

config() {
    local i=$1
    mkdir -p "$dir/n$i/meta" "$dir/n$i/data"
    cat > "$dir/n$i/garage.toml" <<EOF
metadata_dir = "$dir/n$i/meta"
data_dir = "$dir/n$i/data"
db_engine = "lmdb"
lmdb_map_size = "1G"
replication_factor = 3
rpc_secret = "$rpc_secret"
rpc_bind_addr = "127.0.0.1:$(rpc_port "$i")"
rpc_public_addr = "127.0.0.1:$(rpc_port "$i")"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$(s3_port "$i")"
root_domain = ".s3.garage.localhost"
EOF
}

start_node() {
    local i=$1
    nohup "$garage" -c "$dir/n$i/garage.toml" server >> "$dir/n$i/log" 2>&1 &
    echo $! > "$dir/n$i/pid"
}

wait_for() {
    local what=$1 tries=$2
    shift 2
    for _ in $(seq "$tries"); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 1
    done
    echo "garage-cluster: $what did not happen in ${tries} s" >&2
    return 1
}

healthy() { [ "$(g status 2>/dev/null | grep -c 'HEALTHY NODES' || true)" -ge 1 ] && [ "$(g status 2>/dev/null | grep -cE '^[0-9a-f]{16} ' || true)" -ge 3 ]; }

start() {
    install
    if [ -f "$dir/n1/pid" ] && kill -0 "$(cat "$dir/n1/pid")" 2>/dev/null; then
        echo "garage-cluster: already running (stop it first)"
        return
    fi
    rm -rf "$dir"
    for i in 1 2 3; do config "$i"; start_node "$i"; done
    for i in 1 2 3; do
        wait_for "node $i answering" 30 "$garage" -c "$dir/n$i/garage.toml" node id -q
    done
    for i in 2 3; do
        g node connect "$("$garage" -c "$dir/n$i/garage.toml" node id -q)" >/dev/null
    done
    for i in 1 2 3; do
        local id
        id=$("$garage" -c "$dir/n$i/garage.toml" node id -q | cut -d@ -f1)
        g layout assign -z "dc$i" -c 1G "$id" >/dev/null
    done
    g layout apply --version 1 >/dev/null
    g key import --yes -n s3io-test "$key_id" "$secret" >/dev/null
    g key allow --create-bucket s3io-test >/dev/null
    wait_for "three healthy nodes" 30 healthy
    echo "garage-cluster: 3 nodes up in $dir"
    env_vars
}

env_vars() {
    cat <<EOF
export S3IO_GARAGE_ENDPOINT=http://127.0.0.1:$(s3_port 1)
export S3IO_GARAGE_ACCESS_KEY_ID=$key_id
export S3IO_GARAGE_SECRET_ACCESS_KEY=$secret
export S3IO_GARAGE_REGION=garage
export S3IO_GARAGE_CLUSTER=$root/scripts/garage-cluster.sh
EOF
}

kill_node() {
    local pid
    pid=$(cat "$dir/n$1/pid")
    kill -9 "$pid" 2>/dev/null || true
    # Wait until the process is gone, so that a restart can bind its ports.
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}

stop() {
    for i in 1 2 3; do
        [ -f "$dir/n$i/pid" ] && kill_node "$i"
    done
    rm -rf "$dir"
    echo "garage-cluster: stopped"
}

case "${1:-}" in
    install) install ;;
    start) start ;;
    env) env_vars ;;
    kill) kill_node "${2:?which node}" ;;
    restart) start_node "${2:?which node}" ;;
    status) g status ;;
    stop) stop ;;
    *) sed -n '2,16p' "$0"; exit 2 ;;
esac
