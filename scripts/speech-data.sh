#!/usr/bin/env bash
# Installs the speech data and tools Whetstone's Whisper tests and examples use, from
# Debian packages: pocketsphinx-testdata (5 LibriVox clips with transcripts, BSD-2, under
# /usr/share/pocketsphinx/test/data/librivox/). Idempotent; needs root or sudo.
set -euo pipefail
want=()
for pkg in pocketsphinx-testdata espeak-ng; do
    dpkg -s "$pkg" > /dev/null 2>&1 || want+=("$pkg")
done
if [ ${#want[@]} -eq 0 ]; then
    echo "speech-data: present"
    exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${want[@]}"
