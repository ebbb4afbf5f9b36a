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
# The labels follow Sisimai, which reports an auto-reply as a result with reason "vacation" and a
# success report as results with reason "delivered"; the CLI prints those beside "results"
# ("autoreply"/"from", "delivered"). They are scored as the labels count them, so that the figures
# compare with Sisimai's and with earlier rounds; "$out.strict" holds "results" alone, scored after.
python3 - "$out.raw" "$out" "$out.strict" <<'PY'
import json, sys
rows, strict, order = {}, {}, []
for line in open(sys.argv[1], encoding="utf-8"):
    d = json.loads(line)
    f = d["file"].split("#", 1)[0]
    if f not in rows:
        rows[f] = {"file": f, "results": []}
        strict[f] = {"file": f, "results": []}
        order.append(f)
    res = d.get("results", [])
    strict[f]["results"].extend(res)
    rows[f]["results"].extend(res)
    rows[f]["results"].extend(d.get("delivered", []))
    if d.get("autoreply"):
        rows[f]["results"].append({"recipient": d.get("from", ""), "status": "", "replycode": "", "reason": "vacation",
                                   "hardbounce": False, "kind": "delivered"})
for path, table in ((sys.argv[2], rows), (sys.argv[3], strict)):
    with open(path, "w", encoding="utf-8") as o:
        for f in order:
            o.write(json.dumps(table[f]) + "\n")
PY
rm -f "$out.raw"
echo "parsed $(wc -l < "$out") files in $(echo "$end - $start" | bc) s -> $out" >&2
python3 "$corpus_root/score.py" --pred "$out"
# The same predictions without the auto-replies and success reports (what "results" holds).
python3 "$corpus_root/score.py" --pred "$out.strict" | python3 -c '
import json, sys
d = json.load(sys.stdin); m = d["metrics"]
a = lambda k: m[k]["correct"] / m[k]["n"]
print("results only (auto-replies and success reports not counted as rows): detection %.3f, recipient F1 %.3f, "
      "status %.3f, hard/soft %.3f, reason %.3f, non-bounces with a result %d" % (d["detection"], d["recipient"]["f1"],
      a("all/status_exact"), a("all/hard_soft_acc"), a("all/reason_exact"), d["negatives"]["files_with_results(false_positive)"]), file=sys.stderr)'
# The scorer never looks at `kind`: whether delivery ended is tallied here.
python3 "$here/kinds.py" --pred "$out" --labels "$corpus_root/labels.jsonl" --corpus "$corpus_root/corpus"
