#!/usr/bin/env bash
# Installs the Debian packages the test suite needs: PostgreSQL (server), Chromium (browser tests), Node.js
# (the tablet's shared rules run in Node beside their Python twins; npm installs axe-core for the accessibility audit),
# and the operator's tools whose input the project ships: nginx and Caddy (`nginx -t`, `caddy validate` on deploy/)
# and Prometheus' promtool (`promtool check metrics` on a scrape of /metrics).
# Under CI=true a missing package is installed, and a failed install fails the run. Elsewhere the script only
# reports what is missing, because installing system packages is the machine owner's decision.
set -euo pipefail

missing=()
ls -d /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v caddy >/dev/null 2>&1 || missing+=(caddy)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "${CI:-}" = "true" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "CI=true but not root: cannot install ${missing[*]}" >&2
    exit 1
  fi
  echo "Installing ${missing[*]} from Debian ..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "Note: not installed: ${missing[*]}. Install them (apt-get install ${missing[*]}) to run every test;" >&2
  echo "      the parts that need them are skipped here, and fail under CI=true." >&2
fi
