# Sourced by ab.sh and ab-get.sh: `interleave REPS` calls the script's `measure SIDE BIN` for
# the old build ($old) and the new one ($new) in turn, old first in odd runs and new first
# in even ones, REPS times each, appending what it prints to $out.
interleave() {
    local rep side bin sides
    for rep in $(seq "$1"); do
        sides="old new" && [ $((rep % 2)) = 0 ] && sides="new old"
        for side in $sides; do
            bin=$old && [ "$side" = new ] && bin=$new
            measure "$side" "$bin" | tee -a "$out"
        done
    done
}
