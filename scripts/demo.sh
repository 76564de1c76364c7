#!/usr/bin/env bash
# Migrate, load the demo organization, print the demo logins, and serve.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/cyberqms migrate --no-input -v0
.venv/bin/cyberqms demo
echo
exec bash scripts/serve.sh
