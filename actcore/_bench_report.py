"""Reports of the benchmark: terminal table, speed summary, JSON, Markdown, PNG, comparison."""

from __future__ import annotations

import datetime
import json
import math
import os
import platform
import sys

SCHEMA_ID = "actcore-bench/1"

# The JSON document written by --json (and read by --compare).  Types are Python's; "stats" is
# the dict described by STATS.  tests/test_bench.py checks a real run against this.
STATS = {"median_s": float, "q1_s": float, "q3_s": float, "min_s": float, "max_s": float,
         "repeats": int, "inner": int, "buffer_sets": int}
SCHEMA = {
    "schema": str,  # SCHEMA_ID
    "machine": {"cpu": str, "cores": int, "platform": str, "python": str, "date": str,
                "actcore": dict, "env": dict},  # actcore = actcore.config()
    "peers": {"found": dict, "skipped": dict},  # name -> version / reason
    "settings": dict,  # sizes, dtypes, threads, peers, filter, quick, timing, cache size
    "elapsed_s": float,
    "cases": [{
        "op": str, "kind": str, "family": str, "size": int, "dtype": str, "threads": int,
        "shape": list,
        "floor": dict,  # stats + "kind" ("copy" or "add") + "scale"
        "results": dict,  # implementation name -> stats (numpy may add reused_from_threads)
        "skipped": dict,  # implementation name -> reason
        "notes": dict,  # implementation name -> note
        "ratios": {"to_floor": (float, type(None)), "to_best_peer": (float, type(None)),
                   "best_peer": (str, type(None))},
    }],
    "summary": {"targets": list, "text": str},
}
PEER_ORDER = ("numpy", "torch", "onnxruntime", "numexpr", "jax")


# ---------------------------------------------------------------- machine
def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(found, skipped):
    import actcore

    env = {k: v for k, v in os.environ.items()
           if k.startswith(("OMP_", "OPENBLAS_", "MKL_", "ACTCORE_", "GOMP_"))}
    return {
        "schema": SCHEMA_ID,
        "machine": {
            "cpu": cpu_model(), "cores": os.cpu_count() or 1,
            "platform": f"{platform.system()} {platform.release()} {platform.machine()}",
            "python": sys.version.split()[0],
            "date": datetime.datetime.now().isoformat(timespec="seconds"),
            "actcore": actcore.config(), "env": env,
            # other processes competing for the cores make every number noisier and slower
            "loadavg_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else [],
        },
        "peers": {"found": dict(found), "skipped": dict(skipped)},
    }


def header_text(meta):
    m, cfg = meta["machine"], meta["machine"]["actcore"]
    lines = [
        f"actcore {cfg['actcore']} benchmark  {m['date']}",
        f"CPU: {m['cpu']}, {m['cores']} logical cores; ISA in use: {cfg['isa']} "
        f"(built: {', '.join(cfg['isa_built'])}); OpenMP {'on' if cfg['openmp'] else 'off'}; "
        f"{cfg['compiler']}",
        f"{m['platform']}, Python {m['python']}, NumPy {cfg['numpy']}",
        "peers found: " + (", ".join(f"{k} {v}" for k, v in meta["peers"]["found"].items())
                           or "none"),
    ]
    for k, v in meta["peers"]["skipped"].items():
        lines.append(f"peer skipped: {k}: {v}")
    if m.get("loadavg_start"):
        load = m["loadavg_start"][0]
        lines.append(f"load average at start: {load:.2f}" + (
            "  (WARNING: other processes are using the cores; timings will be noisy)"
            if load > 0.5 * m["cores"] else ""))
    if m["env"]:
        lines.append("env: " + " ".join(f"{k}={v}" for k, v in sorted(m["env"].items())))
    s = meta.get("settings")
    if s:
        lines.append(f"sizes {s['sizes']}, dtypes {s['dtypes']}, threads {s['threads']}, "
                     f"min time {s['min_time_s']} s per measurement, last-level cache "
                     f"{s['llc_bytes'] // 1024**2} MiB")
    return "\n".join(lines)


