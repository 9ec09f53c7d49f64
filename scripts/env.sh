# Shared settings for Whetstone's scripts; sourced, not run.
#
# One cargo target directory outside the clone, so that every clone on this machine
# (CI's fresh clones included) builds incrementally on the previous one.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/whetstone/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

# Checks that cargo is there; nothing else is needed for the CPU build.
whet_require_cargo() {
    if ! command -v cargo >/dev/null 2>&1; then
        echo "error: cargo not found: install Rust $(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml) or newer (https://rustup.rs)" >&2
        exit 1
    fi
}

# apt-get install the named Debian packages when any is missing (root or sudo).
whet_apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "installing Debian packages: ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# The fonts synth-docs renders with (../shared/ASSETS.md): a synthetic dataset depends on
# which are installed, so every script that synthesises training data installs them all.
whet_fonts() {
    whet_apt_install fonts-dejavu-core fonts-liberation fonts-liberation2 fonts-noto-mono fonts-ocr-b
}

# The median of the numbers on standard input, one per line.
whet_median() {
    sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
