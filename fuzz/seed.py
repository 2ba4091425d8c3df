#!/usr/bin/env python3
"""Fills fuzz/corpus/<target>/ with seeds from the repository's fixtures (tests/data,
examples): schedules for `cron`, manifests for `yaml`, captured AdmissionReviews for
`review`, and their objects (plus the corpus manifests as JSON) for `judge`. Run from
anywhere; existing corpus files are kept."""
import glob
import hashlib
import json
import os

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
out = os.path.join(root, "fuzz", "corpus")


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


with open(os.path.join(root, "tests/data/cron-schedules.jsonl")) as f:
    for line in f:
        put("cron", json.loads(line)["schedule"])
for path in sorted(glob.glob(os.path.join(root, "tests/data/manifests-corpus/manifests/*.yaml"))
                   + glob.glob(os.path.join(root, "tests/data/manifests-pod-corpus/manifests/*.yaml"))
                   + glob.glob(os.path.join(root, "examples/*.yaml"))):
    with open(path, "rb") as f:
        put("yaml", f.read())
for path in sorted(glob.glob(os.path.join(root, "tests/data/admission/*.json"))):
    with open(path, "rb") as f:
        body = f.read()
    put("review", body)
    review = json.loads(body)
    for key in ("object", "oldObject"):
        obj = review.get("request", {}).get(key)
        if obj:
            put("judge", json.dumps(obj))
for target in ("cron", "yaml", "review", "judge"):
    print(target, len(os.listdir(os.path.join(out, target))))
