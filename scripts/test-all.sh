#!/usr/bin/env bash
# The test command from the README: installs the Debian packages the interop tests need (when missing
# and when run as root), then builds and runs every test, interop tests included.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ]; then
  ./scripts/install-peers.sh
else
  echo "test-all: not root; assuming the peers listed in scripts/install-peers.sh are installed" >&2
fi
exec mvn -B -Dinterop.skip=false verify "$@"