# ---------------------------------------------------------------- document
def _ratios(results):
    act = results.get("actcore")
    peer_times = {k: v["median_s"] for k, v in results.items() if k in PEER_ORDER}
    best = min(peer_times, key=peer_times.get) if peer_times else None
    return act, best, peer_times


def case_dict(case):
    act, best, peer_times = _ratios(case.results)
    floor = case.floor["median_s"] if case.floor else None
    return {
        "op": case.op, "kind": case.kind, "family": case.family, "size": case.size,
        "dtype": case.dtype, "threads": case.threads, "shape": list(case.shape),
        "floor": case.floor or {}, "results": case.results, "skipped": case.skipped,
        "notes": case.notes,
        "ratios": {
            "to_floor": act["median_s"] / floor if act and floor else None,
            "to_best_peer": act["median_s"] / peer_times[best] if act and best else None,
            "best_peer": best,
        },
    }


def build_document(meta, cases):
    doc = dict(meta)
    doc["cases"] = [case_dict(c) for c in cases]
    doc["summary"] = speed_summary(doc)
    return doc


def write_json(doc, path):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=False)
        f.write("\n")


def read_json(path):
    with open(path) as f:
        doc = json.load(f)
    if doc.get("schema") != SCHEMA_ID:
        raise ValueError(f"{path}: not an actcore benchmark file (schema "
                         f"{doc.get('schema')!r}, expected {SCHEMA_ID!r})")
    return doc


def check_schema(doc, schema=SCHEMA, where="doc"):
    """Raise ValueError at the first place doc does not match schema."""
    if isinstance(schema, dict):
        if not isinstance(doc, dict):
            raise ValueError(f"{where}: expected an object, got {type(doc).__name__}")
        for key, sub in schema.items():
            if key not in doc:
                raise ValueError(f"{where}: missing key {key!r}")
            check_schema(doc[key], sub, f"{where}.{key}")
    elif isinstance(schema, list):
        if not isinstance(doc, list):
            raise ValueError(f"{where}: expected a list, got {type(doc).__name__}")
        for i, item in enumerate(doc if schema else []):
            check_schema(item, schema[0], f"{where}[{i}]")
    else:
        ok = isinstance(doc, schema) and not (schema is float and isinstance(doc, bool))
        if schema is float and isinstance(doc, int) and not isinstance(doc, bool):
            ok = True
        if not ok:
            raise ValueError(f"{where}: expected {schema}, got {type(doc).__name__}")
    if where.endswith(".results"):
        for impl, stats in doc.items():
            check_schema(stats, STATS, f"{where}.{impl}")


# ---------------------------------------------------------------- formatting
def fmt_time(s):
    if s is None:
        return "-"
    for unit, mult in (("s", 1), ("ms", 1e3), ("us", 1e6), ("ns", 1e9)):
        if s * mult >= 1:
            v = s * mult
            return f"{v:.3g} {unit}" if v < 100 else f"{v:.0f} {unit}"
    return f"{s * 1e9:.2g} ns"


def fmt_ratio(r):
    return "-" if r is None else f"{r:.2f}x"


def fmt_size(n):
    e = math.log2(n)
    return f"2^{int(e)}" if e == int(e) and n >= 1024 else str(n)


def _rows(doc, cases=None):
    impls = [p for p in PEER_ORDER if p in doc["peers"]["found"]]
    head = ["case", "n", "dtype", "thr", "actcore", "iqr", "floor", "x floor", "best peer",
            "x best"] + impls
    rows = []
    for c in cases if cases is not None else doc["cases"]:
        act = c["results"].get("actcore")
        r = c["ratios"]
        iqr = (f"{100 * (act['q3_s'] - act['q1_s']) / act['median_s']:.0f}%"
               if act and act["median_s"] else "-")
        rows.append([f"{c['op']}.{c['kind']}", fmt_size(c["size"]), c["dtype"].replace(
            "float", "f"), str(c["threads"]),
            fmt_time(act["median_s"]) if act else "skip", iqr,
            fmt_time(c["floor"].get("median_s")), fmt_ratio(r["to_floor"]),
            r["best_peer"] or "-", fmt_ratio(r["to_best_peer"])]
            + [fmt_time(c["results"][p]["median_s"]) if p in c["results"] else "-"
               for p in impls])
    return head, rows


