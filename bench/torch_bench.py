#!/usr/bin/env python3
"""`npm run bench:torch [-- args]`: PyTorch's nn.LSTM / nn.GRU on the standard workloads, side
by side with fused-rnn (and oneDNN) as build-bench/bench_rnn --csv measures them in the same run.

    python3 bench/torch_bench.py [workload...] [lstm|gru|gru_ra|gru_rb...] [infer|train] [t1|t2]
                                 [--budget=SECONDS] [--no-native] [--csv]

Workloads mirror bench/shapes.json (like bench/run.js and bench/native/bench_rnn.cc).
infer = forward under torch.no_grad(); train = forward + backward(dy) with x.requires_grad
(dx and every weight gradient, accumulated into .grad like fused-rnn's dparams). Median time
per call over a time budget, GFLOP/s with shapes.json's count (2*T*B*(I+H)*G*H per forward,
3x per training step). PyTorch has no reset_after=false GRU, so gru_rb rows show fused-rnn and
oneDNN only. Exits 0 with a message when PyTorch is absent.
"""
import os
import subprocess
import sys
import time

try:
    import torch
except ImportError:
    # Debian's python3-torch is installed for /usr/bin/python3; a pyenv/venv python3 first on
    # PATH does not see it. Retry once with the system interpreter.
    alt = "/usr/bin/python3"
    if (os.path.exists(alt) and os.path.realpath(sys.executable) != os.path.realpath(alt)
            and not os.environ.get("FRNN_TORCH_REEXEC")):
        os.environ["FRNN_TORCH_REEXEC"] = "1"
        os.execv(alt, [alt] + sys.argv)
    print("bench:torch: PyTorch is not installed (Debian: apt-get install python3-torch); "
          "nothing to compare. fused-rnn alone: npm run bench:native")
    sys.exit(0)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NATIVE = os.path.join(ROOT, "build-bench", "bench_rnn")

# name, T, B, I, H, train — mirrors bench/shapes.json
WORKLOADS = [
    ("stream", 1, 1, 64, 128, False),
    ("small", 32, 16, 32, 64, True),
    ("medium", 50, 64, 128, 256, True),
    ("large", 50, 128, 512, 512, True),
    ("long", 500, 8, 64, 256, True),
]
CELLS = [("lstm", 4), ("gru_ra", 3), ("gru_rb", 3)]  # gru_ra = nn.GRU (reset_after=true)
MODES = ["infer", "train"]


def parse(argv):
    o = {"workloads": [], "cells": [], "modes": [], "threads": [], "budget": 0.5, "native": True,
         "csv": False, "pass": []}
    for a in argv:
        if a in [w[0] for w in WORKLOADS]:
            o["workloads"].append(a)
        elif any(c == a or c.startswith(a + "_") for c, _ in CELLS):
            o["cells"].append(a)
        elif a in MODES:
            o["modes"].append(a)
        elif len(a) > 1 and a[0] == "t" and a[1:].isdigit() and int(a[1:]) > 0:
            o["threads"].append(int(a[1:]))
        elif a.startswith("--budget="):
            o["budget"] = float(a.split("=", 1)[1])
            continue
        elif a == "--no-native":
            o["native"] = False
            continue
        elif a == "--csv":
            o["csv"] = True
            continue
        elif a in ("-h", "--help"):
            print(__doc__)
            sys.exit(0)
        else:
            sys.exit(f"torch_bench: unknown argument '{a}'")
        o["pass"].append(a)  # the same selection for bench_rnn
    o["threads"] = o["threads"] or [1, 2]
    return o


def selected(filt, name):
    return not filt or any(name == f or name.startswith(f + "_") for f in filt)


class CpuMeter:
    """Cores kept busy by other processes (all CPUs' busy time minus ours, per wall second)."""

    def __init__(self):
        self.wall, self.all, self.me = time.perf_counter(), self._all(), self._me()

    @staticmethod
    def _all():
        try:
            with open("/proc/stat") as f:
                v = [int(x) for x in f.readline().split()[1:9]]
            return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError):
            return None

    @staticmethod
    def _me():
        t = os.times()
        return t.user + t.system

    def others(self):
        a = self._all()
        if a is None or self.all is None:
            return -1.0
        wall = time.perf_counter() - self.wall
        return max(0.0, ((a - self.all) - (self._me() - self.me)) / wall)


