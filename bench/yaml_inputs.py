#!/usr/bin/env python3
"""Writes the inputs of bench/yaml-memory.sh (figures in docs/yaml.md) into DIR:

jobs.yaml          about 50 MB of realistic batch/v1 Jobs, one per document
flow-scalars.yaml  one 50 MB line: one flow sequence of plain scalars (`[a, a, ...]`)
flow-maps.yaml     one 50 MB line: one flow sequence of small mappings
aliases.yaml       10 KB of nested anchors around aliases of small mappings: the costliest
                   shape the alias budget lets through before it refuses the document
"""
import sys
from pathlib import Path

TARGET = 50 * 1000 * 1000

JOB = """apiVersion: batch/v1
kind: Job
metadata:
  name: report-{i}
  namespace: batch-{ns}
  labels:
    app.kubernetes.io/name: report
    app.kubernetes.io/instance: report-{i}
    team: data
  annotations:
    example.com/owner: data-team@example.com
spec:
  backoffLimit: 3
  activeDeadlineSeconds: 3600
  ttlSecondsAfterFinished: 86400
  template:
    metadata:
      labels:
        app.kubernetes.io/name: report
    spec:
      restartPolicy: Never
      serviceAccountName: report
      containers:
      - name: report
        image: registry.example.com/report:1.{i}
        args: ["--date", "2024-01-01", "--shard", "{i}"]
        env:
        - name: LOG_LEVEL
          value: info
        - name: DB_PASSWORD
          valueFrom:
            secretKeyRef:
              name: db
              key: password
        resources:
          requests:
            cpu: 100m
            memory: 128Mi
          limits:
            memory: 256Mi
        volumeMounts:
        - name: scratch
          mountPath: /scratch
      volumes:
      - name: scratch
        emptyDir: {{}}
"""


def flow_list(path: Path, item: str, last: str) -> None:
    with open(path, "w") as f:
        f.write("[" + item * ((TARGET - 2 - len(last)) // len(item)) + last + "]\n")


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "jobs.yaml", "w") as f:
        size, i = 0, 0
        while size < TARGET:
            doc = ("---\n" if i else "") + JOB.format(i=i, ns=i % 7)
            f.write(doc)
            size += len(doc)
            i += 1
    flow_list(out / "flow-scalars.yaml", "a, ", "a")
    flow_list(out / "flow-maps.yaml", "{name: a, value: 1}, ", "{name: a, value: 1}")
    # 5,000 plain nodes let aliases make up to 99% of the nodes (kubectl's ratio); 9^4 small
    # mappings by alias, then 40 nested anchors that each copy them.
    lines = ["f: [" + ",".join(["1"] * 5000) + "]", "a0: &a0 {k: v}"]
    for i in range(1, 5):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    opens = "".join(f"&n{j} [" for j in range(40))
    lines.append("b: " + opens + "[" + ",".join(["*a4"] * 9) + "]" + "]" * 40)
    (out / "aliases.yaml").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "."))
