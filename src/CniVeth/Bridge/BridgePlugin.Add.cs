using System.Net;
using CniVeth.Cni;
using CniVeth.Ipam;
using CniVeth.Namespaces;
using CniVeth.Netlink;
using CniVeth.Netlink.Route;
using CniVeth.Values;

namespace CniVeth.Bridge;

internal sealed partial class BridgePlugin
{
    /// <summary>
    /// ADD, in the order that keeps a failure cheap to undo: addresses (IPAM) before any kernel change, then
    /// the bridge, the veth, both ends' settings, the firewall, and last the host settings other attachments
    /// share (gateway addresses on the bridge, forwarding), so a failed ADD rarely has to touch those.
    /// Every step registers its undo; a failure runs them all in reverse and reports any that failed.
    /// </summary>
    public Result Add(CniRequest req)
    {
        NetConf conf = req.Conf;
        BridgeConfig.Validate(conf, req.Version);
        string network = req.NetworkName, containerId = req.Env.ContainerId, ifName = req.Env.IfName;
        byte[]? mac = req.Mac is string m ? MacBytes(m) : null;

        using NetNamespace home = NetNamespace.Current();
        using NetNamespace netns = NetNamespace.Open(req.Env.NetNs);
        using RouteClient host = RouteClient.Open();
        using RouteClient container = netns.Run(home, RouteClient.Open);
        var rollback = new Rollback();
        try
        {
            // Addresses first: an exhausted pool fails before anything changes in the kernel.
            Result ipamResult = new();
            if (conf.HasIpam)
            {
                IIpam ipam = IpamFactory.Create(conf);
                ipamResult = ipam.Add(req);
                rollback.Add("address reservation", () => ipam.Del(req));
                if (ipamResult.Ips.Count == 0) throw CniException.Internal("IPAM plugin returned missing IP config");
            }
            var plan = AddressPlan.From(conf, ipamResult);

            LinkInfo bridge = EnsureBridge(host, conf, rollback);
            string hostName = HostVeth.NameFor(network, containerId, ifName);
            string alias = HostVeth.AliasFor(network, containerId, ifName);
            CreateVeth(host, container, netns, conf, hostName, alias, bridge, ifName, mac);
            rollback.Add($"veth \"{hostName}\"", () =>
                host.Send(b => b.DeleteLink(hostName, $"deleting veth \"{hostName}\"", Errno.ENODEV)));

            // A bridge port needs no IPv6 of its own (the bridge keeps its addresses; container IPv6 is
            // layer 2 here). Without it every later link event skips a walk of the namespace's IPv6 FIB,
            // which holds three routes per attached port: ADD at 1,000 ports 14.1 -> 9.7 ms of kernel
            // requests, before the carrier is up so no address or route is ever made (BENCHMARKS.md, session 3).
            Sysctl.TryWrite($"net/ipv6/conf/{hostName}/disable_ipv6", "1");
            // Index only: the port is read once, in WaitForwarding, after its carrier came up.
            int hostIndex = host.IndexOf(hostName);
            if (hostIndex == 0) throw CniException.Internal($"veth \"{hostName}\" vanished right after it was created");
            var hostLink = new LinkInfo { Index = hostIndex, Name = hostName };
            ConfigureHostSide(host, conf, bridge, hostLink, alias);

            LinkInfo peer = container.GetLink(ifName)
                ?? throw CniException.Internal($"container interface \"{ifName}\" vanished right after it was created");
            ConfigureContainerSide(container, netns, home, host, hostLink, conf, peer, plan);

            FirewallSetup.Add(conf, network, plan, hostName, peer.MacString, rollback);

            LinkInfo finalHost = conf.DisableContainerInterface
                ? host.GetLink(hostIndex) ?? throw CniException.Internal($"veth \"{hostName}\" disappeared during ADD")
                : WaitForwarding(host, hostLink);

            // Shared host settings last: nothing after them can fail but their own checks.
            LinkInfo? vlanGateway = VlanGateway.Wanted(conf) ? VlanGateway.Ensure(host, conf, bridge, rollback) : null;
            AddGatewayAddresses(host, conf, vlanGateway ?? bridge, bridge, plan, rollback);
            if (plan.BridgeAddresses.Count > 0) Forwarding.Enable(host, plan.BridgeAddresses, rollback);
            rollback.Clear();
            return BuildResult(conf, req, bridge, finalHost, peer, vlanGateway, plan, ipamResult);
        }
        catch (Exception e)
        {
            List<string> undoErrors = rollback.Run();
            if (undoErrors.Count == 0) throw;
            CniError error = CniError.From(e);
            throw new CniException(error.Code, error.Message, "cleanup after the failure also failed: " + string.Join("; ", undoErrors));
        }
    }

