#!/usr/bin/env bash
# Renders a capfilt HTML report in headless Chromium and saves a PNG screenshot, to check its
# layout by eye: scripts/screenshot_report.sh REPORT.html [OUT.png] [WIDTH] [HEIGHT]
# Defaults: OUT = REPORT with .png, 1280x2000. Installs Debian's `chromium` if it is missing.
# Network access is switched off, so a report that needed anything from outside would show it.
set -euo pipefail

if [ $# -lt 1 ] || [ ! -f "$1" ]; then
  echo "usage: $0 REPORT.html [OUT.png] [WIDTH] [HEIGHT]" >&2
  exit 2
fi
report=$(realpath "$1")
out=${2:-${report%.html}.png}
width=${3:-1280}
height=${4:-2000}

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  sudo=$([ "$(id -u)" = 0 ] || echo sudo)
  echo "installing chromium (Debian package)" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
  browser=$(command -v chromium)
fi

# A throwaway profile so runs do not share state; the proxy setting makes any network request
# fail instead of reaching the network.
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --user-data-dir="$profile" --no-first-run --disable-extensions \
  --proxy-server="http://127.0.0.1:9" --proxy-bypass-list="<-loopback>" \
  --window-size="$width,$height" --screenshot="$(realpath -m "$out")" \
  "file://$report" 2>"$profile/chromium.log" || { cat "$profile/chromium.log" >&2; exit 1; }
[ -s "$out" ] || { cat "$profile/chromium.log" >&2; echo "no screenshot written" >&2; exit 1; }
echo "$out"
