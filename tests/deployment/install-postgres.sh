#!/usr/bin/env bash
# Installs PostgreSQL's server programs (Debian's `postgresql` package) when they are missing, for the
# deployment suite's metadata database. Nothing is started here: tests/deployment/postgres.py starts its own
# throwaway server on 127.0.0.1 and stops it by PID.
set -euo pipefail
if command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "PostgreSQL is not installed and apt-get is not available: install PostgreSQL's server" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
# No cluster of the package's own: nothing should listen on 5432 or outlive the tests.
$sudo mkdir -p /etc/postgresql-common
echo "create_main_cluster = false" | $sudo tee /etc/postgresql-common/createcluster.conf >/dev/null
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
echo "Installed PostgreSQL: $(compgen -G '/usr/lib/postgresql/*/bin/initdb' | head -1)"
