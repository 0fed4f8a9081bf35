#!/usr/bin/env bash
# Rebuilds crates/domain/data/common-passwords.txt from the npm registry (see the README
# beside it) and prints its SHA-256, which must match the one recorded there.
set -euo pipefail
cd "$(dirname "$0")/.."
out="$PWD/crates/domain/data/common-passwords.txt"
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
cd "$d"
npm pack @zxcvbn-ts/language-common@4.1.3 >/dev/null
tar xzf zxcvbn-ts-language-common-4.1.3.tgz package/src/passwords.json
python3 -c 'import json,sys; l=json.load(open("package/src/passwords.json"))[:10000]; assert len(set(l))==10000 and all(l); sys.stdout.write("\n".join(l)+"\n")' > "$out"
sha256sum "$out"
