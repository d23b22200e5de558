#!/usr/bin/env bash
# Installs what is missing, then configures and builds everything (Release) in ./build.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bash "$root/deploy/local/install-deps.sh"
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$root/build" -j "$(nproc)"
