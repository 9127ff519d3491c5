#!/usr/bin/env bash
# `make class` and `make capacity REPLICAS=2` put several app processes behind HAProxy (Debian's
# package). Install it when missing. Needs root (as on CI and the dev machines) or an existing
# install.
set -euo pipefail
command -v haproxy >/dev/null 2>&1 && exit 0
if [ "$(id -u)" != "0" ]; then
  echo "HAProxy is missing and this user cannot install it: run 'sudo apt-get install -y haproxy'" >&2
  exit 1
fi
echo "Installing haproxy for the multi-process class server…"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy >/dev/null
# Debian's package starts a system service with its own config; this project runs its own
# haproxy process with its own config instead, so the service is not needed.
if command -v service >/dev/null 2>&1; then service haproxy stop >/dev/null 2>&1 || true; fi
command -v haproxy >/dev/null
