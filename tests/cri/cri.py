#!/usr/bin/python3
"""A small CRI client for the tests: the pod-sandbox calls a kubelet makes, over a unix socket.

Run it with /usr/bin/python3 (Debian's python3-grpcio, python3-grpc-tools, python3-protobuf).
The Python stubs are generated from tests/cri/api.proto with grpc_tools.protoc into $CRI_STUBS_DIR
(made once by the harness; concurrent callers are safe) or, when that is unset, into a temporary
directory removed on exit.

  cri.py [--socket PATH] [--timeout S] COMMAND ...
    version                      runtime name and version
    status                       one line per runtime condition: TYPE true|false REASON MESSAGE
    runp NAME... [options]       RunPodSandbox; prints the sandbox id. Several NAMEs: the calls are made at
                                 once (one connection, one thread each, as a kubelet does) and every
                                 line is "NAME ID"
         --namespace NS --uid UID --attempt N --hostname H --cgroup-parent P --runtime HANDLER
         --port [HOSTIP:]HOSTPORT:CONTAINERPORT[/tcp|udp|sctp]   (repeatable)
         --annotation KEY=VALUE --label KEY=VALUE                 (repeatable)
    inspectp ID... [--netns|--pid|--state|--info]
                                 PodSandboxStatus; prints the pod's IPs (one a line), or the network
                                 namespace path / pause pid (from the verbose info), the state, or the
                                 verbose info JSON; with several IDs every line starts with "ID "
    stopp ID...                  StopPodSandbox (several IDs: at once)
    rmp ID...                    RemovePodSandbox (several IDs: at once)
    listp [-q]                   ListPodSandbox: ID NAMESPACE/NAME STATE, or ids only
    cycle --runtime H [--runtime H2 ...] [--count N] [--port ...]
                                 timing: N rounds of RunPodSandbox, StopPodSandbox, RemovePodSandbox per
                                 runtime handler, one handler after the other within a round (the order
                                 alternates every round); one line per cycle:
                                 HANDLER ROUND RUNP_MS STOPP_MS RMP_MS
Errors from the runtime go to stderr as "cri.py CMD [NAME|ID]: CODE: DETAILS", with exit status 1 when
any call failed.
"""
import argparse
import concurrent.futures
import json
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO = os.path.join(HERE, "api.proto")


def load_stubs():
    """Imports api_pb2/api_pb2_grpc, generating them from api.proto first when needed."""
    stubs = os.environ.get("CRI_STUBS_DIR")
    cleanup = None
    if not stubs:
        stubs = cleanup = tempfile.mkdtemp(prefix="cri-stubs.")
    if not os.path.exists(os.path.join(stubs, "api_pb2_grpc.py")):
        os.makedirs(stubs, exist_ok=True)
        # generate into a private directory, then rename each file into place (atomic on one fs)
        work = tempfile.mkdtemp(dir=stubs)
        from grpc_tools import protoc
        rc = protoc.main(["protoc", "-I" + HERE, "--python_out=" + work,
                          "--grpc_python_out=" + work, PROTO])
        if rc != 0:
            sys.exit("cri.py: protoc failed on %s" % PROTO)
        for f in ("api_pb2.py", "api_pb2_grpc.py"):
            os.replace(os.path.join(work, f), os.path.join(stubs, f))
        shutil.rmtree(work, ignore_errors=True)
    sys.path.insert(0, stubs)
    import api_pb2
    import api_pb2_grpc
    if cleanup:
        shutil.rmtree(cleanup, ignore_errors=True)
    return api_pb2, api_pb2_grpc


def key_value(text):
    if "=" not in text:
        raise argparse.ArgumentTypeError("expected KEY=VALUE, got %r" % text)
    return tuple(text.split("=", 1))


