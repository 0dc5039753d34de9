#!/usr/bin/env bash
# Install the system packages geo_service needs (Debian): PostgreSQL + PostGIS, and for the test suite
# Chromium with its driver and GDAL's command-line tools (the OGC client tests run ogr2ogr).
# Installs only what is missing; needs root (or sudo) only when something is.
# Usage: scripts/system-deps.sh [--with-browser]
set -euo pipefail

want=()
pg_version=""
for dir in /usr/lib/postgresql/*/bin; do
  [ -x "$dir/postgres" ] && pg_version=$(basename "$(dirname "$dir")")
done
if [ -z "$pg_version" ]; then
  want+=(postgresql postgresql-contrib)
  pg_version=$( (apt-cache policy postgresql 2>/dev/null | sed -n 's/.*Candidate: \([0-9]*\).*/\1/p') || true)
  pg_version=${pg_version:-15}
fi
[ -f "/usr/share/postgresql/$pg_version/extension/postgis.control" ] || want+=("postgresql-$pg_version-postgis-3")
if [ "${1:-}" = "--with-browser" ]; then
  command -v chromium >/dev/null 2>&1 || want+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || want+=(chromium-driver)
  # A CJK font, so that screenshots taken by the browser tests show Chinese text.
  [ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || want+=(fonts-wqy-microhei)
  # GDAL as GIS users have it: its OAPIF driver and MVT reader are driven by the OGC tests.
  command -v ogr2ogr >/dev/null 2>&1 || want+=(gdal-bin)
fi
[ ${#want[@]} -eq 0 ] && exit 0

echo "installing system packages: ${want[*]}"
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
else
  echo "error: missing system packages; run as root: apt-get install ${want[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
