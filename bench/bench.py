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
import time

REPO = os.environ["BENCH_REPO"]
WORK = os.environ["BENCH_WORK"]           # bin/ (driver, floor) is here; sb/ becomes a tmpfs
BIN = os.path.join(WORK, "bin")
CNIVETH = os.environ["BENCH_CNIVETH"]
REF_DIR = os.environ.get("BENCH_REF_DIR", "/usr/lib/cni")


def env_int(name, default):
    return int(os.environ.get(name, default))


def env_list(name, default):
    return [int(x) for x in os.environ.get(name, default).replace(",", " ").split()]


# BENCH_QUICK=1: the same phases, smaller (a few minutes); any knob set explicitly still wins.
QUICK = os.environ.get("BENCH_QUICK", "0") not in ("", "0")
D = {"N": 30, "SCALE": "10000", "SCALE_N": 10, "BURST": "64 128", "BURST_REPS": 1, "ATTACHED": "0 200",
     "ATTACHED_N": 10, "GC_STALE": 100, "GC_REPS": 1} if QUICK else \
    {"N": 200, "SCALE": "10000 60000", "SCALE_N": 30, "BURST": "32 64 128 256", "BURST_REPS": 3,
     "ATTACHED": "0 250 1000", "ATTACHED_N": 30, "GC_STALE": 500, "GC_REPS": 2}
N = env_int("BENCH_N", D["N"])
SCALE = env_list("BENCH_SCALE", D["SCALE"])
SCALE_N = env_int("BENCH_SCALE_N", D["SCALE_N"])
BURSTS = env_list("BENCH_BURST", D["BURST"])
BURST_REPS = env_int("BENCH_BURST_REPS", D["BURST_REPS"])
ATTACHED = sorted(set(env_list("BENCH_ATTACHED", D["ATTACHED"])) | {0})   # containers already on the bridge
ATTACHED_N = env_int("BENCH_ATTACHED_N", D["ATTACHED_N"])                  # measured cycles per level
GC_STALE = env_int("BENCH_GC_STALE", D["GC_STALE"])                        # of max(ATTACHED)
GC_REPS = env_int("BENCH_GC_REPS", D["GC_REPS"])
PHASES = os.environ.get("BENCH_PHASES", "plain masq scale burst attached gc").replace(",", " ").split()
BRIDGE_MAX_PORTS = 1023   # the kernel's limit (BR_MAX_PORTS - 1)
WRITE_DOCS = os.environ.get("BENCH_DOCS", "1") != "0"
CNI_VERSION = "1.0.0"

SB = os.path.join(WORK, "sb")
PLUGINS = ["ref", "cv"]
NAMES = {"ref": "reference", "cv": "cniveth", "floor": "floor"}


T0 = time.monotonic()


def log(*a):
    t = int(time.monotonic() - T0)
    print(f"bench: [{t // 60:02d}:{t % 60:02d}]", *a, file=sys.stderr, flush=True)


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
    for d in ("conf", "res", "data-ref", "data-cv", "cvbin", "gc"):
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
# the attached phase: its own host namespaces (one per plugin and mode), so one bridge per network
ATT_NETS = {"attached": ("cni0", 88, False), "attachedmasq": ("cni0", 89, True)}


def conf_path(plugin, net):
    return os.path.join(SB, "conf", f"{plugin}-{net}.json")


def write_conf(plugin, net, bridge, octet, masq, path=None, version=CNI_VERSION, extra=None, data=None):
    conf = {
        "cniVersion": version,
        "name": net,
        "type": "bridge" if plugin == "ref" else "cniveth",
        "bridge": bridge,
        "isGateway": True,
        "ipMasq": masq,
        "ipam": {
            "type": "host-local",
            "ranges": [[{"subnet": f"10.{octet}.0.0/16"}]],
            "routes": [{"dst": "0.0.0.0/0"}],
            "dataDir": os.path.join(SB, data or f"data-{plugin}"),
        },
    }
    conf.update(extra or {})
    with open(path or conf_path(plugin, net), "w") as f:
        json.dump(conf, f)


def setup_floor(h="h-floor"):
    # the floor's bridge exists before it runs (as the plugins' bridge does after their first ADD)
    sh("ip", "-n", h, "link", "add", "cni0", "type", "bridge")
    sh("ip", "-n", h, "addr", "add", "10.88.0.1/16", "dev", "cni0")
    sh("ip", "-n", h, "link", "set", "cni0", "up")
    with open(os.path.join(SB, "conf", "empty.json"), "w") as f:
        f.write("{}")


