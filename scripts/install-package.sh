#!/usr/bin/env bash
# Installs this package (built) into an n8n user folder exactly as n8n's Community Nodes screen
# does: npm pack, extract into .n8n/nodes/node_modules/<name>, drop dev/peer/optional deps from
# its package.json, `npm install` with n8n's own flags, record it in .n8n/nodes/package.json.
#   scripts/install-package.sh <N8N_USER_FOLDER>
set -euo pipefail
cd "$(dirname "$0")/.."
user_folder=${1:?usage: install-package.sh <N8N_USER_FOLDER>}
[ -f dist/nodes/GmailPushTrigger/GmailPushTrigger.node.js ] || { echo "build first: npm run build" >&2; exit 1; }

pack_dir=$(mktemp -d)
trap 'rm -rf "$pack_dir"' EXIT
tarball=$(npm pack --silent --pack-destination "$pack_dir" | tail -n 1)
nodes_dir="$user_folder/.n8n/nodes"
target="$nodes_dir/node_modules/n8n-nodes-gmail-push"
mkdir -p "$nodes_dir/node_modules"
[ -f "$nodes_dir/package.json" ] || echo '{ "name": "installed-nodes", "private": true, "dependencies": {} }' >"$nodes_dir/package.json"
rm -rf "$target" && mkdir -p "$target"
tar xzf "$pack_dir/$tarball" -C "$target" --strip-components=1
node -e '
const fs = require("fs");
const [pkgFile, listFile] = process.argv.slice(1);
const { devDependencies, peerDependencies, optionalDependencies, ...pkg } = JSON.parse(fs.readFileSync(pkgFile, "utf8"));
fs.writeFileSync(pkgFile, JSON.stringify(pkg, null, 2));
const list = JSON.parse(fs.readFileSync(listFile, "utf8"));
list.dependencies = { ...(list.dependencies || {}), [pkg.name]: pkg.version };
fs.writeFileSync(listFile, JSON.stringify(list, null, 2));
' "$target/package.json" "$nodes_dir/package.json"
(cd "$target" && npm install --audit=false --fund=false --bin-links=false --install-strategy=shallow \
	--ignore-scripts=true --package-lock=false --loglevel=error)
echo "$target"
