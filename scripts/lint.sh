#!/usr/bin/env bash
# npm run lint: n8n's current rules for community nodes (@n8n/eslint-plugin-community-nodes on
# ESLint 9, in lint/ with its own dependencies since its peers are ESLint 9.29 and n8n-workflow 2),
# then the older eslint-plugin-n8n-nodes-base rules (ESLint 8, the package's own devDependencies).
# Errors fail; the current plugin's warnings are shown.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x lint/node_modules/.bin/eslint ] || (cd lint && npm ci --no-audit --no-fund --loglevel=error)
lint/node_modules/.bin/eslint -c lint/eslint.config.mjs "$@" nodes credentials package.json
node_modules/.bin/eslint "$@" nodes credentials package.json