# ---- plans -------------------------------------------------------------------------------------------

PREFIX = {"ref": "r", "cv": "v", "floor": "f"}   # container netns names: r1.., v1.., f1..


def cont(plugin, i, space=""):
    return f"/run/netns/{space}{PREFIX[plugin]}{i}"


def hostns(plugin, space=""):
    """The plugin's "host" namespace: h-ref etc.; the attached phase's are ha-ref, ham-ref, ..."""
    return f"h{space}-{plugin}"


def line(group, label, cmd, plugin, i, net="bench", save="-", prev="-", space="", conf=None, extra_env=""):
    if plugin == "floor" and i is None:   # GC: no container, only the FLOOR_GC_* knobs
        fields = [group, label, cmd, os.path.join(BIN, "floor"), "-", "-", "-", os.path.join(SB, "conf", "empty.json"),
                  f"/run/netns/{hostns('floor', space)}", "-", "-", "-", extra_env]
    elif plugin == "floor":
        ip = f"10.88.{(i + 2) // 256}.{(i + 2) % 256}"
        extra = f"FLOOR_BRIDGE=cni0,FLOOR_HOSTIF=vf{i},FLOOR_ADDR={ip}/16,FLOOR_GW=10.88.0.1"
        if extra_env:
            extra += "," + extra_env
        fields = [group, label, cmd, os.path.join(BIN, "floor"), f"c{i}", cont("floor", i, space), "eth0",
                  os.path.join(SB, "conf", "empty.json"), f"/run/netns/{hostns('floor', space)}", "-", "-", "-", extra]
    else:
        exe = os.path.join(REF_DIR, "bridge") if plugin == "ref" else os.path.join(SB, "cvbin", "cniveth")
        cnipath = REF_DIR if plugin == "ref" else os.path.join(SB, "cvbin")
        fields = [group, label, cmd, exe, f"c{i}" if i is not None else "-", cont(plugin, i, space) if i is not None else "-",
                  "eth0" if i is not None else "-", conf or conf_path(plugin, net), f"/run/netns/{hostns(plugin, space)}",
                  cnipath, save, prev, extra_env or "-"]
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
                # clean up, not reported: concurrently too (one by one, each DEL's wait for the kernel's
                # RCU grace periods would add up to seconds per burst)
                group += 1
                for i in range(1, size + 1):
                    lines.append(line(group, f"burst{size}-cleanup/{p}", "DEL", p, i))
            log(f"burst {size}: rep {rep + 1}/{BURST_REPS}")
            run_plan(f"burst{size}-{rep}", lines)


def teardown(hosts, conts, probe):
    """Deletes the phase's namespaces. Deleting a network namespace is asynchronous (the kernel's cleanup_net
    unregisters its devices in a worker): the host namespaces go first, then we wait until the probe
    container's eth0 (the peer of a veth in a host namespace) is gone, so the next phase does not share
    the CPUs with that work."""
    netns_del = lambda names: sh("ip", "-batch", "-", input="".join(f"netns del {n}\n" for n in names).encode())
    netns_del(hosts)
    for _ in range(1200):
        if subprocess.run(["ip", "-n", probe, "link", "show", "eth0"], capture_output=True).returncode != 0:
            break
        time.sleep(0.1)
    netns_del(conts)
    time.sleep(2)


