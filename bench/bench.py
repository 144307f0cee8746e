#!/usr/bin/env python3
"""make bench, inside the sandbox: cniveth vs the reference bridge + host-local vs the floor client.

Runs only inside the private network + mount namespace made by bench/run.sh (it refuses otherwise).
Every plugin gets its own "host" network namespace (h-ref, h-cv, h-floor) so that bridges, firewall
state and sysctls never interfere; containers are network namespaces made with `ip netns add` before
any clock starts. bench/driver (C) execs and times each call; this script plans, runs and reports.
"""
import datetime
import json
import math
import os
import platform
import re
import subprocess
import sys

REPO = os.environ["BENCH_REPO"]
WORK = os.environ["BENCH_WORK"]           # bin/ (driver, floor) is here; sb/ becomes a tmpfs
BIN = os.path.join(WORK, "bin")
CNIVETH = os.environ["BENCH_CNIVETH"]
REF_DIR = os.environ.get("BENCH_REF_DIR", "/usr/lib/cni")


def env_int(name, default):
    return int(os.environ.get(name, default))


def env_list(name, default):
    return [int(x) for x in os.environ.get(name, default).replace(",", " ").split()]


N = env_int("BENCH_N", 200)
SCALE = env_list("BENCH_SCALE", "10000 60000")
SCALE_N = env_int("BENCH_SCALE_N", 30)
BURSTS = env_list("BENCH_BURST", "32 64")
BURST_REPS = env_int("BENCH_BURST_REPS", 3)
PHASES = os.environ.get("BENCH_PHASES", "plain masq scale burst").replace(",", " ").split()
WRITE_DOCS = os.environ.get("BENCH_DOCS", "1") != "0"
CNI_VERSION = "1.0.0"

SB = os.path.join(WORK, "sb")
PLUGINS = ["ref", "cv"]
NAMES = {"ref": "reference", "cv": "cniveth", "floor": "floor"}


def log(*a):
    print("bench:", *a, file=sys.stderr, flush=True)


