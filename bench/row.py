#!/usr/bin/env python3
"""Prints one result row (a JSON line) from a fio or `hornbill perf` JSON report; the bench
scripts append these rows to their .jsonl files and build their tables from them.

    row.py fio  PEER RW QD FIO_JSON
    row.py perf PEER RW QD PERF_JSON [SERVER_CPU_SECONDS]
"""
import json
import sys


def fio_row(path, rw):
    job = json.load(open(path))["jobs"][0]
    side = job["read"] if rw.endswith("read") else job["write"]
    return {"iops": side["iops"], "mean_us": side["lat_ns"]["mean"] / 1000,
            "p99_us": side["clat_ns"].get("percentile", {}).get("99.000000", 0) / 1000}


def perf_row(path, cpu_seconds):
    report = json.load(open(path))
    row = {"iops": report["iops"], "mean_us": report["latency_us"]["mean"], "p99_us": report["latency_us"]["p99"]}
    if report.get("lvol_metadata_bytes_per_gib"):
        row["md_bytes_per_gib"] = report["lvol_metadata_bytes_per_gib"]
    if cpu_seconds is not None:
        row["cpu_s_per_mio"] = cpu_seconds / (report["ios"] / 1e6)
    return row


def main(argv):
    if len(argv) < 6 or argv[1] not in ("fio", "perf"):
        sys.exit(__doc__)
    kind, peer, rw, qd, path = argv[1:6]
    if kind == "fio":
        row = fio_row(path, rw)
    else:
        row = perf_row(path, float(argv[6]) if len(argv) > 6 else None)
    print(json.dumps({"peer": peer, "rw": rw, "qd": int(qd), **row}))


if __name__ == "__main__":
    main(sys.argv)
