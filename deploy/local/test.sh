#!/usr/bin/env bash
# Builds everything and runs every test: unit, integration (real servers on
# port 0, RocksDB in temp dirs) and the kill -9 durability test.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bash "$root/deploy/local/build.sh"
cd "$root/build"
ctest --output-on-failure -j 2 --timeout 600