def phase_attached(masq):
    """ADD/CHECK/DEL with N containers already attached to the plugin's bridge, for each N of ATTACHED.

    Every N has host namespaces of its own (one per plugin), all prepared first: each plugin attaches the N
    containers itself (untimed), so its own state is that of a node with N containers (N reservations in
    its store, with ipMasq N firewall entries). Then the levels and the plugins (and, without ipMasq, the
    floor) take turns call by call, ADD, CHECK and DEL of one more container, ATTACHED_N times: every N is
    measured under the same machine load (on a shared machine, levels measured minutes apart are not
    comparable), and a bridge holds N + 1 ports at most.
    """
    net = "attachedmasq" if masq else "attached"
    plugins = PLUGINS + ([] if masq else ["floor"])
    k = ATTACHED_N
    tagbase = "attm" if masq else "att"
    spaces = {level: f"{'am' if masq else 'a'}{level}x" for level in ATTACHED}   # ha250x-ref, a250xv17, ...
    hosts = [hostns(p, spaces[level]) for level in ATTACHED for p in plugins]
    conts = [f"{spaces[level]}{PREFIX[p]}{i}" for level in ATTACHED for p in plugins for i in range(1, level + k + 1)]
    log(f"{net}: creating {len(hosts)} + {len(conts)} network namespaces (not timed)")
    netns_batch(hosts)
    netns_batch(conts)
    bridge, octet, m = ATT_NETS[net]
    confs = {}
    for level in ATTACHED:
        if not masq:
            setup_floor(hostns("floor", spaces[level]))
        for p in PLUGINS:   # a store of its own per level
            confs[(level, p)] = os.path.join(SB, "conf", f"{p}-{net}-{level}.json")
            write_conf(p, net, bridge, octet, m, path=confs[(level, p)], data=f"data-{p}-{spaces[level]}")
    for level in ATTACHED:
        if level:
            fill = [line(0, f"{tagbase}-fill/{p}", "ADD", p, i, net, space=spaces[level], conf=confs.get((level, p)))
                    for i in range(1, level + 1) for p in plugins]
            log(f"{net}: attaching {level} containers per plugin (not timed)")
            run_plan(f"{tagbase}-fill{level}", fill)
    if "attached" in PHASES:
        lines = []
        for j in range(1, k + 1):
            for level in rotate(ATTACHED, j):
                tag, space, i = f"{tagbase}{level}", spaces[level], level + j
                order = rotate(plugins, j)
                res = lambda p: os.path.join(SB, "res", f"{space}-{p}-{i}.json")
                for p in order:
                    lines.append(line(0, f"{tag}/{p}", "ADD", p, i, net, save=res(p) if p != "floor" else "-",
                                      space=space, conf=confs.get((level, p))))
                for p in order:
                    if p != "floor":
                        lines.append(line(0, f"{tag}/{p}", "CHECK", p, i, net, prev=res(p), space=space,
                                          conf=confs[(level, p)]))
                for p in order:
                    lines.append(line(0, f"{tag}/{p}", "DEL", p, i, net, space=space, conf=confs.get((level, p))))
        log(f"{net}: N = {', '.join(map(str, ATTACHED))} attached, {k} x ADD/CHECK/DEL per plugin and N, interleaved")
        run_plan(tagbase, lines)
    top = max(ATTACHED)
    if not masq and "gc" in PHASES:
        phase_gc(spaces[top], net, top, confs[(top, "cv")])
    log(f"{net}: deleting its namespaces")
    teardown(hosts, conts, f"{spaces[top]}{PREFIX['cv']}1")


def phase_gc(space, net, top, cv_conf):
    """GC with `top` attachments: once with every one of them valid, then with GC_STALE not listed."""
    stale = min(GC_STALE, top)
    keep = top - stale
    with open(cv_conf) as f:
        data_dir = json.load(f)["ipam"]["dataDir"]

    def gc_conf(valid_upto, name):
        write_conf("cv", net, *ATT_NETS[net], path=os.path.join(SB, "gc", f"{name}.json"), version="1.1.0", extra={
            "cni.dev/valid-attachments": [{"containerID": f"c{i}", "ifname": "eth0"} for i in range(1, valid_upto + 1)]},
            data=os.path.relpath(data_dir, SB))
        with open(os.path.join(SB, "gc", f"{name}.floor"), "w") as f:
            f.write("".join(f"vf{i}\n" for i in range(1, valid_upto + 1)))

    gc_conf(top, "all")
    gc_conf(keep, "some")

    def gc_line(label, conf_name, mode=None):
        if mode:
            return line(0, label, "GC", "floor", None, space=space, extra_env=(
                f"FLOOR_GC_PREFIX=vf,FLOOR_GC_MODE={mode},FLOOR_GC_VALID={os.path.join(SB, 'gc', conf_name + '.floor')}"))
        return line(0, label, "GC", "cv", None, net, space=space, conf=os.path.join(SB, "gc", conf_name + ".json"))

    def refill(plugin):
        return [line(0, f"gc-refill/{plugin}", "ADD", plugin, i, net, space=space, conf=cv_conf if plugin == "cv" else None)
                for i in range(keep + 1, top + 1)]

    lines = [gc_line("gc0/cv", "all"), gc_line("gc0/floor", "all", "each")]
    for rep in range(GC_REPS):
        if rep:
            lines += refill("cv") + refill("floor")
        lines.append(gc_line("gcstale/cv", "some"))
        lines.append(gc_line("gcstale/floor", "some", "each"))
        lines += refill("floor")
        lines.append(gc_line("gcstale-group/floor", "some", "group"))
    log(f"gc: {top} attached, GC with none stale, then {stale} stale (x{GC_REPS})")
    run_plan("gc", lines)


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


