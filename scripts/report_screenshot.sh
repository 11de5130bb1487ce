#!/usr/bin/env bash
# Render a run's HTML report in headless Chromium and save a PNG screenshot.
#   [HEIGHT=px] scripts/report_screenshot.sh RUN_DIR [OUT_PNG]   (page height, default 2600)
# Installs Debian's chromium when it is missing (needs root and the package registry).
set -euo pipefail
run_dir=${1:?usage: scripts/report_screenshot.sh RUN_DIR [OUT_PNG]}
out=${2:-$run_dir/report_screenshot.png}
py=${PYTHON:-.venv/bin/python}
if ! command -v chromium >/dev/null 2>&1; then
    apt-get install -y -q chromium >/dev/null
fi
[ -f "$run_dir/report.html" ] || "$py" -m bootdrift_avalanche.cli report "$run_dir"
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
# Flags: no sandbox as root, and no background networking (the machine has no internet).
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --hide-scrollbars --window-size=1280,"${HEIGHT:-2600}" \
    --screenshot="$(realpath -m "$out")" "file://$(realpath "$run_dir/report.html")" 2>/dev/null
echo "screenshot: $out"
