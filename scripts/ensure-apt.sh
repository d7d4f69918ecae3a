#!/usr/bin/env bash
# Install the Debian packages given as arguments that are not installed yet.
# As root it runs apt-get; otherwise it stops and prints the exact command to run.
# When another apt or dpkg process holds the lock, it waits for it (up to 10 minutes,
# GRIDMAP_APT_LOCK_TIMEOUT seconds) instead of failing.
set -euo pipefail
missing=()
for pkg in "$@"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -ne 0 ]]; then
  echo "gridmap needs these Debian packages: ${missing[*]}" >&2
  echo "run:  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  echo "then run make again." >&2
  exit 1
fi
timeout=${GRIDMAP_APT_LOCK_TIMEOUT:-600}
echo "installing Debian packages: ${missing[*]}"
echo "(waiting up to ${timeout} s if another apt or dpkg process holds the lock)"
export DEBIAN_FRONTEND=noninteractive
apt_get=(apt-get -q -o "DPkg::Lock::Timeout=$timeout")

# apt-get honours DPkg::Lock::Timeout for dpkg's lock but not for the package lists' lock
# that `apt-get update` takes: retry while that lock is held by someone else.
update() {
  local waited=0 log
  log=$(mktemp)
  until "${apt_get[@]}" update >"$log" 2>&1; do
    if ! grep -q 'Could not get lock' "$log" || (( waited >= timeout )); then
      cat "$log" >&2; rm -f "$log"; return 1
    fi
    (( waited == 0 )) && echo "waiting for another apt process to release its lock..."
    sleep 5; waited=$((waited + 5))
  done
  rm -f "$log"
}

update
"${apt_get[@]}" install -y --no-install-recommends "${missing[@]}"