def table_text(doc):
    head, rows = _rows(doc)
    widths = ([max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]
              if rows else [])
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)),
             "  ".join("-" * w for w in widths)]
    for r in rows:
        lines.append("  ".join(str(x).ljust(w) for x, w in zip(r, widths, strict=True)))
    lines.append("x floor: actcore time / memory floor; x best: actcore time / fastest peer "
                 "(< 1 means actcore is faster)")
    return "\n".join(lines)


def _md_table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(str(x) for x in r) + " |" for r in rows]
    return "\n".join(out)


# ---------------------------------------------------------------- speed summary (SPEC §6)
def speed_summary(doc):
    """The SPEC §6 targets, evaluated on the numbers of this run."""
    cases = doc["cases"]
    targets = []
    if not cases:
        return {"targets": targets, "text": "No cases were run."}
    sizes = sorted({c["size"] for c in cases})
    threads = sorted({c["threads"] for c in cases})
    big, tmax = sizes[-1], threads[-1]
    f32 = [c for c in cases if c["dtype"] == "float32"]

    def find(op, kind, size, t, dtype="float32"):
        for c in cases:
            if (c["op"], c["kind"], c["size"], c["threads"], c["dtype"]) == (op, kind, size,
                                                                              t, dtype):
                return c
        return None

    # 1. large arrays: within 1.25x of the floor and faster than every peer
    for c in f32:
        if c["size"] != big or c["threads"] != tmax or c["family"] not in ("forward",
                                                                          "gradient"):
            continue
        r = c["ratios"]
        targets.append({
            "target": "large", "case": f"{c['op']}.{c['kind']}", "size": big, "threads": tmax,
            "to_floor": r["to_floor"], "within_floor": _le(r["to_floor"], 1.25),
            "to_best_peer": r["to_best_peer"], "best_peer": r["best_peer"],
            "beats_peers": _lt(r["to_best_peer"], 1.0),
        })
    # 2. in-cache, one thread: at least as fast as the fastest peer at every size 2^14..2^16
    hot = [s for s in sizes if 2**14 <= s <= 2**16]
    if hot and 1 in threads:
        for op, kind in sorted({(c["op"], c["kind"]) for c in f32
                                if c["family"] in ("forward", "gradient")}):
            rs = [find(op, kind, s, 1) for s in hot]
            rs = [c["ratios"]["to_best_peer"] for c in rs if c]
            rs = [r for r in rs if r is not None]
            targets.append({"target": "in_cache", "case": f"{op}.{kind}", "threads": 1,
                            "worst_to_best_peer": max(rs) if rs else None,
                            "beats_peers": _le(max(rs), 1.0) if rs else None})
    # 3. tiny: call overhead no more than np.maximum(x, 0, out=y)'s
    ref = find("relu", "fwd", 1000, 1)
    npmax = ref["results"].get("numpy", {}).get("median_s") if ref else None
    if npmax and 2**16 in sizes:
        for c in f32:
            if c["size"] != 1000 or c["threads"] != 1 or c["kind"] != "fwd" or \
                    c["family"] != "forward" or "actcore" not in c["results"]:
                continue
            hotc = find(c["op"], c["kind"], 2**16, 1)
            if not hotc or "actcore" not in hotc["results"]:
                continue
            per_elem = hotc["results"]["actcore"]["median_s"] / 2**16
            overhead = c["results"]["actcore"]["median_s"] - 1000 * per_elem
            targets.append({"target": "tiny", "case": f"{c['op']}.fwd",
                            "overhead_s": overhead, "np_maximum_s": npmax,
                            "ok": overhead <= npmax})
    # 4. batch norm
    for c in f32:
        if c["family"] != "batch_norm" or c["size"] != big or "actcore" not in c["results"]:
            continue
        limit = 1.25 if c["kind"] == "infer_relu" else 1.5
        torch_ok = []
        for t in threads:
            ct = find(c["op"], c["kind"], big, t)
            if ct and "torch" in ct["results"] and "actcore" in ct["results"]:
                torch_ok.append(ct["results"]["actcore"]["median_s"]
                                < ct["results"]["torch"]["median_s"])
        if c["threads"] == tmax:
            targets.append({"target": "batch_norm", "case": f"{c['op']}.{c['kind']}",
                            "size": big, "threads": tmax, "to_floor": c["ratios"]["to_floor"],
                            "limit": limit, "within_floor": _le(c["ratios"]["to_floor"], limit),
                            "beats_torch_all_threads": all(torch_ok) if torch_ok else None})
    return {"targets": targets, "text": _summary_paragraph(targets, big, tmax)}


