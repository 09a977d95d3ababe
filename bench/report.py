"""The tables of docs/benchmarks.md, the cost per million objects and the latency plot, from
the results of bench.py."""
from __future__ import annotations

import math
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUST, PYTHON = "gdal-lambda (Rust)", "Python GDAL handler"

# AWS Lambda's list prices for arm64 in us-east-1 (first tier: 7.5 billion GB-s a month), as
# stated on 2026-11-22; unchanged since arm64 functions launched in September 2021.
PRICE_DATE = "2026-11-22"
PRICE_GB_S = 0.0000133334
PRICE_REQUEST = 0.20 / 1e6
# Lambda gives a function CPU in proportion to its memory: one full vCPU at 1,769 MB.
FULL_VCPU_MB = 1769
# Memory a handler is configured with: its peak RSS with half again for headroom, in 64 MB
# steps, at least Lambda's 128 MB.
HEADROOM = 1.5


def report(results: dict, plot: Path | None) -> str:
    m = results["machine"]
    lines = [f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, {m['os']}; "
             f"GDAL {m['gdal']}; Python {m['python']}; {m['date']}.\n"]
    latency = results.get("args", {}).get("latency_ms", 0)
    for part, table in (("s3", s3_table), ("metadata", metadata_tables), ("cold_start", cold_table),
                        ("runner", runner_table), ("throughput", throughput_tables), ("worker", worker_table),
                        ("formats", formats_table), ("thumbnail", thumbnail_table)):
        if part in results:
            lines += table(results[part], latency)
    if "metadata" in results and "cold_start" in results:
        lines += cost_table(results["metadata"], results["cold_start"], latency)
    if plot and "metadata" in results:
        draw(results["metadata"], latency, plot)
        lines.append(f"![latency distributions]({os.path.relpath(plot, ROOT / 'docs')})\n")
    return "\n".join(lines)


def s3_table(res: dict, _latency: float) -> list[str]:
    lines = ["### 0. A 32 KiB ranged GET by object size\n",
             "| object size | fast S3 p50 ms | moto p50 ms |", "|---|---:|---:|"]
    for size, fast in res["fast S3"].items():
        lines.append(f"| {size} | {fast['p50']:.1f} | {res['moto'][size]['p50']:.1f} |")
    if "via proxy" in res:
        lines.append("\nA bare round trip through the proxy (boto3, no latency injected), p50: " + ", ".join(
            f"{name} {d['p50']:.1f} ms" for name, d in res["via proxy"].items()) + ".")
    return lines + [""]


