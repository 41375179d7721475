#!/usr/bin/env bash
# Install CometBFT (the Go consensus engine our ledger app also runs under) into build/go,
# cached between runs: GOPATH, GOCACHE and the binary all live under the ignored build/ folder.
# Skips when the pinned version is already there; exits 0 with a notice when Go is absent.
set -euo pipefail
VERSION="${COMETBFT_VERSION:-v0.38.26}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
GOROOT_DIR="$ROOT/build/go"
BIN="$GOROOT_DIR/bin/cometbft"
if ! command -v go >/dev/null 2>&1; then
  echo "cometbft: Go is not installed; the CometBFT tests will be skipped." >&2
  exit 0
fi
if [ -x "$BIN" ] && "$BIN" version 2>/dev/null | grep -qx "${VERSION#v}"; then
  echo "cometbft ${VERSION#v} already in $BIN"
  exit 0
fi
mkdir -p "$GOROOT_DIR"
export GOPATH="$GOROOT_DIR/path" GOCACHE="$GOROOT_DIR/cache" GOBIN="$GOROOT_DIR/bin"
export GOFLAGS="${GOFLAGS:-} -modcacherw"
start=$(date +%s)
go install "github.com/cometbft/cometbft/cmd/cometbft@$VERSION"
echo "cometbft $("$BIN" version) installed in $BIN in $(( $(date +%s) - start )) s"
