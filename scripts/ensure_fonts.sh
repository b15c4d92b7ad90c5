#!/usr/bin/env bash
# Install Debian's Noto CJK fonts when they are missing: the static map (PNG/PDF) and the browser
# draw Chinese and Russian with them (Noto Sans CJK covers Latin, Cyrillic and CJK).
set -euo pipefail
FONT=/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
if [ -f "$FONT" ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "ensure_fonts: $FONT is missing; installing Debian's fonts-noto-cjk with apt-get" >&2
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq fonts-noto-cjk
test -f "$FONT"
