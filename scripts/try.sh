#!/usr/bin/env bash
# Sets up and starts a local n8n with this package installed the way the Community Nodes
# screen installs it (npm pack -> ~/.n8n/nodes), so you can try the trigger in the editor.
#   npm run try            # n8n 1.123.81 on Node 20, http://127.0.0.1:5678
#   N8N_MAJOR=2 npm run try  # n8n 2.41.1 on Node 24
# Env: N8N_PORT (5678), TRY_DIR (~/.n8n-gmail-push-try: n8n's user folder, kept between runs).
set -euo pipefail
cd "$(dirname "$0")/.."
major=${N8N_MAJOR:-1}
port=${N8N_PORT:-5678}
user_folder=${TRY_DIR:-$HOME/.n8n-gmail-push-try}

[ -d node_modules ] || npm ci
npm run build
n8n_dir=$(scripts/install-n8n.sh "$major")

scripts/install-package.sh "$user_folder" >/dev/null

export N8N_USER_FOLDER="$user_folder" N8N_PORT="$port" N8N_LISTEN_ADDRESS=127.0.0.1
export N8N_DIAGNOSTICS_ENABLED=false N8N_PERSONALIZATION_ENABLED=false N8N_SECURE_COOKIE=false
if [ "$major" = 2 ]; then
	export PATH="$(dirname "$n8n_dir")/node24/bin:$PATH"
	export N8N_RUNNERS_BROKER_PORT=${N8N_RUNNERS_BROKER_PORT:-$((port + 100))} N8N_DISABLED_MODULES=mcp-registry
else
	export N8N_EXPRESSION_ENGINE=legacy
fi
echo "Starting n8n $(basename "$n8n_dir") with n8n-nodes-gmail-push at http://127.0.0.1:$port (Ctrl+C stops it)"
echo "For push delivery Pub/Sub must reach this n8n over public HTTPS: set WEBHOOK_URL to that address."
exec "$n8n_dir/node_modules/.bin/n8n" start