    private static byte[] MacBytes(string normalizedMac) =>
        MacAddress.TryParse(normalizedMac, out byte[] bytes, out _) ? bytes : throw CniException.Config($"invalid MAC address \"{normalizedMac}\"");

    /// <summary>Creates the bridge when missing (up, fixed MAC, MTU); refuses a same-named link of another
    /// kind. A bridge this ADD created is removed again by the rollback when nothing else got attached to it.</summary>
    private static LinkInfo EnsureBridge(RouteClient host, NetConf conf, Rollback rollback)
    {
        string name = conf.BridgeName;
        LinkInfo? link = host.GetLink(name);
        if (link is null)
        {
            bool vlanFiltering = BridgeVlans.Wanted(conf);
            NetlinkOp create = host.Send(b => b.CreateBridge(name, conf.Mtu, RandomMac(), vlanFiltering,
                $"creating bridge \"{name}\"", Errno.EEXIST, Errno.EOPNOTSUPP));
            // The kernel registers the bridge, fails to turn on vlan_filtering and unregisters it again.
            if (create.Errno == Errno.EOPNOTSUPP)
            {
                if (vlanFiltering) throw BridgeVlans.NotAvailable(conf);
                throw create.ToException();
            }
            link = host.GetLink(name) ?? throw CniException.Internal($"bridge \"{name}\" vanished right after it was created");
            if (create.Succeeded)
            {
                // Best effort, as in the reference: a host without IPv6 has no such sysctl.
                Sysctl.TryEnsure($"net/ipv6/conf/{name}/accept_ra", "0");
                int index = link.Index;
                rollback.Add($"bridge \"{name}\"", () => RemoveBridgeIfUnused(host, index, name));
            }
        }
        if (link.Kind != "bridge")
            throw new CniException(ErrorCode.InvalidNetworkConfig, $"\"{name}\" already exists but is not a bridge",
                $"it is a {(string.IsNullOrEmpty(link.Kind) ? "device" : link.Kind)}; choose another \"bridge\" name or remove it");
        BridgeVlans.EnsureFiltering(host, conf, link);
        return link;
    }

    /// <summary>Undo of a bridge this ADD created: only while no port is attached (a concurrent ADD may
    /// already use it).</summary>
    private static void RemoveBridgeIfUnused(RouteClient host, int index, string name)
    {
        if (host.DumpLinks().Exists(l => l.MasterIndex == index)) return;
        host.Send(b => b.DeleteLink(index, $"removing bridge \"{name}\" created by the failed ADD", Errno.ENODEV));
    }

    /// <summary>One RTM_NEWLINK: host end enslaved and up, peer born in the container namespace. A leftover of
    /// this very attachment (an ADD killed half-way) is replaced; anything else holding the name is an error.</summary>
    private static void CreateVeth(RouteClient host, RouteClient container, NetNamespace netns, NetConf conf,
        string hostName, string alias, LinkInfo bridge, string ifName, byte[]? mac)
    {
        string op = $"creating veth \"{hostName}\" with peer \"{ifName}\" in {netns.Path}";
        for (int attempt = 0; ; attempt++)
        {
            NetlinkOp create = host.Send(b => b.CreateVeth(hostName, bridge.Index, conf.Mtu, ifName, netns.Fd, mac, op, Errno.EEXIST, Errno.EXFULL));
            if (create.Succeeded) return;
            if (create.Errno == Errno.EXFULL) throw BridgeFull(bridge.Name, hostName);
            if (attempt > 0) throw create.ToException();

            LinkInfo? clash = host.GetLink(hostName);
            if (clash is null)
            {
                if (container.GetLink(ifName) is not null)
                    throw new CniException(ErrorCode.Internal, $"container interface \"{ifName}\" already exists in {netns.Path}",
                        "the runtime must DEL the previous attachment first, or use another CNI_IFNAME");
                throw create.ToException();
            }
            if (!Ownership.IsOurs(clash, alias, () => Ownership.IsPeerOf(container.GetLink(ifName), clash)))
                throw new CniException(ErrorCode.Internal,
                    $"host interface name \"{hostName}\" for {HostVeth.DescribeOwner(alias)} is already used by {HostVeth.DescribeOwner(clash.Alias)}",
                    "remove that interface, or use another CNI_IFNAME for this attachment");
            host.Send(b => b.DeleteLink(clash.Index, $"removing leftover veth \"{hostName}\"", Errno.ENODEV));
        }
    }