def _le(r, limit):
    return None if r is None else bool(r <= limit)


def _lt(r, limit):
    return None if r is None else bool(r < limit)


def _summary_paragraph(targets, big, tmax):
    parts = []
    large = [t for t in targets if t["target"] == "large"]
    if large:
        where = f"{fmt_size(big)} float32 elements on {tmax} thread{'s' * (tmax > 1)}"
        if big != 2**24:
            where += f" (the spec's size is 2^24; this run's largest was {fmt_size(big)})"
        for kind_name, sel in (("forward ops", lambda t: t["case"].endswith(".fwd")),
                               ("gradients", lambda t: not t["case"].endswith(".fwd"))):
            rows = [t for t in large if sel(t)]
            if not rows:
                continue
            n_floor = sum(bool(t["within_floor"]) for t in rows)
            n_peer = sum(bool(t["beats_peers"]) for t in rows)
            n_cmp = sum(t["beats_peers"] is not None for t in rows)
            text = (f"At {where}, {n_floor} of {len(rows)} {kind_name} are within 1.25x of "
                    f"the memory floor and {n_peer} of {n_cmp} with a peer beat every peer.")
            worst = sorted((t for t in rows if t["to_floor"] is not None and
                            not t["within_floor"]), key=lambda t: -t["to_floor"])[:4]
            if worst:
                text += " Furthest from the floor: " + ", ".join(
                    f"{t['case']} {t['to_floor']:.2f}x" for t in worst) + "."
            behind = sorted((t for t in rows if t["beats_peers"] is False),
                            key=lambda t: -t["to_best_peer"])[:4]
            if behind:
                text += " Slower than a peer: " + ", ".join(
                    f"{t['case']} ({t['best_peer']} is {t['to_best_peer']:.2f}x faster)"
                    for t in behind) + "."
            parts.append(text)
    hot = [t for t in targets if t["target"] == "in_cache" and t["beats_peers"] is not None]
    if hot:
        lose = sorted((t for t in hot if not t["beats_peers"]),
                      key=lambda t: -t["worst_to_best_peer"])
        text = (f"In cache (2^14 to 2^16, one thread), actcore is at least as fast as the fastest "
                f"peer for {len(hot) - len(lose)} of {len(hot)} op/kinds")
        if lose:
            text += "; behind for " + ", ".join(f"{t['case']} ({t['worst_to_best_peer']:.2f}x)"
                                                for t in lose[:5])
            if len(lose) > 5:
                text += f" and {len(lose) - 5} more"
        parts.append(text + ".")
    tiny = [t for t in targets if t["target"] == "tiny"]
    if tiny:
        bad = [t for t in tiny if not t["ok"]]
        text = (f"At 1,000 float32 elements the estimated call overhead is within "
                f"np.maximum(x, 0, out=y)'s ({fmt_time(tiny[0]['np_maximum_s'])}) for "
                f"{len(tiny) - len(bad)} of {len(tiny)} forward ops")
        if bad:
            text += "; over it for " + ", ".join(
                f"{t['case']} ({fmt_time(t['overhead_s'])})" for t in bad[:5])
        parts.append(text + ".")
    for t in (t for t in targets if t["target"] == "batch_norm"):
        vs = {True: "faster than PyTorch at every thread count",
              False: "not faster than PyTorch at every thread count",
              None: "not compared with PyTorch"}[t["beats_torch_all_threads"]]
        parts.append(f"Batch norm {t['case']}: {fmt_ratio(t['to_floor'])} the floor (target "
                     f"{t['limit']}x), {vs}.")
    return " ".join(parts) if parts else "Not enough cases in this run for the speed summary."


