#!/usr/bin/env bash
# Installs from Debian's packages, as root, the programs that tests drive when they are missing:
# Java and Maven (the DSP test kit, `make conformance`). Go comes with the machine; without it
# .ci/cometbft.sh says so and the CometBFT tests are skipped.
set -euo pipefail
missing=()
command -v java >/dev/null || missing+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || missing+=(maven)
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq || { echo "tools: apt-get update failed" >&2; exit 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
        || { echo "tools: could not install ${missing[*]}" >&2; exit 1; }
fi
echo "tools: $(java -version 2>&1 | head -1); $(mvn -v 2>/dev/null | head -1)"
