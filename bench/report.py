"""The tables of docs/benchmarks.md and the latency plot, from the results of bench.py."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# ----------------------------------------------------------------- report

def report(results: dict, plot: Path | None) -> str:
    lines = []
    m = results["machine"]
    lines.append(f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, {m['os']}; "
                 f"GDAL {m['gdal']}; Python {m['python']}; {m['date']}.\n")
    if "metadata" in results:
        lines.append("### 1. Metadata of one object (moto S3, warm)\n")
        lines.append("| tool | size | p50 ms | p95 ms | requests | bytes fetched | vs gdal-lambda (p50) |")
        lines.append("|---|---|---:|---:|---:|---:|---:|")
        md = results["metadata"]
        ref = md.get("gdal-lambda (Rust)", {})
        for tool, per_size in md.items():
            for size, s in per_size.items():
                p50 = s["latency_ms"]["p50"]
                ratio = p50 / ref[size]["latency_ms"]["p50"] if size in ref else float("nan")
                lines.append(f"| {tool} | {size} | {p50:.1f} | {s['latency_ms']['p95']:.1f} | {s['requests']:g} | "
                             f"{s['bytes']:,.0f} | {ratio:.1f}x |")
        lines.append("")
    if "cold_start" in results:
        lines.append("### 2. Cold start (spawn to first GET /next) and peak RSS for one invocation\n")
        lines.append("| handler | start p50 ms | start p95 ms | peak RSS p50 MiB |")
        lines.append("|---|---:|---:|---:|")
        for name, r in results["cold_start"].items():
            lines.append(f"| {name} | {r['start_ms']['p50']:.1f} | {r['start_ms']['p95']:.1f} | "
                         f"{r['peak_rss_mib']['p50']:.1f} |")
        cs = results["cold_start"]
        if len(cs) == 2:
            a, b = (cs[k]["start_ms"]["p50"] for k in cs)
            lines.append(f"\nRatio: Python+GDAL / Rust = {b / a:.1f}x\n")
    if "runner" in results:
        lines.append("### 3. Runner overhead (code and payload on moto S3)\n")
        lines.append("| function | run → handler p50 ms | p95 | run total p50 ms | direct start → handler p50 ms | overhead ms |")
        lines.append("|---|---:|---:|---:|---:|---:|")
        for name, r in results["runner"].items():
            lines.append(f"| {name} | {r['run_to_handler_ms']['p50']:.1f} | {r['run_to_handler_ms']['p95']:.1f} | "
                         f"{r['run_total_ms']['p50']:.1f} | {r['direct_to_handler_ms']['p50']:.1f} | "
                         f"{r['overhead_ms']:.1f} |")
        lines.append("")
    if "throughput" in results:
        lines.append("### 4. Throughput through one handler process (events of 10 records)\n")
        lines.append("| handler | objects | objects/s | seconds |")
        lines.append("|---|---|---:|---:|")
        for name, rates in results["throughput"].items():
            for label, r in rates.items():
                lines.append(f"| {name} | {label} | {r['objects_per_s']:.1f} | {r['seconds']:.2f} |")
        lines.append("")
    if plot and "metadata" in results:
        draw(results["metadata"], plot)
        lines.append(f"![latency distributions]({os.path.relpath(plot, ROOT / 'docs')})\n")
    return "\n".join(lines)


def draw(md: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    sizes = list(next(iter(md.values())).keys())
    fig, axes = plt.subplots(1, len(sizes), figsize=(5 * len(sizes), 4.5), sharey=True)
    for ax, size in zip(axes, sizes):
        tools = [t for t in md if size in md[t]]
        ax.boxplot([md[t][size]["latency_ms"]["values"] for t in tools], showfliers=True)
        ax.set_xticks(range(1, len(tools) + 1), [t.replace(" (", "\n(") for t in tools], fontsize=7)
        ax.set_yscale("log")
        ax.set_title(f"{size} COG on moto S3")
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("latency per object (ms, log scale)")
    fig.suptitle("Raster metadata latency per object")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)