def summary_text(doc):
    lines = ["", "Speed summary (SPEC §6)", "-----------------------"]
    for t in doc["summary"]["targets"]:
        if t["target"] == "large":
            lines.append(f"{t['case']:<28} {fmt_size(t['size'])} t={t['threads']}: "
                         f"{fmt_ratio(t['to_floor'])} floor "
                         f"[{_mark(t['within_floor'])}], vs best peer "
                         f"{fmt_ratio(t['to_best_peer'])} ({t['best_peer'] or '-'}) "
                         f"[{_mark(t['beats_peers'])}]")
    for t in doc["summary"]["targets"]:
        if t["target"] == "batch_norm":
            lines.append(f"{t['case']:<28} {fmt_size(t['size'])} t={t['threads']}: "
                         f"{fmt_ratio(t['to_floor'])} floor (limit {t['limit']}x) "
                         f"[{_mark(t['within_floor'])}], beats torch at all thread counts "
                         f"[{_mark(t['beats_torch_all_threads'])}]")
    lines += ["", doc["summary"]["text"]]
    return "\n".join(lines)


def _mark(v):
    return {True: "ok", False: "MISS", None: "n/a"}[v]


# ---------------------------------------------------------------- Markdown
def markdown_text(doc):
    m, cfg = doc["machine"], doc["machine"]["actcore"]
    out = ["# actcore benchmark results", "",
           f"Generated by `python -m actcore bench` on {m['date']} in {doc['elapsed_s']} s.", "",
           "## Summary", "", doc["summary"]["text"], "",
           "## Machine", "",
           f"- CPU: {m['cpu']}, {m['cores']} logical cores; {m['platform']}",
           f"- actcore {cfg['actcore']}: ISA in use **{cfg['isa']}** (built "
           f"{', '.join(cfg['isa_built'])}), {cfg['compiler']}, OpenMP "
           f"{'on' if cfg['openmp'] else 'off'}, serial below {cfg['parallel_min']} elements",
           f"- Python {m['python']}, NumPy {cfg['numpy']}"]
    if m.get("loadavg_start"):
        out.append(f"- load average at start {m['loadavg_start'][0]:.2f}" + (
            " (other processes were using the cores: numbers are noisier and slower than "
            "on an idle machine)" if m["loadavg_start"][0] > 0.5 * m["cores"] else ""))
    for k, v in doc["peers"]["found"].items():
        out.append(f"- peer {k} {v}")
    for k, v in doc["peers"]["skipped"].items():
        out.append(f"- peer {k} skipped: {v}")
    if m["env"]:
        out.append("- environment: " + ", ".join(f"`{k}={v}`" for k, v in sorted(
            m["env"].items())))
    s = doc["settings"]
    out += ["", "## Method", "",
            f"Sizes {', '.join(fmt_size(n) for n in s['sizes'])} elements; dtypes "
            f"{', '.join(s['dtypes'])}; threads {', '.join(map(str, s['threads']))}. Every "
            "implementation gets the same random-normal input (scale 2) and a preallocated "
            "output (`out=`, in-place or io_binding), at the case's thread count. Times are "
            f"medians per call over samples filling at least {s['min_time_s']} s after a "
            "warm-up, with the interquartile range; sizes above 2^16 rotate between buffer "
            f"sets so that data are not cache-resident (last-level cache "
            f"{s['llc_bytes'] // 1024**2} MiB). The floor is a plain OpenMP copy (forward: "
            "read x, write y) or add (gradients: three streams) with actcore's threads, "
            "measured in every case right before actcore. "
            "NumPy/SciPy ufuncs are single-threaded, so they are measured once per case and "
            "reported at every thread count. `x floor` = actcore / floor; `x best` = actcore / "
            "fastest peer (below 1: actcore is faster). Kinds: `fwd` forward, `grad` gradient "
            "from x, `gout` gradient from the forward output (torch's sigmoid/tanh/relu "
            "backward), `infer_relu` batch norm inference with a fused ReLU, `train` batch norm "
            "forward + backward.", "",
            "## Speed targets (SPEC §6)", ""]
    rows = []
    for t in doc["summary"]["targets"]:
        if t["target"] == "large":
            rows.append([t["case"], f"{fmt_size(t['size'])} f32 t={t['threads']}",
                         fmt_ratio(t["to_floor"]), _mark(t["within_floor"]),
                         f"{fmt_ratio(t['to_best_peer'])} ({t['best_peer'] or '-'})",
                         _mark(t["beats_peers"])])
        elif t["target"] == "batch_norm":
            rows.append([t["case"], f"{fmt_size(t['size'])} f32 t={t['threads']}",
                         fmt_ratio(t["to_floor"]) + f" (limit {t['limit']}x)",
                         _mark(t["within_floor"]), "vs torch, all thread counts",
                         _mark(t["beats_torch_all_threads"])])
    out.append(_md_table(["case", "where", "x floor", "<= 1.25x", "x best peer", "beats all"],
                         rows))
    families = [("forward", "Forward activations"), ("gradient", "Gradients"),
                ("axis", "Axis ops"), ("batch_norm", "Batch norm")]
    for fam, title in families:
        cs = [c for c in doc["cases"] if c["family"] == fam]
        if not cs:
            continue
        out += ["", f"## {title}", ""]
        cs.sort(key=lambda c: (c["dtype"], c["threads"], c["op"], c["kind"], c["size"]))
        head, rows = _rows(doc, cs)
        out.append(_md_table(head, rows))
    skips = {}
    for c in doc["cases"]:
        for impl, why in c["skipped"].items():
            skips.setdefault((impl, why), set()).add(f"{c['op']}.{c['kind']}")
    notes = {}
    for c in doc["cases"]:
        for impl, why in c["notes"].items():
            notes.setdefault((impl, why.split(" at ")[0]), set()).add(
                f"{c['op']}.{c['kind']} {fmt_size(c['size'])} {c['dtype']}")
    if notes:
        out += ["", "## Notes", ""]
        for (impl, why), names in sorted(notes.items()):
            out.append(f"- {impl}: {why}: {', '.join(sorted(names))}")
    if skips:
        out += ["", "## Skipped", ""]
        for (impl, why), names in sorted(skips.items()):
            out.append(f"- {impl}: {why}: {', '.join(sorted(names))}")
    return "\n".join(out) + "\n"


