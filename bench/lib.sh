# bench/lib.sh - what the benchmarks share, sourced (not part of the test suite).
#
#   bench_setup NAME [SIGN_PASSPHRASE]
#
# Sets top (the source tree), sb (the sealbox to time: $SEALBOX, else
# build-rel/sealbox, built in Release when missing), W (a new folder
# /var/tmp/NAME.XXXXXX, removed at exit with the gpg-agent of its keyring)
# and GNUPGHOME (in W) with two keys: ENC, the encryption key (no
# passphrase), and SIGN, the signing key (SIGN_PASSPHRASE, if given).
# Exports the passphrases as sealbox and duplicity read them.
bench_setup() {
    local name=$1 pass=${2:-}
    top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    sb=${SEALBOX:-$top/build-rel/sealbox}
    if [ ! -x "$sb" ]; then
        cmake -S "$top" -B "$top/build-rel" -DCMAKE_BUILD_TYPE=Release -DSEALBOX_TESTS=OFF >/dev/null
        cmake --build "$top/build-rel" -j"$(nproc)" --target sealbox >/dev/null
    fi
    W=$(mktemp -d "/var/tmp/$name.XXXXXX")
    export GNUPGHOME=$W/gnupg
    mkdir -m 700 "$GNUPGHOME"
    trap 'gpgconf --homedir "$GNUPGHOME" --kill all 2>/dev/null; rm -rf "$W"' EXIT
    _bench_gpg --passphrase '' --quick-gen-key 'bench enc <e@bench>' ed25519 sign never
    ENC=$(_bench_fpr 'bench enc')
    _bench_gpg --passphrase '' --quick-add-key "$ENC" cv25519 encr never
    _bench_gpg --passphrase "$pass" --quick-gen-key 'bench sign <s@bench>' ed25519 sign never
    SIGN=$(_bench_fpr 'bench sign')
    export PASSPHRASE='' SIGN_PASSPHRASE=$pass SEALBOX_SIGN_PASSPHRASE=$pass
}

_bench_gpg() { gpg --batch --quiet --pinentry-mode loopback "$@" 2>/dev/null; }
_bench_fpr() { gpg --list-keys --with-colons "$1" 2>/dev/null | awk -F: '/^fpr/{print $10; exit}'; }