def port_mapping(text):
    """[HOSTIP:]HOSTPORT:CONTAINERPORT[/PROTO] -> (host_ip, host_port, container_port, proto)."""
    spec, _, proto = text.partition("/")
    proto = (proto or "tcp").upper()
    if proto not in ("TCP", "UDP", "SCTP"):
        raise argparse.ArgumentTypeError("unknown protocol in %r" % text)
    parts = spec.rsplit(":", 2)
    if len(parts) == 2:
        parts.insert(0, "")
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
        raise argparse.ArgumentTypeError("expected [HOSTIP:]HOSTPORT:CONTAINERPORT[/PROTO], got %r" % text)
    return parts[0], int(parts[1]), int(parts[2]), proto


def parse_args(argv):
    p = argparse.ArgumentParser(prog="cri.py", description="A small CRI (runtime.v1) test client.")
    p.add_argument("--socket", default=os.environ.get("CRI_SOCKET", "/run/containerd/containerd.sock"))
    p.add_argument("--timeout", type=float, default=float(os.environ.get("CRI_TIMEOUT", "60")),
                   help="seconds per call")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("version")
    sub.add_parser("status")
    r = sub.add_parser("runp")
    r.add_argument("name", nargs="+")
    r.add_argument("--namespace", default="default")
    r.add_argument("--uid", default=None, help="default: derived from namespace and name (one NAME only)")
    r.add_argument("--attempt", type=int, default=0)
    r.add_argument("--hostname", default="")
    r.add_argument("--cgroup-parent", default=os.environ.get("CRI_CGROUP_PARENT", ""))
    r.add_argument("--runtime", default="", help="runtime handler (containerd: runtimes.<name>)")
    r.add_argument("--port", type=port_mapping, action="append", default=[])
    r.add_argument("--annotation", type=key_value, action="append", default=[])
    r.add_argument("--label", type=key_value, action="append", default=[])
    i = sub.add_parser("inspectp")
    i.add_argument("id", nargs="+")
    what = i.add_mutually_exclusive_group()
    what.add_argument("--netns", action="store_true")
    what.add_argument("--pid", action="store_true")
    what.add_argument("--state", action="store_true")
    what.add_argument("--info", action="store_true")
    for name in ("stopp", "rmp"):
        sub.add_parser(name).add_argument("id", nargs="+")
    ls = sub.add_parser("listp")
    ls.add_argument("-q", action="store_true")
    c = sub.add_parser("cycle")
    c.add_argument("--runtime", action="append", required=True)
    c.add_argument("--count", type=int, default=10)
    c.add_argument("--namespace", default="bench")
    c.add_argument("--port", type=port_mapping, action="append", default=[])
    c.add_argument("--cgroup-parent", default=os.environ.get("CRI_CGROUP_PARENT", ""))
    c.set_defaults(uid=None, attempt=0, hostname="", annotation=[], label=[])
    return p.parse_args(argv)


def verbose_info(resp):
    """containerd puts its sandbox record (pid, runtime spec, CNI result) as JSON under info["info"]."""
    raw = resp.info.get("info")
    if not raw:
        raise SystemExit("cri.py inspectp: the runtime returned no verbose info")
    return json.loads(raw)


def inspect(cri, pb, args, pod):
    verbose = args.netns or args.pid or args.info
    r = cri.PodSandboxStatus(pb.PodSandboxStatusRequest(pod_sandbox_id=pod, verbose=verbose),
                             timeout=args.timeout)
    if args.state:
        return [pb.PodSandboxState.Name(r.status.state)]
    if args.info:
        return [json.dumps(verbose_info(r), indent=1)]
    if args.pid:
        return [str(verbose_info(r)["pid"])]
    if args.netns:
        spaces = verbose_info(r)["runtimeSpec"]["linux"]["namespaces"]
        return [next(n["path"] for n in spaces if n["type"] == "network")]
    net = r.status.network
    return [ip for ip in [net.ip] + [a.ip for a in net.additional_ips] if ip]