def write_markdown(doc, path):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write(markdown_text(doc))


# ---------------------------------------------------------------- plots
def write_plots(doc, directory):
    """One grid per family (forward, gradient, composite) and thread count, float32."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        return f"--plot: matplotlib is not installed ({exc}); no charts written"
    os.makedirs(directory, exist_ok=True)
    written = []
    colours = {"actcore": "C3", "numpy": "C0", "torch": "C1", "onnxruntime": "C2",
               "numexpr": "C4", "jax": "C5"}
    groups = {"forward": ("forward",), "gradient": ("gradient",),
              "composite": ("axis", "batch_norm")}
    dtype = "float32" if any(c["dtype"] == "float32" for c in doc["cases"]) else "float64"
    for gname, fams in groups.items():
        for t in sorted({c["threads"] for c in doc["cases"]}):
            cs = [c for c in doc["cases"] if c["family"] in fams and c["dtype"] == dtype
                  and c["threads"] == t]
            names = list(dict.fromkeys(f"{c['op']}.{c['kind']}" for c in cs))
            if not names:
                continue
            ncol = min(6, len(names))
            nrow = math.ceil(len(names) / ncol)
            fig, axes = plt.subplots(nrow, ncol, figsize=(3.0 * ncol, 2.4 * nrow),
                                     squeeze=False, sharex=True)
            for ax, name in zip(axes.flat, names, strict=False):
                sel = sorted((c for c in cs if f"{c['op']}.{c['kind']}" == name),
                             key=lambda c: c["size"])
                xs = [c["size"] for c in sel]
                for impl in ("actcore",) + PEER_ORDER:
                    pts = [(c["size"], c["results"][impl]["median_s"] / c["size"] * 1e9)
                           for c in sel if impl in c["results"]]
                    if pts:
                        ax.plot(*zip(*pts, strict=True), marker=".", label=impl,
                                color=colours[impl],
                                lw=2.2 if impl == "actcore" else 1.0)
                fl = [c["floor"]["median_s"] / c["size"] * 1e9 for c in sel if c["floor"]]
                if len(fl) == len(xs):
                    ax.plot(xs, fl, "k--", lw=1, label="floor")
                ax.set_xscale("log", base=2)
                ax.set_yscale("log")
                ax.set_title(name, fontsize=9)
                ax.tick_params(labelsize=7)
            for ax in list(axes.flat)[len(names):]:
                ax.set_visible(False)
            handles = {}
            for ax in axes.flat:
                for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
                    handles.setdefault(lab, h)
            fig.legend(list(handles.values()), list(handles), loc="upper center",
                       ncol=len(handles), fontsize=8)
            fig.supxlabel("elements", fontsize=9)
            fig.supylabel("ns per element (median)", fontsize=9)
            fig.suptitle(f"{gname}, {dtype}, {t} thread{'s' * (t > 1)}", y=0.995, fontsize=10,
                         x=0.02, ha="left")
            fig.tight_layout(rect=(0, 0, 1, 0.96))
            path = os.path.join(directory, f"{gname}_{dtype}_t{t}.png")
            fig.savefig(path, dpi=80)
            plt.close(fig)
            written.append(path)
    return "wrote " + ", ".join(written) if written else "--plot: nothing to plot"


# ---------------------------------------------------------------- compare
def compare_text(old, new):
    """new/old median time of actcore per case present in both (below 1: faster now)."""
    def key(c):
        return (c["op"], c["kind"], c["size"], c["dtype"], c["threads"])

    before = {key(c): c for c in old["cases"]}
    rows, logs = [], []
    for c in new["cases"]:
        o = before.get(key(c))
        if not o or "actcore" not in c["results"] or "actcore" not in o["results"]:
            continue
        r = c["results"]["actcore"]["median_s"] / o["results"]["actcore"]["median_s"]
        fo, fn = o["ratios"]["to_floor"], c["ratios"]["to_floor"]
        logs.append(math.log(r))
        rows.append((f"{c['op']}.{c['kind']}", fmt_size(c["size"]), c["dtype"],
                     str(c["threads"]), fmt_time(o["results"]["actcore"]["median_s"]),
                     fmt_time(c["results"]["actcore"]["median_s"]), f"{r:.3f}",
                     f"{fmt_ratio(fo)} -> {fmt_ratio(fn)}"))
    if not rows:
        return "compare: no case in common with the old run"
    head = ("case", "n", "dtype", "thr", "old", "new", "new/old", "x floor")
    widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=True)]
    lines = ["", "Comparison with the earlier run (new/old time; below 1 is faster now)",
             "  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))]
    lines += ["  ".join(x.ljust(w) for x, w in zip(r, widths, strict=True)) for r in rows]
    lines.append(f"geometric mean new/old over {len(rows)} cases: "
                 f"{math.exp(sum(logs) / len(logs)):.3f}")
    missing = len(set(before) - {key(c) for c in new["cases"]})
    if missing:
        lines.append(f"{missing} case(s) of the old run are not in this one")
    return "\n".join(lines)
