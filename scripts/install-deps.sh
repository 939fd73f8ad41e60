#!/usr/bin/env bash
# Installs every Debian package Stargate needs to build, test and benchmark,
# and the dashboard's npm packages (web/package-lock.json) into
# web/node_modules. Idempotent; needs root (CI and developer machines run
# as root).
set -euo pipefail
PKGS=(
  build-essential cmake ninja-build pkg-config git
  libabsl-dev libyaml-cpp-dev nlohmann-json3-dev libfmt-dev libcli11-dev
  libsqlite3-dev libcpp-httplib-dev libssl-dev zlib1g-dev libbrotli-dev
  libgrpc++-dev protobuf-compiler-grpc protobuf-compiler libprotobuf-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev clang-format time python3 python3-yaml curl
  slurm-wlm munge
  python3-torch python3-sklearn iproute2 libxgboost-dev coinor-libclp-dev
  etcd-server etcd-client
  prometheus wrk valgrind
  podman runc passwd
  chromium nodejs
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
# npm: Debian's, unless the installed nodejs brings its own.
if ! command -v npm > /dev/null; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get install -y --no-install-recommends npm
fi
# The dashboard: Preact and htm, and playwright-core for its browser test.
WEB="$(cd "$(dirname "$0")/.." && pwd)/web"
if [ ! -f "$WEB/node_modules/.package-lock.json" ] || [ "$WEB/package-lock.json" -nt "$WEB/node_modules/.package-lock.json" ]; then
  (cd "$WEB" && npm ci --no-audit --no-fund --loglevel=error)
fi