def pod_config(pb, args, name):
    cfg = pb.PodSandboxConfig(
        metadata=pb.PodSandboxMetadata(name=name, namespace=args.namespace,
                                       uid=args.uid or "%s-%s-uid" % (args.namespace, name),
                                       attempt=args.attempt),
        hostname=args.hostname or name,
        linux=pb.LinuxPodSandboxConfig(cgroup_parent=args.cgroup_parent))
    for host_ip, host_port, container_port, proto in args.port:
        cfg.port_mappings.add(protocol=pb.Protocol.Value(proto), host_port=host_port,
                              container_port=container_port, host_ip=host_ip)
    cfg.annotations.update(dict(args.annotation))
    cfg.labels.update(dict(args.label))
    return cfg


def at_once(args, call, keys, line):
    """Runs call(key) for every key concurrently; prints line(key, result) in the keys' order (when
    line is given) and every failure on stderr. Returns the exit status."""
    import grpc
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(keys)) as pool:
        futures = [pool.submit(call, k) for k in keys]
    rc = 0
    for k, f in zip(keys, futures):
        try:
            result = f.result()
            if line:
                print(line(k, result))
        except grpc.RpcError as e:
            print("cri.py %s %s: %s: %s" % (args.cmd, k, e.code().name, e.details()), file=sys.stderr)
            rc = 1
    return rc


def run(args, pb, rpc):
    import grpc
    # one connection for every call of this command, like a kubelet's
    channel = grpc.insecure_channel("unix:" + args.socket)
    cri = rpc.RuntimeServiceStub(channel)
    t = args.timeout
    if args.cmd == "version":
        v = cri.Version(pb.VersionRequest(version="v1"), timeout=t)
        print(v.runtime_name, v.runtime_version, v.runtime_api_version)
    elif args.cmd == "status":
        s = cri.Status(pb.StatusRequest(), timeout=t)
        for c in s.status.conditions:
            print(c.type, "true" if c.status else "false", c.reason or "-", c.message or "-")
    elif args.cmd == "runp":
        def runp(name):
            cfg = pod_config(pb, args, name)
            return cri.RunPodSandbox(pb.RunPodSandboxRequest(config=cfg, runtime_handler=args.runtime),
                                     timeout=t).pod_sandbox_id
        return at_once(args, runp, args.name, lambda name, pod: pod if len(args.name) == 1 else name + " " + pod)
    elif args.cmd == "inspectp":
        for pod in args.id:
            prefix = pod + " " if len(args.id) > 1 else ""
            for line in inspect(cri, pb, args, pod):
                print(prefix + line)
    elif args.cmd == "stopp":
        return at_once(args, lambda pod: cri.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=pod),
                                                            timeout=t), args.id, None)
    elif args.cmd == "rmp":
        return at_once(args, lambda pod: cri.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=pod),
                                                              timeout=t), args.id, None)
    elif args.cmd == "cycle":
        import time
        for n in range(args.count):
            order = args.runtime if n % 2 == 0 else list(reversed(args.runtime))
            for handler in order:
                cfg = pod_config(pb, args, "cycle-%s-%d" % (handler, n))
                t0 = time.perf_counter()
                pod = cri.RunPodSandbox(pb.RunPodSandboxRequest(config=cfg, runtime_handler=handler),
                                        timeout=t).pod_sandbox_id
                t1 = time.perf_counter()
                cri.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=pod), timeout=t)
                t2 = time.perf_counter()
                cri.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=pod), timeout=t)
                t3 = time.perf_counter()
                print("%s %d %.1f %.1f %.1f" % (handler, n, (t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3),
                      flush=True)
    elif args.cmd == "listp":
        for s in cri.ListPodSandbox(pb.ListPodSandboxRequest(), timeout=t).items:
            if args.q:
                print(s.id)
            else:
                print(s.id, "%s/%s" % (s.metadata.namespace, s.metadata.name),
                      pb.PodSandboxState.Name(s.state))


def main(argv):
    args = parse_args(argv)
    pb, rpc = load_stubs()
    import grpc
    try:
        return run(args, pb, rpc) or 0
    except grpc.RpcError as e:
        print("cri.py %s: %s: %s" % (args.cmd, e.code().name, e.details()), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