def sh(*cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


# ---- sandbox ---------------------------------------------------------------------------------------

def sandbox():
    # refuse to run in the machine's own network namespace
    if os.readlink("/proc/self/ns/net") == os.environ.get("BENCH_HOST_NETNS", os.readlink("/proc/self/ns/net")):
        sys.exit("bench.py must run inside the sandbox made by bench/run.sh")
    sh("mount", "-t", "tmpfs", "tmpfs", "/run")          # netns mounts, /run/xtables.lock
    if os.path.isdir("/var/lib/cni"):                     # default dataDir, in case anything falls back to it
        sh("mount", "-t", "tmpfs", "tmpfs", "/var/lib/cni")
    os.makedirs("/run/netns", exist_ok=True)
    os.makedirs(SB, exist_ok=True)
    sh("mount", "-t", "tmpfs", "tmpfs", SB)
    for d in ("conf", "res", "data-ref", "data-cv", "cvbin"):
        os.makedirs(os.path.join(SB, d), exist_ok=True)
    # what a runtime would exec: CNI_PATH/<type>
    os.symlink(CNIVETH, os.path.join(SB, "cvbin", "cniveth"))
    os.symlink(CNIVETH, os.path.join(SB, "cvbin", "host-local"))
    sh("ip", "link", "set", "lo", "up")


def netns_batch(names):
    cmds = "".join(f"netns add {n}\n" for n in names)
    sh("ip", "-batch", "-", input=cmds.encode())
    for n in names:
        if n.startswith("h-"):
            sh("ip", "-n", n, "link", "set", "lo", "up")


# ---- configs -----------------------------------------------------------------------------------------

NETS = {  # name: (bridge, subnet second octet, ipMasq)
    "bench": ("cni0", 88, False),
    "benchmasq": ("cni1", 89, True),
}


def conf_path(plugin, net):
    return os.path.join(SB, "conf", f"{plugin}-{net}.json")


def write_conf(plugin, net, bridge, octet, masq):
    conf = {
        "cniVersion": CNI_VERSION,
        "name": net,
        "type": "bridge" if plugin == "ref" else "cniveth",
        "bridge": bridge,
        "isGateway": True,
        "ipMasq": masq,
        "ipam": {
            "type": "host-local",
            "ranges": [[{"subnet": f"10.{octet}.0.0/16"}]],
            "routes": [{"dst": "0.0.0.0/0"}],
            "dataDir": os.path.join(SB, f"data-{plugin}"),
        },
    }
    with open(conf_path(plugin, net), "w") as f:
        json.dump(conf, f)


def setup_floor():
    # the floor's bridge exists before it runs (as the plugins' bridge does after their first ADD)
    h = "h-floor"
    sh("ip", "-n", h, "link", "add", "cni0", "type", "bridge")
    sh("ip", "-n", h, "addr", "add", "10.88.0.1/16", "dev", "cni0")
    sh("ip", "-n", h, "link", "set", "cni0", "up")
    with open(os.path.join(SB, "conf", "empty.json"), "w") as f:
        f.write("{}")


# ---- plans -------------------------------------------------------------------------------------------

PREFIX = {"ref": "r", "cv": "v", "floor": "f"}   # container netns names: r1.., v1.., f1..


def cont(plugin, i):
    return f"/run/netns/{PREFIX[plugin]}{i}"


def line(group, label, cmd, plugin, i, net="bench", save="-", prev="-"):
    if plugin == "floor":
        ip = f"10.88.{(i + 2) // 256}.{(i + 2) % 256}"
        extra = f"FLOOR_BRIDGE=cni0,FLOOR_HOSTIF=vf{i},FLOOR_ADDR={ip}/16,FLOOR_GW=10.88.0.1"
        fields = [group, label, cmd, os.path.join(BIN, "floor"), f"c{i}", cont("floor", i), "eth0",
                  os.path.join(SB, "conf", "empty.json"), "/run/netns/h-floor", "-", "-", "-", extra]
    else:
        exe = os.path.join(REF_DIR, "bridge") if plugin == "ref" else os.path.join(SB, "cvbin", "cniveth")
        cnipath = REF_DIR if plugin == "ref" else os.path.join(SB, "cvbin")
        fields = [group, label, cmd, exe, f"c{i}", cont(plugin, i), "eth0",
                  conf_path(plugin, net), f"/run/netns/h-{plugin}", cnipath, save, prev, "-"]
    return "\t".join(str(x) for x in fields)


def rotate(seq, k):
    k %= len(seq)
    return seq[k:] + seq[:k]


RESULTS = []   # dicts: label cmd rc wall rss cpu group extra
ERRORS = {}    # (label, cmd) -> first error text


def run_plan(name, lines):
    path = os.path.join(SB, f"plan-{name}.tsv")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    p = subprocess.run([os.path.join(BIN, "driver"), path], capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        sys.exit(f"driver failed on plan {name}")
    for l in p.stderr.splitlines():
        m = re.match(r"driver: (\S+) (\S+) \(", l)
        if m and (m[1], m[2]) not in ERRORS:
            msg = re.search(r'"msg":\s*"([^"]*)"', l)
            ERRORS[(m[1], m[2])] = msg[1] if msg else l[len(m[0]):][:200]
    out = []
    for l in p.stdout.splitlines():
        label, cmd, rc, wall, rss, cpu, group, extra = l.split("\t")
        r = dict(label=label, cmd=cmd, rc=int(rc), wall=int(wall), rss=int(rss), cpu=int(cpu),
                 group=int(group), extra=None if extra == "-" else int(extra))
        out.append(r)
    RESULTS.extend(out)
    return out


def warmup():
    # one untimed ADD+DEL per plugin: binaries into the page cache, bridges created
    lines = []
    for net in NETS:
        for p in PLUGINS:
            lines.append(line(0, "warmup", "ADD", p, 0, net))
            lines.append(line(0, "warmup", "DEL", p, 0, net))
    lines.append(line(0, "warmup", "ADD", "floor", 0))
    lines.append(line(0, "warmup", "DEL", "floor", 0))
    run_plan("warmup", lines)


def phase_seq(tag, net, with_floor):
    plugins = PLUGINS + (["floor"] if with_floor else [])
    lines = []
    if with_floor:   # process start-up + the least work: VERSION (the floor answers it too)
        for i in range(1, N + 1):
            for p in rotate(plugins, i):
                lines.append(line(0, f"{tag}/{p}", "VERSION", p, i, net))
    for i in range(1, N + 1):
        for p in rotate(plugins, i):
            save = os.path.join(SB, "res", f"{p}-{net}-{i}.json") if p != "floor" else "-"
            lines.append(line(0, f"{tag}/{p}", "ADD", p, i, net, save=save))
    for i in range(1, N + 1):
        for p in rotate(PLUGINS, i):
            lines.append(line(0, f"{tag}/{p}", "CHECK", p, i, net, prev=os.path.join(SB, "res", f"{p}-{net}-{i}.json")))
    for i in range(1, N + 1):
        for p in rotate(plugins, i):
            lines.append(line(0, f"{tag}/{p}", "DEL", p, i, net))
    log(f"{tag}: {N} containers x ADD/CHECK/DEL, interleaved")
    run_plan(tag, lines)


def prefill(plugin, net, octet, count):
    d = os.path.join(SB, f"data-{plugin}", net)
    os.makedirs(d, exist_ok=True)
    last = None
    for k in range(count):
        n = k + 2                         # 10.X.0.2 upwards
        last = f"10.{octet}.{n // 256}.{n % 256}"
        with open(os.path.join(d, last), "w") as f:
            f.write(f"prefill-{k}\r\neth0")
    with open(os.path.join(d, "last_reserved_ip.0"), "w") as f:
        f.write(last)


def phase_scale():
    """Pre-filled store vs an empty one, interleaved call by call, so the ratio is not a cross-phase one."""
    m = min(SCALE_N, N)
    for idx, count in enumerate(SCALE):
        net, bridge, octet = f"scale{count}", f"cni{2 + idx}", 90 + idx
        empty, ebridge, eoctet = f"scale{count}empty", f"cni{20 + idx}", 120 + idx
        if count > 65000:
            sys.exit("BENCH_SCALE: a /16 holds at most 65,533 reservations")
        for p in PLUGINS:
            write_conf(p, net, bridge, octet, False)
            write_conf(p, empty, ebridge, eoctet, False)
            prefill(p, net, octet, count)
        tag = f"scale{count}"
        lines = []
        # first call after pre-filling: cniveth rebuilds its owner index here
        for p in PLUGINS:
            lines.append(line(0, f"{tag}-first/{p}", "ADD", p, N + 1, net))
            lines.append(line(0, f"{tag}-empty-first/{p}", "ADD", p, N + 2, empty))   # bridge creation, not reported
        for cmd in ("ADD", "DEL"):
            for i in range(1, m + 1):
                for p in rotate(PLUGINS, i):
                    pair = [line(0, f"{tag}/{p}", cmd, p, i, net), line(0, f"{tag}-empty/{p}", cmd, p, N + 2 + i, empty)]
                    # Alternate which store goes first: the call right after the reference's full-store scan
                    # (hundreds of ms of file reads) starts with cold caches, and that must not always be
                    # the same store's call.
                    lines.extend(pair if i % 2 else pair[::-1])
        for p in PLUGINS:
            lines.append(line(0, f"{tag}-cleanup/{p}", "DEL", p, N + 1, net))
            lines.append(line(0, f"{tag}-cleanup/{p}", "DEL", p, N + 2, empty))
        log(f"{tag}: store pre-filled with {count} reservations, {m} ADD + {m} DEL per plugin, "
            "interleaved with the same on an empty store")
        run_plan(tag, lines)


def phase_burst():
    group = 0
    for size in BURSTS:
        for rep in range(BURST_REPS):
            lines = []
            for p in rotate(PLUGINS + ["floor"], rep):
                group += 1
                for i in range(1, size + 1):
                    lines.append(line(group, f"burst{size}/{p}", "ADD", p, i))
                for i in range(1, size + 1):   # clean up (sequential, not reported)
                    lines.append(line(0, f"burst{size}-cleanup/{p}", "DEL", p, i))
            log(f"burst {size}: rep {rep + 1}/{BURST_REPS}")
            run_plan(f"burst{size}-{rep}", lines)


# ---- report ------------------------------------------------------------------------------------------

def pct(vals, q):
    s = sorted(vals)
    return s[max(0, math.ceil(q * len(s)) - 1)]


def select(label, cmd):
    return [r for r in RESULTS if r["label"] == label and r["cmd"] == cmd]


def ms(ns):
    return f"{ns / 1e6:.2f}" if ns is not None else "—"


def stats(rows, key="wall"):
    ok = [r[key] for r in rows if r["rc"] == 0 and r[key] is not None]
    if not ok:
        return None
    return dict(n=len(rows), fail=sum(1 for r in rows if r["rc"] != 0), p50=pct(ok, .5), p90=pct(ok, .9),
                p99=pct(ok, .99), cpu=pct([r["cpu"] for r in rows if r["rc"] == 0], .5))


def ratio(a, b):
    return f"{a / b:.2f}×" if a is not None and b else "—"


def report():
    head = ("| benchmark | plugin | n | fail | p50 ms | p90 ms | p99 ms | CPU p50 ms | ×ref p50 | ×ref p99 | ×floor p50 |\n"
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    rows = [head]
    notes = []

    def floor_of(tag, cmd):
        s = stats(select(f"{tag}/floor", cmd))
        return s["p50"] if s else None

    def emit(name, tag, cmd, floor_p50, plugins=("ref", "cv"), note=""):
        st = {p: stats(select(f"{tag}/{p}", cmd)) for p in plugins}
        allrows = {p: select(f"{tag}/{p}", cmd) for p in plugins}
        if not any(allrows.values()):
            return
        ref = st.get("ref")
        for p in plugins:
            s, n = st[p], len(allrows[p])
            if n == 0:
                continue
            err = ERRORS.get((f"{tag}/{p}", cmd), "")
            if s is None:   # every call failed: no figures
                rows.append(f"| {name} | {NAMES[p]} | {n} | **{n}** | failed: {err[:90]} | | | | | | |")
                continue
            fail = f"**{s['fail']}**" if s["fail"] else "0"
            if s["fail"]:
                notes.append(f"{name}, {NAMES[p]}: {s['fail']} of {n} calls failed (first error: {err[:160]}); "
                             "the figures are of the calls that succeeded.")
            rr = ratio(s["p50"], ref["p50"]) if p == "cv" and ref else "—"
            rr99 = ratio(s["p99"], ref["p99"]) if p == "cv" and ref else "—"
            rows.append(f"| {name} | {NAMES[p]} | {n} | {fail} | {ms(s['p50'])} | {ms(s['p90'])} | {ms(s['p99'])} "
                        f"| {ms(s['cpu'])} | {rr} | {rr99} | {ratio(s['p50'], floor_p50)} |")
        if "floor" in plugins:
            s = stats(select(f"{tag}/floor", cmd), key="extra")
            if s:
                rows.append(f"| {name} | floor, in-process (kernel) | {s['n']} | {s['fail']} | {ms(s['p50'])} "
                            f"| {ms(s['p90'])} | {ms(s['p99'])} | | | | {ratio(s['p50'], floor_p50)} |")
        if note:
            notes.append(note)

    if "plain" in PHASES:
        emit("VERSION (start-up)", "plain", "VERSION", floor_of("plain", "VERSION"), ("ref", "cv", "floor"))
        for cmd in ("ADD", "CHECK", "DEL"):
            pl = ("ref", "cv", "floor") if cmd != "CHECK" else ("ref", "cv")
            emit(cmd, "plain", cmd, floor_of("plain", cmd), pl)
    if "masq" in PHASES:
        for cmd in ("ADD", "CHECK", "DEL"):
            ff = floor_of("plain", cmd) if cmd != "CHECK" else None
            emit(f"ipMasq {cmd}", "masq", cmd, ff)
            cvadd, cvthis = select("masq/cv", "ADD"), select("masq/cv", cmd)
            if cmd != "ADD" and any(r["rc"] for r in cvadd) and any(r["rc"] == 0 for r in cvthis):
                notes.append(f"ipMasq {cmd} for cniveth follows ADDs that failed: its figures do not measure real work.")
        notes.append("ipMasq rows: ×floor is against the plain floor (the floor installs no NAT).")
    if "scale" in PHASES:
        for count in SCALE:
            tag = f"scale{count}"
            emit(f"{count:,} reserved: first ADD", f"{tag}-first", "ADD", floor_of("plain", "ADD"))
            for cmd in ("ADD", "DEL"):
                emit(f"{count:,} reserved: {cmd}", tag, cmd, floor_of("plain", cmd))
                emit(f"{count:,} reserved: {cmd}, empty store alongside", f"{tag}-empty", cmd, floor_of("plain", cmd))
                for p in PLUGINS:
                    s, b = stats(select(f"{tag}/{p}", cmd)), stats(select(f"{tag}-empty/{p}", cmd))
                    if s and b and not s["fail"]:
                        notes.append(f"{count:,} reserved, {cmd}, {NAMES[p]}: p50 is {s['p50'] / b['p50']:.2f}× the p50 "
                                     "on an empty store measured alongside.")
    if "burst" in PHASES:
        for size in BURSTS:
            tag = f"burst{size}"
            emit(f"burst {size}: per ADD", tag, "ADD", floor_of(tag, "ADD"), ("ref", "cv", "floor"))
            walls = {p: [r for r in RESULTS if r["label"] == f"{tag}/{p}" and r["cmd"] == "BURST"] for p in ("ref", "cv", "floor")}
            fw = stats(walls["floor"])
            for p in ("ref", "cv", "floor"):
                s = stats(walls[p])
                if not s:
                    continue
                rs = stats(walls["ref"])
                rows.append(f"| burst {size}: wall | {NAMES[p]} | {s['n']} | {sum(1 for r in select(f'{tag}/{p}', 'ADD') if r['rc'])} "
                            f"| {ms(s['p50'])} | {ms(s['p90'])} | {ms(s['p99'])} | | "
                            f"{ratio(s['p50'], rs['p50']) if p == 'cv' and rs else '—'} | | {ratio(s['p50'], fw['p50'] if fw else None)} |")
        notes.append("burst rows: all ADDs of a burst are released at once (pre-forked children parked on a pipe); "
                     "per-ADD time runs from the release to that call's exit; wall: to the last exit; fail counts failed ADDs.")

    # memory and size
    mem = ["| plugin | peak RSS of one ADD, p50 (max) | binary |", "|---|---:|---:|"]
    sizes = {"ref": f"bridge {os.path.getsize(os.path.join(REF_DIR, 'bridge')) / 1e6:.2f} MB + host-local "
                    f"{os.path.getsize(os.path.join(REF_DIR, 'host-local')) / 1e6:.2f} MB",
             "cv": f"{os.path.getsize(CNIVETH) / 1e6:.2f} MB",
             "floor": f"{os.path.getsize(os.path.join(BIN, 'floor')) / 1e6:.3f} MB"}
    src = next((t for t in ("plain", "burst32") if select(f"{t}/ref", "ADD")), None)
    for p in ("ref", "cv", "floor"):
        rs = [r["rss"] for r in (select(f"plain/{p}", "ADD") if src else []) if r["rc"] == 0]
        rss = f"{pct(rs, .5) / 1024:.1f} MB ({max(rs) / 1024:.1f} MB)" if rs else "—"
        mem.append(f"| {NAMES[p]} | {rss} | {sizes[p]} |")
    ref_rs = [r["rss"] for r in select("plain/ref", "ADD") if r["rc"] == 0]
    cv_rs = [r["rss"] for r in select("plain/cv", "ADD") if r["rc"] == 0]
    if ref_rs and cv_rs:
        mem.append(f"\ncniveth/reference peak RSS (p50): {pct(cv_rs, .5) / pct(ref_rs, .5):.2f}×. RSS is the kernel's "
                   "ru_maxrss of the exec'd process and its waited-for children (for the reference: the larger of "
                   "bridge and host-local, not their sum).")
    return "\n".join(rows), "\n".join(mem), notes


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    mem = next((l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")), "0")
    ref_ver = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "containernetworking-plugins"],
                             capture_output=True, text=True).stdout or "?"
    return (f"- machine: {os.cpu_count()} CPUs ({cpu}), {int(mem) / 1024 / 1024:.1f} GiB RAM, kernel {platform.release()}\n"
            f"- load average at start: {os.environ.get('BENCH_LOADAVG', '?')}\n"
            f"- reference: containernetworking-plugins {ref_ver} ({REF_DIR}/bridge + host-local, iptables for ipMasq)\n"
            f"- cniveth: {os.environ.get('BENCH_GIT', '?')}")


def main():
    sandbox()
    started = datetime.datetime.now(datetime.timezone.utc)
    need = max([N + 2 + (min(SCALE_N, N) if "scale" in PHASES else 0)] + [b for b in BURSTS])
    log(f"creating {3 * (need + 1) + 3} network namespaces (not timed)")
    netns_batch(["h-ref", "h-cv", "h-floor"])
    netns_batch([f"{c}{i}" for c in "rvf" for i in range(0, need + 1)])
    setup_floor()
    for net, (bridge, octet, masq) in NETS.items():
        for p in PLUGINS:
            write_conf(p, net, bridge, octet, masq)
    warmup()
    if "plain" in PHASES:
        phase_seq("plain", "bench", True)
    if "masq" in PHASES:
        phase_seq("masq", "benchmasq", False)
    if "scale" in PHASES:
        phase_scale()
    if "burst" in PHASES:
        phase_burst()
    table, mem, notes = report()
    knobs = " ".join(f"{k}={v}" for k, v in sorted(os.environ.items())
                     if k.startswith("BENCH_") and k in os.environ.get("BENCH_USER_KNOBS", "").split()
                     and k not in ("BENCH_NOTE", "BENCH_RAW", "BENCH_DOCS"))
    command = (knobs + " " if knobs else "") + "make bench"
    note = os.environ.get("BENCH_NOTE", "")
    text = ((f"**{note}**\n\n" if note else "") +
            f"Run {started:%Y-%m-%d %H:%M} UTC, command: `{command}` "
            f"(n={N} sequential containers per plugin, scale n={min(SCALE_N, N)}, bursts {BURSTS} × {BURST_REPS}).\n\n"
            f"{machine()}\n\n{table}\n\n" + "".join(f"- {n}\n" for n in notes) + f"\n{mem}\n")
    print(text)
    with open(os.path.join(WORK, "results.md"), "w") as f:
        f.write(text)
    with open(os.path.join(WORK, "raw.tsv"), "w") as f:
        for r in RESULTS:
            f.write("\t".join("-" if r[k] is None else str(r[k])
                               for k in ("label", "cmd", "rc", "wall", "rss", "cpu", "group", "extra")) + "\n")


if __name__ == "__main__":
    main()
