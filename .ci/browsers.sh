#!/usr/bin/env bash
# Installs Debian's Chromium, as root, when /usr/bin/chromium is missing: the web console's
# browser tests (tests/console) drive it with Playwright. Quiet and non-interactive.
set -euo pipefail
if [ ! -x /usr/bin/chromium ]; then
    apt-get update -qq || { echo "browsers: apt-get update failed" >&2; exit 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null \
        || { echo "browsers: could not install chromium" >&2; exit 1; }
fi
echo "browsers: $(/usr/bin/chromium --version 2>/dev/null | head -1)"