    /// <summary>The kernel's limit of ports per bridge (see MaxBridgePorts).</summary>
    private static CniException BridgeFull(string bridge, string hostName) =>
        new(ErrorCode.Internal,
            $"bridge \"{bridge}\" is full: the kernel allows 1,023 ports per bridge (EXFULL creating veth \"{hostName}\")",
            "put further containers on another network with its own \"bridge\" (and range); STATUS reports a full bridge");

    /// <summary>Host side in one batch: owner alias, bridge port flags and VLANs, the bridge up with its MAC pinned.</summary>
    private static void ConfigureHostSide(RouteClient host, NetConf conf, LinkInfo bridge, LinkInfo hostLink, string alias)
    {
        // VLANs first, on their own: when the kernel cannot do them, nothing else may have changed yet.
        if (BridgeVlans.Wanted(conf))
        {
            RouteBatch vlans = host.Batch();
            List<NetlinkOp> ops = BridgeVlans.AddTo(vlans, hostLink, conf);
            try { vlans.Send(); }
            catch (NetlinkException) when (ops.Exists(o => o.Errno == Errno.EOPNOTSUPP)) { throw BridgeVlans.NotAvailable(conf); }
        }

        RouteBatch b = host.Batch();
        b.SetLink(hostLink.Index, new LinkChange(Alias: alias), $"labelling veth \"{hostLink.Name}\"");
        if (conf.HairpinMode || conf.PortIsolation)
            b.SetBridgePort(hostLink.Index, conf.HairpinMode, conf.PortIsolation, $"setting bridge port flags on \"{hostLink.Name}\"");
        // Re-setting the bridge's own MAC marks it administratively set: it then stops following the
        // lowest port's MAC (which changes as containers come and go and breaks neighbours' ARP caches).
        b.SetLink(bridge.Index, new LinkChange(Up: bridge.IsUp ? null : true, Promiscuous: conf.PromiscMode ? true : null, Mac: bridge.Mac),
            $"setting up bridge \"{bridge.Name}\"");
        b.Send();
    }

    /// <summary>The gateway addresses isGateway puts on the bridge (or on the VLAN gateway interface). Those
    /// this ADD added (not the ones that were there) are checked against the interface's other addresses and,
    /// if the ADD fails after all, removed again unless other ports use the bridge.</summary>
    private static void AddGatewayAddresses(RouteClient host, NetConf conf, LinkInfo holder, LinkInfo bridge, AddressPlan plan, Rollback rollback)
    {
        if (plan.BridgeAddresses.Count == 0) return;
        RouteBatch b = host.Batch();
        var ops = new List<(CidrAddress Address, NetlinkOp Op)>();
        foreach (CidrAddress gw in plan.BridgeAddresses)
            ops.Add((gw, b.AddAddress(holder.Index, gw, noDad: true, $"adding gateway address {gw} to \"{holder.Name}\"", Errno.EEXIST)));
        b.Send();
        var added = ops.FindAll(o => o.Op.Succeeded).ConvertAll(o => o.Address);
        if (added.Count == 0) return;
        GatewayAddresses.Reconcile(host, conf, holder, plan.BridgeAddresses, added);
        rollback.Add($"gateway addresses on \"{holder.Name}\"", () => GatewayAddresses.RemoveIfUnused(host, holder, bridge, added));
    }

