#!/usr/bin/env bash
# System packages `make test` and `make lab` need, installed when missing (Debian/Ubuntu, apt-get,
# non-interactive; sudo when not root). Called by `make deps`, which `make venv`/`make test` run.
#   MIT Kerberos: the simulated fleet's KDC (krb5kdc, kdb5_util, kadmin.local) and the client
#     (kinit) the winrm connection plugin runs; libkrb5-dev and gcc build the gssapi and krb5
#     Python packages (pywinrm/pypsrp/pyspnego Kerberos extras).
#   OpenSSH client: the ssh connection plugin runs ssh, sftp and scp.
#   Chromium (Debian's, with the DejaVu fonts): tests/browser loads the HTML report in it, headless.
#     Without a package manager it is left out with a note, and that test says it skipped.
set -euo pipefail

declare -A wanted=(
  [krb5kdc]=krb5-kdc
  [kdb5_util]=krb5-kdc
  [kadmin.local]=krb5-admin-server
  [kinit]=krb5-user
  [krb5-config]=libkrb5-dev
  [gcc]=gcc
  [ssh]=openssh-client
  [sftp]=openssh-client
  [scp]=openssh-client
  [chromium]="chromium fonts-dejavu-core"
)
# Packages whose absence only skips a test (with a message), never fails this script.
optional=(chromium fonts-dejavu-core)
missing=()
for program in "${!wanted[@]}"; do
  if ! PATH="$PATH:/usr/sbin:/sbin" command -v "$program" >/dev/null 2>&1; then
    missing+=("${wanted[$program]}")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
packages=$(printf '%s\n' ${missing[@]} | sort -u | tr '\n' ' ')
if ! command -v apt-get >/dev/null 2>&1; then
  required=$(printf '%s\n' ${missing[@]} | sort -u | grep -vxF -f <(printf '%s\n' "${optional[@]}") | tr '\n' ' ' || true)
  if [ -z "${required// /}" ]; then
    echo "system_deps: no apt-get here to install $packages: the browser test of the HTML report (tests/browser) will be skipped" >&2
    exit 0
  fi
  echo "system_deps: missing packages ($packages) and no apt-get here: install their equivalents (bindep.txt lists them for rpm)" >&2
  exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "system_deps: need root or sudo to install: $packages" >&2
    exit 1
  fi
  sudo=(sudo -n)
fi
echo "system_deps: installing $packages"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
# The krb5-config/krb5-kdc questions (default realm, servers) are answered by defaults: the lab
# writes its own krb5.conf and never reads /etc/krb5.conf.
"${sudo[@]}" apt-get install -y -qq --no-install-recommends $packages </dev/null
