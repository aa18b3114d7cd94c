#!/usr/bin/env bash
# Proves the two-command start on a machine with Node.js alone: copies the working tree to a temporary
# directory and runs `npm install && npm start` there with a PATH holding only node, npm, a shell and
# coreutils (no cmake, autotools, make, g++ or python3), then checks the listening line and one API call.
#
# better-sqlite3 fetches its prebuilt binary from its GitHub release (prebuild-install) and compiles from
# source with node-gyp and g++ only when that download fails. Where GitHub cannot be reached (as on CI
# here), this script serves the same release asset, made from the binary the earlier full install built,
# on a loopback port named by better-sqlite3's documented mirror variable, so the download path is
# exercised rather than the compiler.
#   bash scripts/check-clean-install.sh        (after `npm ci` in the repository)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d /tmp/lambdalite-clean-XXXXXX)"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "-- copy of the tree in $work/app"
mkdir -p "$work/app"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) | tar -xf - -C "$work/app"

echo "-- PATH of node, npm, sh and coreutils only"
mkdir -p "$work/bin"
for tool in node sh bash env cat cp mv rm mkdir ls ln chmod dirname basename readlink realpath uname sed grep \
  tar gzip head tail sleep kill timeout mktemp touch rmdir printf echo true false test tr cut sort wc id expr; do
  p="$(command -v "$tool")" && ln -s "$(readlink -f "$p")" "$work/bin/$tool"
done
npm_cli="$(readlink -f "$(command -v npm)")"
ln -s "$npm_cli" "$work/bin/npm"
ln -s "$(dirname "$npm_cli")/npx-cli.js" "$work/bin/npx"
for absent in g++ gcc cc make cmake autoreconf python3; do
  if PATH="$work/bin" command -v "$absent" >/dev/null 2>&1; then echo "$absent is reachable on the clean PATH" >&2; exit 1; fi
done

echo "-- better-sqlite3's release asset on loopback"
version="$(node -p "require('$repo/node_modules/better-sqlite3/package.json').version")"
asset="better-sqlite3-v${version}-node-v$(node -p process.versions.modules)-$(node -p process.platform)-$(node -p process.arch).tar.gz"
mkdir -p "$work/release/v$version" "$work/asset/build/Release"
cp "$repo/node_modules/better-sqlite3/build/Release/better_sqlite3.node" "$work/asset/build/Release/"
tar -czf "$work/release/v$version/$asset" -C "$work/asset" build
node -e '
  const http = require("http"), fs = require("fs"), path = require("path");
  const dir = process.argv[1];
  const srv = http.createServer((req, res) => {
    const file = path.join(dir, path.normalize(decodeURIComponent(req.url.split("?")[0])));
    if (!file.startsWith(dir + path.sep) || !fs.existsSync(file)) { res.writeHead(404).end(); return; }
    res.writeHead(200, { "content-type": "application/gzip" });
    fs.createReadStream(file).pipe(res);
  });
  srv.listen(0, "127.0.0.1", () => fs.writeFileSync(path.join(dir, ".port"), String(srv.address().port)));
' "$work/release" &
server_pid=$!
for _ in $(seq 100); do [ -s "$work/release/.port" ] && break; sleep 0.1; done
[ -s "$work/release/.port" ] || { echo "the release asset server did not start" >&2; exit 1; }

echo "-- npm install && npm start"
cd "$work/app"
export npm_config_better_sqlite3_binary_host="http://127.0.0.1:$(cat "$work/release/.port")"
PATH="$work/bin" HOME="${HOME:-/root}" npm install --no-audit --no-fund
PATH="$work/bin" LAMBDALITE_PORT=0 LAMBDALITE_DATA_DIR="$work/data" timeout 120 npm start >"$work/start.log" 2>&1 &
start_pid=$!
for _ in $(seq 600); do grep -q 'listening on http' "$work/start.log" && break; kill -0 "$start_pid" 2>/dev/null || break; sleep 0.1; done
line="$(grep -o 'listening on http://[0-9.:]*' "$work/start.log" || true)"
if [ -z "$line" ]; then cat "$work/start.log" >&2; echo "npm start printed no listening line" >&2; exit 1; fi
url="${line#listening on }"
status="$(node -e 'fetch(process.argv[1] + "/2015-03-31/functions/").then((r) => console.log(r.status))' "$url")"
kill -TERM "$start_pid" 2>/dev/null || true
wait "$start_pid" 2>/dev/null || true
[ "$status" = 200 ] || { echo "ListFunctions answered $status" >&2; exit 1; }
echo "clean install: npm install && npm start served ListFunctions on $url (no compiler on PATH)"
