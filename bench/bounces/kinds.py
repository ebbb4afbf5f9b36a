#!/usr/bin/env python3
"""
Tallies the `kind` the CLI printed against what the label says about the recipient's fate.

The corpus scorer compares reasons, statuses and the hard/soft flag but never `kind`, so a final
failure reported as a deferral (or a warning reported as a bounce) goes unseen there. This script
aligns predictions with labels the way score.py does (recipient first, then position) and prints:

  - kind per expected hard/soft;
  - kind per the RFC 3464 Action field the report itself carries (with --corpus; the first one in the
    file, "-" when it has none) and the class of the expected status, so `Action: failed` with a
    4.x.x status is visible on its own. Without --corpus, the action the labels' reference output
    recorded is used instead (that output calls some delay warnings "failed").

Usage: python3 kinds.py --pred preds.jsonl --labels labels.jsonl [--corpus corpus-folder]
"""
import argparse, collections, json, os, re

ap = argparse.ArgumentParser()
ap.add_argument("--pred", required=True)
ap.add_argument("--labels", required=True)
ap.add_argument("--corpus")
a = ap.parse_args()

ACTION = re.compile(rb"^Action:[ \t]*([A-Za-z]+)", re.M | re.I)
actions = {}


def file_action(f):
    if f not in actions:
        try:
            m = ACTION.search(open(os.path.join(a.corpus, f), "rb").read())
            actions[f] = m.group(1).decode().lower() if m else "-"
        except OSError:
            actions[f] = "?"
    return actions[f]

pred = {}
for line in open(a.pred, encoding="utf-8"):
    if line.strip():
        d = json.loads(line)
        pred[d["file"]] = d.get("results", [])

by_file = collections.defaultdict(list)
for line in open(a.labels, encoding="utf-8"):
    r = json.loads(line)
    by_file[r["file"]].append(r)

by_hard = collections.Counter()
by_action = collections.Counter()
for f, exp in by_file.items():
    exp.sort(key=lambda r: r["index"])
    pr = pred.get(f, [])
    used = set()
    for i, r in enumerate(exp):
        e = r["expected"]
        rcpt = (e.get("recipient") or "").lower()
        j = next((k for k, p in enumerate(pr) if k not in used and (p.get("recipient") or "").lower() == rcpt and rcpt), None)
        if j is None and i < len(pr) and i not in used:
            j = i
        if j is not None:
            used.add(j)
        kind = pr[j].get("kind", "?") if j is not None else "<missing>"
        by_hard[("hard" if e["hardbounce"] else "soft", kind)] += 1
        if a.corpus:
            action = file_action(f)
        else:
            action = ((r.get("sisimai_p5_output") or {}).get("action") or "-").lower()
        cls = (e.get("status") or "-")[:1]
        by_action[(action, cls, kind)] += 1

print("kind per expected hard/soft")
for (h, k), n in sorted(by_hard.items()):
    print(f"  {h:5} {k:10} {n:4}")
print(f"kind per Action ({'in the report' if a.corpus else 'reference output'}) and expected status class")
for (act, cls, k), n in sorted(by_action.items()):
    print(f"  Action {act:9} {cls}.x.x  {k:10} {n:4}")
