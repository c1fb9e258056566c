#!/usr/bin/env bash
# What installing this package adds to an n8n: installs the built package the way the Community
# Nodes screen does (scripts/install-package.sh) into an empty user folder and prints its size
# on disk, the number of packages it brought and the largest of them.
#   npm run build && npm run footprint
set -euo pipefail
cd "$(dirname "$0")/.."
folder=$(mktemp -d)
trap 'rm -rf "$folder"' EXIT
bash scripts/install-package.sh "$folder" >/dev/null
target="$folder/.n8n/nodes/node_modules/n8n-nodes-gmail-push"
node - "$target" <<'JS'
const fs = require('fs');
const path = require('path');
const root = process.argv[2];
const sizeOf = (dir) => {
	let bytes = 0;
	for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
		const full = path.join(dir, entry.name);
		if (entry.isDirectory()) bytes += sizeOf(full);
		else if (entry.isFile()) bytes += fs.statSync(full).size;
	}
	return bytes;
};
/** Every installed package: a folder directly under a node_modules (scopes included). */
const packages = [];
const walk = (modules) => {
	if (!fs.existsSync(modules)) return;
	for (const name of fs.readdirSync(modules)) {
		if (name.startsWith('.')) continue;
		const dirs = name.startsWith('@') ? fs.readdirSync(path.join(modules, name)).map((n) => path.join(name, n)) : [name];
		for (const rel of dirs) {
			const dir = path.join(modules, rel);
			if (!fs.existsSync(path.join(dir, 'package.json'))) continue;
			packages.push({ name: rel, dir });
			walk(path.join(dir, 'node_modules'));
		}
	}
};
walk(path.join(root, 'node_modules'));
const mib = (b) => (b / 1024 / 1024).toFixed(1);
const total = sizeOf(root);
const own = total - sizeOf(path.join(root, 'node_modules'));
console.log(`footprint: ${mib(total)} MiB on disk (${total} bytes), ${packages.length} packages (${new Set(packages.map((p) => p.name)).size} distinct), the package itself ${mib(own)} MiB`);
const byName = new Map();
for (const p of packages) {
	const own = sizeOf(p.dir) - (fs.existsSync(path.join(p.dir, 'node_modules')) ? sizeOf(path.join(p.dir, 'node_modules')) : 0);
	const entry = byName.get(p.name) ?? { copies: 0, bytes: 0 };
	entry.copies += 1;
	entry.bytes += own;
	byName.set(p.name, entry);
}
const largest = [...byName.entries()].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 12);
for (const [name, { copies, bytes }] of largest) console.log(`  ${mib(bytes).padStart(6)} MiB  ${name}${copies > 1 ? ` (${copies} copies)` : ''}`);
JS
