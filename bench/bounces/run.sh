#!/usr/bin/env bash
# Runs the mailroom CLI over the labelled bounce corpus and scores it.
#   CORPUS_DIR   the corpus folder (default: ../shared/corpora/bounces relative to the repository)
#   MAILROOM_CLI the built CLI (default: dist/cli/mailroom.js; built with tsconfig.build.json if missing)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
corpus_root="$(cd "${CORPUS_DIR:-$repo/../shared/corpora/bounces}" && pwd)"
cli="${MAILROOM_CLI:-$repo/dist/cli/mailroom.js}"
out="${PRED_FILE:-${TMPDIR:-/tmp}/mailroom-bounce-preds.jsonl}"
if [ ! -f "$cli" ] || [ -n "${REBUILD:-}" ]; then
  (cd "$repo" && npx tsc -p tsconfig.build.json)
fi
start=$(date +%s.%N)
node "$cli" bounce "$corpus_root/corpus/maildir" --path-prefix "$corpus_root/corpus/" > "$out"
end=$(date +%s.%N)
echo "parsed $(wc -l < "$out") files in $(echo "$end - $start" | bc) s -> $out" >&2
python3 "$corpus_root/score.py" --pred "$out"