    private static void ConfigureContainerSide(RouteClient container, NetNamespace netns, NetNamespace home,
        RouteClient host, LinkInfo hostLink, NetConf conf, LinkInfo peer, AddressPlan plan)
    {
        bool hasV6 = plan.ContainerAddresses.Exists(a => !a.IsIPv4);
        if (hasV6)
        {
            netns.Run(home, () =>
            {
                string dev = $"net/ipv6/conf/{peer.Name}/";
                Sysctl.Ensure(dev + "disable_ipv6", "0");
                Sysctl.Ensure("net/ipv6/conf/lo/disable_ipv6", "0");
                Sysctl.Write(dev + "accept_dad", conf.EnableDad ? "1" : "0");
                if (conf.EnableDad) Sysctl.Write(dev + "enhanced_dad", "1");
                Sysctl.Write(dev + "keep_addr_on_down", "1");
                return 0;
            });
        }
        RouteBatch b = container.Batch();
        bool hasV4 = plan.ContainerAddresses.Exists(a => a.IsIPv4);
        b.SetLink(peer.Index, new LinkChange(Up: conf.DisableContainerInterface ? null : true, ArpNotify: hasV4), $"bringing up \"{peer.Name}\"");
        if (conf.EnableDad && hasV6)
        {
            // DAD probes sent before the bridge port forwards are lost, and the kernel then declares a
            // duplicate address unique (seen on 6.1): with enabledad the addresses wait for the port.
            b.Send();
            WaitForwarding(host, hostLink);
            b = container.Batch();
        }
        foreach (CidrAddress a in plan.ContainerAddresses)
            b.AddAddress(peer.Index, a, noDad: !conf.EnableDad, $"adding address {a} to \"{peer.Name}\"");
        // Two IPAM routes can resolve to the same kernel route (e.g. a default route given twice): EEXIST is fine.
        foreach (RouteSpec r in plan.KernelRoutes())
            b.AddRoute(peer.Index, r, $"adding route {r.Dst}{(r.Gateway is IPAddress g ? " via " + g : "")} in the container", Errno.EEXIST);
        b.Send();
        if (conf.EnableDad && hasV6) Dad.Wait(container, peer);
    }

    /// <summary>Waits (bounded, backing off from 1 ms) until the host end is operationally up, so traffic
    /// flows when ADD returns. In practice it is up at once.</summary>
    private static LinkInfo WaitForwarding(RouteClient host, LinkInfo hostLink)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int sleepMs = 0;
        while (true)
        {
            LinkInfo now = host.GetLink(hostLink.Index)
                ?? throw CniException.Internal($"veth \"{hostLink.Name}\" disappeared while waiting for it to come up");
            if (now.OperState == Rtnl.IF_OPER_UP) return now;
            if (clock.ElapsedMilliseconds > 2500)
                throw CniException.Internal($"bridge port \"{hostLink.Name}\" did not come up within 2.5 s (operstate {now.OperState})");
            if (sleepMs > 0) Thread.Sleep(sleepMs);
            sleepMs = Math.Min(Math.Max(1, sleepMs * 2), 50);
        }
    }

    private static Result BuildResult(NetConf conf, CniRequest req, LinkInfo bridge, LinkInfo hostLink, LinkInfo peer,
        LinkInfo? vlanGateway, AddressPlan plan, Result ipamResult)
    {
        var result = new Result();
        result.Interfaces.Add(new ResultInterface { Name = bridge.Name, Mac = bridge.MacString });
        result.Interfaces.Add(new ResultInterface { Name = hostLink.Name, Mac = hostLink.MacString });
        result.Interfaces.Add(new ResultInterface { Name = peer.Name, Mac = peer.MacString, Sandbox = req.Env.NetNs });
        if (vlanGateway is not null) result.Interfaces.Add(new ResultInterface { Name = vlanGateway.Name, Mac = vlanGateway.MacString });
        foreach (ResultIp ip in ipamResult.Ips)
            result.Ips.Add(new ResultIp { Address = ip.Address, Gateway = plan.GatewayOf(ip), Interface = 2 });
        result.Routes.AddRange(plan.Routes);
        result.Dns = conf.Dns is { IsEmpty: false } ? conf.Dns : ipamResult.Dns;
        return result;
    }

    private static byte[] RandomMac()
    {
        byte[] mac = new byte[6];
        Random.Shared.NextBytes(mac); // uniqueness, not secrecy: keeps OpenSSL out of the process
        mac[0] = (byte)((mac[0] & 0xfe) | 0x02); // unicast, locally administered
        return mac;
    }
}
