#!/usr/bin/env python3
"""Writes the largest hostile AdmissionReviews batchguard must survive inside its body
limit, into the directory given (default bench/out/hostile):

  job-containers.validate.json   one Job with N containers {"name":"c"} (default 400,000:
                                 ~6 MB), CREATE, for /validate
  job-causes.validate.json       the same with M containers (default 20,000): the largest
                                 such Job batchguard still reads (40,000 causes)
  schedule-list.mutate.json      one CronJob whose schedule is a 2.5 MB comma list, for /mutate
  schedule-junk.mutate.json      one CronJob whose schedule is 2.5 MB of one-character
                                 fields separated by spaces, for /mutate
  schedule-list.validate.json    the list schedule, for /validate
  cronjob-update.validate.json   an UPDATE whose object and oldObject each carry the 2.5 MB list

Usage: bench/hostile.py [DIR] [--containers N] [--read-containers M] [--schedule-bytes N]
"""
import argparse
import json
import os

p = argparse.ArgumentParser()
p.add_argument("dir", nargs="?", default="bench/out/hostile")
p.add_argument("--containers", type=int, default=400_000)
p.add_argument("--read-containers", type=int, default=20_000)
p.add_argument("--schedule-bytes", type=int, default=2_500_000)
a = p.parse_args()
os.makedirs(a.dir, exist_ok=True)


def review(kind, resource, obj, op="CREATE", old=None):
    req = {
        "uid": "00000000-0000-0000-0000-000000000001",
        "kind": {"group": "batch", "version": "v1", "kind": kind},
        "resource": {"group": "batch", "version": "v1", "resource": resource},
        "name": obj["metadata"]["name"],
        "namespace": "default",
        "operation": op,
        "userInfo": {"username": "hostile"},
        "object": obj,
        "oldObject": old,
        "dryRun": False,
    }
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": req}


def job(containers):
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "hostile", "namespace": "default"},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": containers}}},
    }


def cronjob(schedule):
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "hostile", "namespace": "default", "resourceVersion": "1"},
        "spec": {
            "schedule": schedule,
            "jobTemplate": {"spec": {"template": {"spec": {
                "restartPolicy": "OnFailure",
                "containers": [{"name": "c", "image": "busybox"}],
            }}}},
        },
    }


def write(name, doc):
    path = os.path.join(a.dir, name)
    with open(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
    print(f"{path}: {os.path.getsize(path)} bytes")


write("job-containers.validate.json",
      review("Job", "jobs", job([{"name": "c"}] * a.containers)))
write("job-causes.validate.json",
      review("Job", "jobs", job([{"name": "c"}] * a.read_containers)))
n = a.schedule_bytes // 2
lst = ",".join(["1"] * n)
junk = " ".join(["x"] * n)
write("schedule-list.mutate.json", review("CronJob", "cronjobs", cronjob(lst)))
write("schedule-junk.mutate.json", review("CronJob", "cronjobs", cronjob(junk)))
write("schedule-list.validate.json", review("CronJob", "cronjobs", cronjob(lst)))
write("cronjob-update.validate.json",
      review("CronJob", "cronjobs", cronjob(lst), op="UPDATE", old=cronjob(lst)))
