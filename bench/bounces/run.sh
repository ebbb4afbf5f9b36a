#!/usr/bin/env bash
# Runs the mailroom CLI over the labelled bounce corpus and scores it.
#   CORPUS_DIR   the corpus folder (default: ../shared/corpora/bounces relative to the repository)
#   MAILROOM_CLI the built CLI (default: the package's `nestjs-mailroom` bin; built first if missing)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
corpus_root="$(cd "${CORPUS_DIR:-$repo/../shared/corpora/bounces}" && pwd)"
cli="${MAILROOM_CLI:-$repo/$(cd "$repo" && node -p "require('./package.json').bin['nestjs-mailroom']")}"
out="${PRED_FILE:-${TMPDIR:-/tmp}/mailroom-bounce-preds.jsonl}"
if [ ! -f "$cli" ] || [ -n "${REBUILD:-}" ]; then
  (cd "$repo" && npm run build --silent)
fi
start=$(date +%s.%N)
node "$cli" bounce "$corpus_root/corpus/maildir" --path-prefix "$corpus_root/corpus/" > "$out.raw"
end=$(date +%s.%N)
# A file in mbox format is printed message by message ("file#1", "file#2"); the labels are per file, so
# the messages of one file are scored together, as one file's results.
python3 - "$out.raw" "$out" <<'PY'
import json, sys
rows, order = {}, []
for line in open(sys.argv[1], encoding="utf-8"):
    d = json.loads(line)
    f = d["file"].split("#", 1)[0]
    if f not in rows:
        rows[f] = {"file": f, "results": []}
        order.append(f)
    rows[f]["results"].extend(d.get("results", []))
with open(sys.argv[2], "w", encoding="utf-8") as o:
    for f in order:
        o.write(json.dumps(rows[f]) + "\n")
PY
rm -f "$out.raw"
echo "parsed $(wc -l < "$out") files in $(echo "$end - $start" | bc) s -> $out" >&2
python3 "$corpus_root/score.py" --pred "$out"
