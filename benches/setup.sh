# Shared by benches/compare/run.sh and benches/lazy/run.sh (sourced from the repository's
# root): the venv of Python contenders and the s3s-fs server binary, both cached under
# target/ and installed only when missing or out of date.

step() { echo "== $*"; }

timed() {
    local start=$SECONDS
    "$@"
    echo "   took $((SECONDS - start)) s"
}

# The venv of benches/compare/requirements.txt in target/compare-venv, reinstalled when the
# requirements change.
compare_venv=target/compare-venv
ensure_compare_venv() {
    local requirements=benches/compare/requirements.txt
    if ! cmp -s "$requirements" "$compare_venv/.requirements" 2>/dev/null; then
        step "python contenders into $compare_venv (pip, $requirements)"
        install_venv() {
            python3 -m venv "$compare_venv"
            "$compare_venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
            cp "$requirements" "$compare_venv/.requirements"
        }
        timed install_venv
    fi
}

# s3s-fs 0.14.1, the out-of-process server both benchmarks talk to.
s3s_fs=target/compare-tools/bin/s3s-fs
ensure_s3s_fs() {
    if [ ! -x "$s3s_fs" ]; then
        step "S3 server: cargo install s3s-fs 0.14.1 into target/compare-tools"
        timed cargo install s3s-fs --version 0.14.1 --features binary --locked \
            --root target/compare-tools --quiet
    fi
}