def worker_table(res: dict, _latency: float) -> list[str]:
    lines = ["### 6. The parse worker: one record's parse, from memory (no S3)\n",
             "| file | in a confined worker p50 ms | p95 ms | in the handler's process p50 ms | p95 ms "
             "| the worker's cost p50 ms | a worker's start ms |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, r in res.items():
        w, i = r["worker_ms"], r["in_process_ms"]
        lines.append(f"| {name} ({r['bytes'] / 2**20:.1f} MB) | {w['p50']:.2f} | {w['p95']:.2f} | {i['p50']:.2f} | "
                     f"{i['p95']:.2f} | {w['p50'] - i['p50']:.2f} | {r['worker_start_ms']:.1f} |")
    return lines + [""]


def formats_table(res: dict, latency: float) -> list[str]:
    lines = [f"### 7. Metadata by format, fast S3 with {latency:g} ms per request (warm)\n",
             "| format | object | handler | p50 ms | round trips | bytes fetched | floor ms | p50 / floor "
             "| peak RSS MiB |", "|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    formats = next(iter(res.values()), {})
    for label in formats:
        for tool, per_format in res.items():
            r = per_format[label]
            size = f"{r['object_bytes'] / 1e6:.2f} MB"
            if "error" in r:
                lines.append(f"| {label} | {size} | {tool} | fails: {r['error'][:120]} | | | | | |")
                continue
            floor = floor_ms(r, latency)
            rss = r["peak_rss_kib"] / 1024
            if r.get("workers_peak_rss_kib"):
                rss_text = f"{rss:.1f} + worker {r['workers_peak_rss_kib'] / 1024:.1f}"
            else:
                rss_text = f"{rss:.1f}"
            lines.append(f"| {label} | {size} | {tool} | {r['latency_ms']['p50']:.1f} | {r['requests']:g} | "
                         f"{r['bytes']:,.0f} | {floor:.0f} | {r['latency_ms']['p50'] / floor:.2f} | {rss_text} |")
    return lines + [""]


def thumbnail_table(res: dict, _latency: float) -> list[str]:
    lines = ["### 8. What a thumbnail costs: gdal-lambda without and with `THUMBNAIL_FORMAT=png` (warm)\n",
             "| S3 latency | size | variant | p50 ms | p95 ms | reads | writes | round trips | bytes fetched "
             "| extra p50 ms | extra bytes |", "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for delay, variants in res.items():
        base = variants.get("no thumbnail", {})
        for variant, per_size in variants.items():
            for size, s in per_size.items():
                ref = base.get(size)
                extra_ms = s["latency_ms"]["p50"] - ref["latency_ms"]["p50"] if ref else float("nan")
                extra_bytes = s["bytes"] - ref["bytes"] if ref else float("nan")
                lines.append(f"| {delay} | {size} | {variant} | {s['latency_ms']['p50']:.1f} | "
                             f"{s['latency_ms']['p95']:.1f} | {s['reads']:g} | {s['writes']:g} | "
                             f"{s.get('round_trips', s['requests']):g} | {s['bytes']:,.0f} | {extra_ms:+.1f} | "
                             f"{extra_bytes:+,.0f} |")
    return lines + [""]


def floor_ms(s: dict, delay: float) -> float:
    """The time a tool cannot go below: its sequential S3 round trips times the delay of each."""
    return s.get("round_trips", s["requests"]) * delay


def metadata_tables(md: dict, latency: float) -> list[str]:
    lines = []
    fast, slow = md.get("0 ms", {}), md.get(f"{latency:g} ms", {})
    lines += ["### 1a. Metadata of one object, fast S3 (warm)\n",
              "| tool | size | p50 ms | p95 ms | reads | writes | bytes fetched | vs gdal-lambda (p50) |",
              "|---|---|---:|---:|---:|---:|---:|---:|"]
    for tool, per_size in fast.items():
        for size, s in per_size.items():
            ref = fast.get(RUST, {}).get(size)
            ratio = s["latency_ms"]["p50"] / ref["latency_ms"]["p50"] if ref else float("nan")
            lines.append(f"| {tool} | {size} | {s['latency_ms']['p50']:.1f} | {s['latency_ms']['p95']:.1f} | "
                         f"{s['reads']:g} | {s['writes']:g} | {s['bytes']:,.0f} | {ratio:.1f}x |")
    if slow and latency:
        lines += ["", f"### 1b. Metadata of one object, fast S3 with {latency:g} ms per request (warm)\n",
                  "| tool | size | p50 ms | p95 ms | round trips | floor ms | p50 / floor | above floor ms |",
                  "|---|---|---:|---:|---:|---:|---:|---:|"]
        for tool, per_size in slow.items():
            for size, s in per_size.items():
                floor = floor_ms(s, latency)
                p50 = s["latency_ms"]["p50"]
                lines.append(f"| {tool} | {size} | {p50:.1f} | {s['latency_ms']['p95']:.1f} | {s.get('round_trips', s['requests']):g} | "
                             f"{floor:.0f} | {p50 / floor if floor else float('nan'):.2f} | {p50 - floor:.1f} |")
        lines += ["", "Where the handlers' time above the floor goes (medians, ms; seen from outside: the "
                  "Runtime API's timestamps and the proxy's, S3's latency taken out):\n",
                  "| handler | size | event → first request | between requests | last request → response |",
                  "|---|---|---:|---:|---:|"]
        for tool, per_size in slow.items():
            for size, s in per_size.items():
                if "phases_ms" in s:
                    ph = s["phases_ms"]
                    lines.append(f"| {tool} | {size} | {ph['before']:.1f} | {ph['between']:.1f} | {ph['after']:.1f} |")
    return lines + [""]


def cold_table(cs: dict, _latency: float) -> list[str]:
    lines = ["### 2. Cold start in the images: spawn to first GET /next, first invocation, peak RSS\n",
             "| image | start p50 ms | start p95 ms | first invocation p50 ms | peak RSS p50 MiB | image |",
             "|---|---:|---:|---:|---:|---|"]
    for name, r in cs.items():
        about = f"{r['image']}, {r['size_mb']:.0f} MB; GDAL {r['gdal']}" + (f", Python {r['python']}" if r["python"] else "")
        lines.append(f"| {name} | {r['start_ms']['p50']:.1f} | {r['start_ms']['p95']:.1f} | "
                     f"{r['first_invocation_ms']['p50']:.1f} | {r['peak_rss_mib']['p50']:.1f} | {about} |")
    if RUST in cs and PYTHON in cs:
        ratio = cs[PYTHON]["start_ms"]["p50"] / cs[RUST]["start_ms"]["p50"]
        lines.append(f"\nStart-up, Python+GDAL / gdal-lambda: {ratio:.1f}x\n")
    return lines + [""]


def runner_table(res: dict, _latency: float) -> list[str]:
    lines = ["### 3. Runner overhead (code and payload on S3)\n",
             "| function | run → handler p50 ms | p95 | run total p50 ms | direct start → handler p50 ms | overhead ms |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, r in res.items():
        lines.append(f"| {name} | {r['run_to_handler_ms']['p50']:.1f} | {r['run_to_handler_ms']['p95']:.1f} | "
                     f"{r['run_total_ms']['p50']:.1f} | {r['direct_to_handler_ms']['p50']:.1f} | "
                     f"{r['overhead_ms']:.1f} |")
    return lines + [""]


def throughput_tables(res: dict, _latency: float) -> list[str]:
    lines = ["### 4. Throughput through one handler process (events of 10 records)\n",
             "| S3 latency per request | handler | objects | objects/s | seconds |", "|---|---|---|---:|---:|"]
    for mode, handlers in res.items():
        for name, rates in handlers.items():
            for label, r in rates.items():
                lines.append(f"| {mode} | {name} | {label} | {r['objects_per_s']:.1f} | {r['seconds']:.2f} |")
    return lines + [""]


def memory_mb(peak_rss_mib: float) -> int:
    return max(128, math.ceil(peak_rss_mib * HEADROOM / 64) * 64)


def cost_table(md: dict, cs: dict, latency: float) -> list[str]:
    """Dollars per million objects, one object per invocation (S3 notifications), billed by the
    millisecond: every invocation warm, and every one cold (init + invocation, both billed).
    A duration is the S3 floor plus the handler's own time, measured on the fast S3 without
    latency (1 MB COGs; start-up and first invocation from the images), stretched by the share
    of a vCPU the memory buys."""
    fast = md.get("0 ms", {})
    lines = [f"### 5. Cost per million objects on Lambda arm64 ({latency:g} ms S3 latency)\n",
             f"At ${PRICE_GB_S:.10f} per GB-second and ${PRICE_REQUEST * 1e6:.2f} per million requests "
             f"(AWS's us-east-1 arm64 list prices, {PRICE_DATE}). Below {FULL_VCPU_MB:,} MB Lambda gives a "
             "share of a vCPU in proportion to memory, so the handler's own time (measured with a full core) "
             "is stretched by that share; S3's round trips are not.\n",
             "| handler | memory MB | warm ms | cold ms (init + first) | $ per million, all warm | "
             "$ per million, all cold |", "|---|---:|---:|---:|---:|---:|"]
    for name in (RUST, PYTHON):
        if name not in fast or name not in cs:
            continue
        s = fast[name]["1 MB"]
        floor, own = floor_ms(s, latency), s["latency_ms"]["p50"]
        start, first = cs[name]["start_ms"]["p50"], cs[name]["first_invocation_ms"]["p50"]
        for mem in (memory_mb(cs[name]["peak_rss_mib"]["p50"]), FULL_VCPU_MB):
            stretch = max(1.0, FULL_VCPU_MB / mem)
            warm, cold = floor + own * stretch, floor + (start + first) * stretch
            per_million = lambda ms: 1e6 * (PRICE_REQUEST + math.ceil(ms) / 1000 * mem / 1024 * PRICE_GB_S)  # noqa: E731
            lines.append(f"| {name} | {mem:,} | {warm:.0f} | {cold:.0f} | {per_million(warm):.2f} | "
                         f"{per_million(cold):.2f} |")
    return lines + [""]


def draw(md: dict, latency: float, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    res = md.get(f"{latency:g} ms") or md["0 ms"]
    sizes = list(next(iter(res.values())).keys())
    fig, axes = plt.subplots(1, len(sizes), figsize=(5 * len(sizes), 4.8), sharey=True)
    for ax, size in zip(axes, sizes):
        tools = [t for t in res if size in res[t]]
        ax.boxplot([res[t][size]["latency_ms"]["values"] for t in tools], showfliers=True)
        # Each tool's floor: its round trips times the injected latency.
        ax.scatter(range(1, len(tools) + 1), [max(floor_ms(res[t][size], latency), 0.1) for t in tools],
                   marker="_", s=400, color="tab:red", label="floor (round trips x latency)")
        ax.set_xticks(range(1, len(tools) + 1), [t.replace(" (", "\n(") for t in tools], fontsize=7)
        ax.set_yscale("log")
        ax.set_title(f"{size} COG")
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("latency per object (ms, log scale)")
    axes[0].legend(fontsize=7, loc="upper left")
    fig.suptitle(f"Raster metadata latency per object, S3 with {latency:g} ms per request")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
