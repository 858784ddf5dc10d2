#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for tradestore and builds it:
# installs the Debian packages that are missing (and only those), then
# configures and builds into build/ with -j2.
#
#   tools/setup.sh            install what is missing, build
#   BUILD_TYPE=Debug tools/setup.sh
#   SANITIZE=address,undefined BUILD_DIR=build-asan tools/setup.sh
#   WITH_BENCH=1 tools/setup.sh   also the benchmarks' baselines (pgloader)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  g++ cmake make pkg-config clang-format
  # tools/check_thread_safety.sh: Clang's analysis of the lock annotations.
  clang-14
  libsqlite3-dev sqlite3
  libpqxx-dev libpq-dev libssl-dev openssl zlib1g-dev
  libabsl-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  postgresql-15 postgresql-client-15 pgbouncer
  # Operations: backups to cloud storage, WAL archiving and PITR, the HA
  # stack (Patroni with etcd, HAProxy), retention tests without waiting.
  rclone pgbackrest patroni etcd-server etcd-client haproxy faketime
  # The man page test renders it; the test binaries print a hung test's
  # backtraces with gdb.
  groff-base gdb
  # The HTML reports' test renders them in headless Chromium.
  chromium fonts-dejavu-core
  # The Python package (pybind11) and its tests, with Debian's python3.
  python3-dev pybind11-dev python3-pytest python3-psycopg2
)
# The benchmarks' baselines (tools/bench/run.sh sets this).
if [[ ${WITH_BENCH:-0} == 1 ]]; then
  packages+=(pgloader)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "setup: need root or sudo to install ${missing[*]}" >&2; exit 2; }
    sudo=(sudo)
  fi
  # Keep package scripts from starting system services (a pgbouncer on 6432,
  # a cluster on 5432): tradestore starts its own, on free ports.
  policy=/usr/sbin/policy-rc.d
  added_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod +x "$policy"
    added_policy=1
  fi
  trap '[[ $added_policy == 1 ]] && "${sudo[@]}" rm -f "$policy"' EXIT
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
fi

# The cloud storage emulators the backup tests run against (azurite for
# Azure Blob, s3rver for S3), pinned by tools/emulators/package-lock.json.
# Node 20 comes with the machines; without it those tests say they skip.
if [[ ! -x tools/emulators/node_modules/.bin/azurite ]] &&
  command -v npm >/dev/null; then
  npm ci --prefix tools/emulators --no-audit --no-fund --loglevel=error
fi

# promtool, Prometheus's rule checker, for the monitoring test: taken out of
# Debian's prometheus package without installing it, as the package would
# add a user and enable a Prometheus service.
if ! command -v promtool >/dev/null && [[ ! -x tools/.deps/promtool ]]; then
  deb_dir=$(mktemp -d)
  chmod 755 "$deb_dir"  # apt fetches as _apt
  if (cd "$deb_dir" && apt-get download -qq prometheus 2>/dev/null); then
    mkdir -p tools/.deps
    dpkg-deb --fsys-tarfile "$deb_dir"/prometheus_*.deb |
      tar -x -O ./usr/bin/promtool >tools/.deps/promtool
    chmod +x tools/.deps/promtool
  else
    echo "setup: could not fetch Debian's prometheus package;" \
      "the monitoring test will not run" >&2
  fi
  rm -rf "$deb_dir"
fi

build_type=${BUILD_TYPE:-RelWithDebInfo}
build_dir=${BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE="$build_type" \
  -DTRADESTORE_SANITIZE="${SANITIZE:-}" >/dev/null
cmake --build "$build_dir" -j2
echo "setup: built $build_dir/tools/tradestore ($build_type)"

# Makes python3 import the package just built (python3 -c "import
# tradestore"): a .pth file in the user's site-packages names the build
# tree. `cmake --install` is the way to install it for every user.
if [[ -f "$build_dir/python/tradestore/__init__.py" ]] &&
  site=$(/usr/bin/python3 -c 'import site, sys
sys.exit(0 if site.ENABLE_USER_SITE else 1)
' && /usr/bin/python3 -m site --user-site); then
  mkdir -p "$site"
  printf '%s\n' "$(cd "$build_dir/python" && pwd)" >"$site/tradestore-build.pth"
  echo "setup: python3 imports tradestore from $build_dir/python ($site/tradestore-build.pth)"
fi