def p50(label, cmd, q=.5):
    s = stats(select(label, cmd))
    return None if s is None else (s["p50"] if q == .5 else s["p99"])


def report_attached():
    """One table: each verb at each N, ratio to the same plugin's own N = 0 (and to the reference, the floor)."""
    if "attached" not in PHASES:
        return "", []
    rows = ["| benchmark | plugin | N attached | n | fail | p50 ms | p90 ms | p99 ms | CPU p50 ms | ×own N=0 p50 "
            "| ×own N=0 p99 | ×ref p50 | ×floor p50 |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    notes = []
    for tagbase, mode in (("att", ""), ("attm", "ipMasq ")):
        for cmd in ("ADD", "CHECK", "DEL"):
            for level in ATTACHED:
                tag = f"{tagbase}{level}"
                floor = p50(f"{tag}/floor", cmd) if cmd != "CHECK" else None
                if tagbase == "attm" and cmd != "CHECK":   # the floor installs no NAT: the plain floor at this N
                    floor = p50(f"att{level}/floor", cmd)
                ref = stats(select(f"{tag}/ref", cmd))
                for p in ("ref", "cv", "floor"):
                    rs = select(f"{tag}/{p}", cmd)
                    if not rs:
                        continue
                    st, base = stats(rs), stats(select(f"{tagbase}0/{p}", cmd))
                    fails = sum(1 for r in rs if r["rc"])
                    if fails:
                        notes.append(f"{mode}{cmd} at N={level}, {NAMES[p]}: {fails} of {len(rs)} calls failed "
                                     f"(first error: {ERRORS.get((f'{tag}/{p}', cmd), '')[:160]}).")
                    if st is None:
                        rows.append(f"| {mode}{cmd} | {NAMES[p]} | {level:,} | {len(rs)} | **{fails}** | failed | | | | | | | |")
                        continue
                    own = ratio(st["p50"], base["p50"]) if base else "—"
                    own99 = ratio(st["p99"], base["p99"]) if base else "—"
                    rr = ratio(st["p50"], ref["p50"]) if p == "cv" and ref else "—"
                    rows.append(f"| {mode}{cmd} | {NAMES[p]} | {level:,} | {len(rs)} | {f'**{fails}**' if fails else 0} "
                                f"| {ms(st['p50'])} | {ms(st['p90'])} | {ms(st['p99'])} | {ms(st['cpu'])} | {own} | {own99} "
                                f"| {rr} | {ratio(st['p50'], floor)} |")
                    if p == "floor":
                        k, kb = stats(rs, key="extra"), stats(select(f"{tagbase}0/{p}", cmd), key="extra")
                        if k:
                            rows.append(f"| {mode}{cmd} | floor, in-process (kernel) | {level:,} | {k['n']} | | {ms(k['p50'])} "
                                        f"| {ms(k['p90'])} | {ms(k['p99'])} | | {ratio(k['p50'], kb['p50'] if kb else None)} "
                                        f"| {ratio(k['p99'], kb['p99'] if kb else None)} | | {ratio(k['p50'], floor)} |")
    fills = [r for r in RESULTS if r["label"].startswith(("att-fill/", "attm-fill/")) and r["rc"]]
    if fills:
        notes.append(f"{len(fills)} of the untimed ADDs that attach the N containers failed: those levels hold fewer.")
    notes.append("attached rows: N containers were attached by the plugin itself beforehand (its store, and with ipMasq "
                 "its firewall state, hold N entries); the plugins and the floor then take turns at ADD, CHECK and DEL "
                 "of one more container, so the bridge has N + 1 ports at most. ×own N=0 divides by the same plugin's "
                 "figure with no container attached; ipMasq rows' ×floor is against the plain floor at the same N.")
    return "\n".join(rows), notes


def report_gc():
    if "gc" not in PHASES:
        return "", []
    top, stale = max(ATTACHED), min(GC_STALE, max(ATTACHED))
    rows = ["| benchmark | client | n | fail | wall p50 ms | wall max ms | CPU p50 ms | ×floor p50 |",
            "|---|---|---:|---:|---:|---:|---:|---:|"]
    floor_each = {t: p50(f"{t}/floor", "GC") for t in ("gc0", "gcstale")}
    for t, what in (("gc0", f"GC, {top:,} attached, none stale"), ("gcstale", f"GC, {top:,} attached, {stale:,} stale")):
        for label, who in ((f"{t}/cv", "cniveth"), (f"{t}/floor", "floor, one RTM_DELLINK each"),
                           (f"{t}-group/floor", "floor, one RTM_DELLINK by IFLA_GROUP")):
            rs = select(label, "GC")
            if not rs:
                continue
            st = stats(rs)
            fails = sum(1 for r in rs if r["rc"])
            if st is None:
                rows.append(f"| {what} | {who} | {len(rs)} | **{fails}** | failed: {ERRORS.get((label, 'GC'), '')[:90]} | | | |")
                continue
            rows.append(f"| {what} | {who} | {len(rs)} | {f'**{fails}**' if fails else 0} | {ms(st['p50'])} "
                        f"| {ms(max(r['wall'] for r in rs if r['rc'] == 0))} | {ms(st['cpu'])} | {ratio(st['p50'], floor_each[t])} |")
    notes = ["GC rows: cniveth gets cniVersion 1.1.0 and cni.dev/valid-attachments listing every attached container "
             f"(none stale) or all but {stale:,} of them; the reference (1.1.1) has no GC. The floor does one link dump "
             "and deletes the stale links, one RTM_DELLINK at a time as cniveth does, or by a fresh link group "
             "(see docs/BENCHMARKS.md, GC bulk deletion). CPU is the process's own; the kernel's deferred work "
             "(RCU callbacks) is not in it."]
    return "\n".join(rows), notes


def report_targets():
    """Issue 16's targets, each with this run's figure."""
    def r(a, b):
        return a / b if a is not None and b else None

    def fmt(x):
        return "—" if x is None else f"{x:.2f}×"

    out = ["| target | goal | this run | holds |", "|---|---|---|:-:|"]

    def row(name, goal, values, oks):
        held = "—" if any(o is None for o in oks) else ("✓" if all(oks) else "✗")
        out.append(f"| {name} | {goal} | {values} | {held} |")

    def le(x, lim):
        return None if x is None else x <= lim

    a_ref, a_fl = r(p50("plain/cv", "ADD"), p50("plain/ref", "ADD")), r(p50("plain/cv", "ADD"), p50("plain/floor", "ADD"))
    row("ADD p50 ×ref / ×floor", "≤0.30× / ≤1.8×", f"{fmt(a_ref)} / {fmt(a_fl)}", [le(a_ref, .30), le(a_fl, 1.8)])
    c_ref = r(p50("plain/cv", "CHECK"), p50("plain/ref", "CHECK"))
    row("CHECK p50 ×ref", "≤0.25×", fmt(c_ref), [le(c_ref, .25)])
    d_ref, d_fl = r(p50("plain/cv", "DEL"), p50("plain/ref", "DEL")), r(p50("plain/cv", "DEL"), p50("plain/floor", "DEL"))
    row("DEL p50 ×ref / ×floor", "≤0.8× / ≤1.1×", f"{fmt(d_ref)} / {fmt(d_fl)}", [le(d_ref, .8), le(d_fl, 1.1)])
    m_add, m_del = r(p50("masq/cv", "ADD"), p50("masq/ref", "ADD")), r(p50("masq/cv", "DEL"), p50("masq/ref", "DEL"))
    row("ipMasq ADD / DEL p50 ×ref", "≤0.12× / ≤0.35×", f"{fmt(m_add)} / {fmt(m_del)}", [le(m_add, .12), le(m_del, .35)])
    b = 64 if 64 in BURSTS else (BURSTS[0] if BURSTS else None)
    b99 = r(p50(f"burst{b}/cv", "ADD", .99), p50(f"burst{b}/ref", "ADD", .99)) if b else None
    row(f"burst of {b} ADDs: p99 per ADD ×ref", "≤0.45×", fmt(b99), [le(b99, .45)])
    if SCALE and "scale" in PHASES:
        c = max(SCALE)
        sa = r(p50(f"scale{c}/cv", "ADD"), p50(f"scale{c}-empty/cv", "ADD"))
        sd = r(p50(f"scale{c}/cv", "DEL"), p50(f"scale{c}-empty/cv", "DEL"))
        row(f"{c:,} reservations: ADD / DEL p50 × empty store", "≤1.2×", f"{fmt(sa)} / {fmt(sd)}", [le(sa, 1.2), le(sd, 1.2)])
    else:
        row("reservations: ADD / DEL × empty store", "≤1.2×", "not measured", [None])
    top = max(ATTACHED)
    if "attached" in PHASES and top:
        g = {p: r(p50(f"att{top}/{p}", "ADD"), p50(f"att0/{p}", "ADD")) for p in ("cv", "ref", "floor")}
        lim = g["floor"] * 1.2 if g["floor"] else None
        row(f"ADD with {top:,} containers attached, × its own time with none", "≤ the floor's growth × 1.2",
            f"{fmt(g['cv'])} (floor {fmt(g['floor'])}, so ≤{fmt(lim)}; reference {fmt(g['ref'])})",
            [None if lim is None or g["cv"] is None else g["cv"] <= lim])
    else:
        row("ADD with containers attached, × none", "≤ the floor's growth × 1.2", "not measured", [None])
    if "gc" in PHASES:
        st = stats(select("gcstale/cv", "GC"))
        stale = min(GC_STALE, top)
        row(f"GC removing {stale:,} stale attachments of {top:,}", "≤1.5 s wall",
            f"{st['p50'] / 1e9:.2f} s wall, {st['cpu'] / 1e9:.2f} s CPU" if st else "failed",
            [None if st is None else st["p50"] <= 1.5e9])
    else:
        row("GC removing stale attachments", "≤1.5 s wall", "not measured", [None])
    return "\n".join(out)


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    mem = next((l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")), "0")
    ref_ver = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "containernetworking-plugins"],
                             capture_output=True, text=True).stdout or "?"
    return (f"- machine: {os.cpu_count()} CPUs ({cpu}), {int(mem) / 1024 / 1024:.1f} GiB RAM, kernel {platform.release()}\n"
            f"- load average at start: {os.environ.get('BENCH_LOADAVG', '?')}\n"
            f"- reference: containernetworking-plugins {ref_ver} ({REF_DIR}/bridge + host-local, iptables for ipMasq)\n"
            f"- cniveth: {os.environ.get('BENCH_GIT', '?')}; measured binary: {os.environ.get('BENCH_BINARY_INFO', CNIVETH)}")


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
    if "attached" in PHASES or "gc" in PHASES:
        if max(ATTACHED) + 1 > BRIDGE_MAX_PORTS:
            sys.exit(f"BENCH_ATTACHED: a bridge holds at most {BRIDGE_MAX_PORTS} ports (N + 1 are needed)")
        phase_attached(False)
        if "attached" in PHASES:
            phase_attached(True)
    table, mem, notes = report()
    att, att_notes = report_attached()
    gc, gc_notes = report_gc()
    targets = report_targets()
    knobs = " ".join(f"{k}={v}" for k, v in sorted(os.environ.items())
                     if k.startswith("BENCH_") and k in os.environ.get("BENCH_USER_KNOBS", "").split()
                     and k not in ("BENCH_NOTE", "BENCH_RAW", "BENCH_DOCS"))
    command = (knobs + " " if knobs else "") + "make bench"
    note = os.environ.get("BENCH_NOTE", "")
    elapsed = datetime.datetime.now(datetime.timezone.utc) - started
    bullets = lambda ns: "".join(f"- {n}\n" for n in ns)
    text = ((f"**{note}**\n\n" if note else "") +
            f"Run {started:%Y-%m-%d %H:%M} UTC, {elapsed.total_seconds() / 60:.1f} min, command: `{command}` "
            f"(n={N} sequential containers per plugin, scale n={min(SCALE_N, N)}, bursts {BURSTS} × {BURST_REPS}, "
            f"attached N={ATTACHED} × {ATTACHED_N}, GC {min(GC_STALE, max(ATTACHED))} stale of {max(ATTACHED)} × {GC_REPS}).\n\n"
            f"{machine()}\n\n### Targets (issue 16)\n\n{targets}\n\n### Per call\n\n{table}\n\n" + bullets(notes) +
            (f"\n### With N containers already attached\n\n{att}\n\n" + bullets(att_notes) if att else "") +
            (f"\n### GC\n\n{gc}\n\n" + bullets(gc_notes) if gc else "") +
            f"\n### Memory and size\n\n{mem}\n")
    print(text)
    with open(os.path.join(WORK, "results.md"), "w") as f:
        f.write(text)
    with open(os.path.join(WORK, "raw.tsv"), "w") as f:
        for r in RESULTS:
            f.write("\t".join("-" if r[k] is None else str(r[k])
                               for k in ("label", "cmd", "rc", "wall", "rss", "cpu", "group", "extra")) + "\n")


if __name__ == "__main__":
    main()