MIN_SAMPLES = 3


def time_calls(fn, first_s, budget):
    """Median seconds per warm call (the caller's warm-up call is never a sample; first_s is unused):
    at least MIN_SAMPLES calls whatever the budget, as bench_rnn's time_calls, so medians compare."""
    samples = []
    start = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
        el = time.perf_counter() - start
        if (el >= budget and len(samples) >= MIN_SAMPLES) or len(samples) >= 200000:
            break
    samples.sort()
    n = len(samples)
    med = samples[n // 2] if n % 2 else 0.5 * (samples[n // 2 - 1] + samples[n // 2])
    return med, n


_openblas = []  # openblas_set_num_threads, when the BLAS is OpenBLAS


def set_threads(n):
    # torch.set_num_threads sets OpenMP's count, which the OpenMP build of OpenBLAS follows; a
    # pthreads OpenBLAS keeps its own count, set here too.
    torch.set_num_threads(n)
    for f in _openblas:
        f(n)


def torch_case(cell, T, B, I, H, train, threads, budget):
    set_threads(threads)
    torch.manual_seed(0)
    m = torch.nn.LSTM(I, H) if cell == "lstm" else torch.nn.GRU(I, H)
    x = torch.rand(T, B, I) * 2 - 1
    if train:
        x.requires_grad_(True)
        dy = torch.rand(T, B, H) * 2 - 1

        def call():
            y, _ = m(x)
            y.backward(dy)
    else:
        def call():
            with torch.no_grad():
                m(x)
    t0 = time.perf_counter()
    call()  # warm-up, and the check below
    first = time.perf_counter() - t0
    if train:
        assert torch.isfinite(x.grad).all() and all(torch.isfinite(p.grad).all() for p in m.parameters())
    meter = CpuMeter()
    med, n = time_calls(call, first, budget)
    return med, n, meter.others()


def blas_in_use():
    torch.mm(torch.ones(64, 64), torch.ones(64, 64))  # loads the BLAS
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                p = line.split()[-1]
                if "blas" in os.path.basename(p):
                    libs.add(os.path.realpath(p))
    except OSError:
        pass
    import ctypes
    for p in libs:
        try:
            _openblas.append(ctypes.CDLL(p).openblas_set_num_threads)
            break
        except (OSError, AttributeError):
            pass
    names = ", ".join(sorted(libs)) or "unknown"
    if libs and not any("openblas" in p for p in libs):
        names += " (reference BLAS? Debian: apt-get install libopenblas0-openmp)"
    return names


def run_native(o):
    """Runs bench_rnn --csv on the same selection; returns ({key: row}, header comments)."""
    if not o["native"]:
        return {}, ["fused-rnn: skipped (--no-native)"]
    if not os.path.exists(NATIVE):
        return {}, [f"fused-rnn: {os.path.relpath(NATIVE, ROOT)} not built (npm run bench:native builds it); "
                    "PyTorch alone"]
    cmd = [NATIVE, "--csv", f"--budget={o['budget']}"] + o["pass"]
    print("running " + " ".join([os.path.relpath(NATIVE, ROOT)] + cmd[1:]) + " ...", file=sys.stderr, flush=True)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    rows, notes, header = {}, [], None
    for line in proc.stdout:
        line = line.rstrip("\n")
        if line.startswith("#"):
            notes.append(line[1:].strip())
            continue
        f = line.split(",")
        if header is None:
            header = f
            continue
        r = dict(zip(header, f))
        rows[(r["workload"], r["cell"], r["mode"], int(r["threads"]), r["impl"])] = r
        print(f"  {r['workload']} {r['cell']} {r['mode']} t{r['threads']} {r['impl']}: "
              f"{float(r['gflops']):.2f} GFLOP/s", file=sys.stderr, flush=True)
    if proc.wait() != 0:
        notes.append(f"FAIL: bench_rnn exited with {proc.returncode} (an error, or oneDNN disagreeing with us)")
    return rows, notes, proc.returncode


def fmt_time(s):
    return f"{s * 1e6:.1f} us" if s < 1e-3 else f"{s * 1e3:.2f} ms" if s < 1 else f"{s:.2f} s"


def main():
    o = parse(sys.argv[1:])
    blas = blas_in_use()
    native, notes, native_rc = run_native(o)
    have_dnnl = any(k[4] == "onednn" for k in native)
    peak = {int(r["threads"]): float(r["peak_gflops"]) for r in native.values()}

    out = []  # (key, torch seconds, n, bg)
    cfgs = [(w, c, mode, t) for w in WORKLOADS if selected(o["workloads"], w[0])
            for c in CELLS if selected(o["cells"], c[0])
            for mode in MODES if selected(o["modes"], mode) and (mode == "infer" or w[5])
            for t in o["threads"]]
    for (name, T, B, I, H, _), (cell, G), mode, t in cfgs:
        gflop = 2.0 * T * B * (I + H) * G * H * (3 if mode == "train" else 1) / 1e9
        res = None
        if cell != "gru_rb":
            print(f"  {name} {cell} {mode} t{t} torch ...", file=sys.stderr, flush=True)
            res = torch_case(cell, T, B, I, H, mode == "train", t, o["budget"])
        out.append(((name, cell, mode, t), gflop, res))

    info = [f"PyTorch {torch.__version__}, BLAS {blas}, "
            f"{torch.__config__.parallel_info().splitlines()[-1].strip()}"] + notes
    if o["csv"]:
        for line in info:
            print("# " + line)
        print("workload,cell,mode,threads,impl,gflop,us_per_call,gflops,pct_peak,n,bg")
        for key, gflop, res in out:
            for impl in ("fused-rnn", "onednn"):
                r = native.get(key + (impl,))
                if r:
                    print(",".join([*map(str, key), impl, f"{gflop:.6g}", r["us_per_call"], r["gflops"],
                                    r["pct_peak"], r["n"], r["bg"]]))
            if res:
                s, n, bg = res
                pk = peak.get(key[3], 0)
                print(",".join([*map(str, key), "torch", f"{gflop:.6g}", f"{s * 1e6:.6g}", f"{gflop / s:.6g}",
                                f"{100 * gflop / s / pk:.4g}" if pk else "", str(n), f"{bg:.2f}"]))
        sys.exit(1 if native_rc else 0)

    for line in info:
        print(line)
    print("\nGFLOP/s per implementation (FLOPs as shapes.json counts them); ours/x = x's time / ours "
          "(>1: fused-rnn faster);\nbg = most cores busy with other processes during any of the row's timings")
    hdr = f"{'shape':7} {'cell':6} {'mode':5} {'thr':>3} | {'fused-rnn':>9} "
    if have_dnnl:
        hdr += f"{'oneDNN':>9} "
    hdr += f"{'PyTorch':>9} {'torch time':>10} | "
    if have_dnnl:
        hdr += f"{'ours/dnnl':>9} "
    hdr += f"{'ours/torch':>10} | {'bg':>4}"
    print(hdr)
    for key, gflop, res in out:
        ours = native.get(key + ("fused-rnn",))
        dnnl = native.get(key + ("onednn",))
        g = lambda r: f"{float(r['gflops']):9.2f}" if r else f"{'-':>9}"
        line = f"{key[0]:7} {key[1]:6} {key[2]:5} {key[3]:3d} | {g(ours)} "
        if have_dnnl:
            line += f"{g(dnnl)} "
        line += (f"{gflop / res[0]:9.2f} {fmt_time(res[0]):>10} | " if res else f"{'-':>9} {'-':>10} | ")
        if have_dnnl:
            line += (f"{float(dnnl['us_per_call']) / float(ours['us_per_call']):8.2f}x " if ours and dnnl
                     else f"{'-':>9} ")
        line += (f"{res[0] * 1e6 / float(ours['us_per_call']):9.2f}x" if ours and res else f"{'-':>10}")
        bgs = [float(r["bg"]) for r in (ours, dnnl) if r] + ([res[2]] if res else [])
        line += f" | {max(bgs):4.1f}" if bgs and max(bgs) >= 0 else " |    -"
        print(line, flush=True)
    sys.exit(1 if native_rc else 0)


if __name__ == "__main__":
    main()
