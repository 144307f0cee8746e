using System.Net;
using CniVeth.Cni;
using CniVeth.Ipam;
using CniVeth.Namespaces;
using CniVeth.Netlink;
using CniVeth.Netlink.Route;

namespace CniVeth.Bridge;

internal sealed partial class BridgePlugin
{
    public Result Add(CniRequest req)
    {
        NetConf conf = req.Conf;
        NetConfValidator.ValidateBridge(conf, req.Version);
        string network = req.NetworkName, containerId = req.Env.ContainerId, ifName = req.Env.IfName;
        byte[]? macBytes = req.Mac is string mac ? AddressText.MacBytes(mac) : null;
        BridgeVlans.RefuseVlanGateway(conf);

        using NetNamespace home = NetNamespace.Current();
        using NetNamespace netns = OpenContainerNetNs(req.Env.NetNs);
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

            LinkInfo bridge = EnsureBridge(host, conf);
            string hostName = HostVeth.NameFor(network, containerId, ifName);
            CreateVeth(host, container, netns, conf, hostName, bridge.Index, containerId, ifName, macBytes);
            rollback.Add($"veth \"{hostName}\"", () => host.Do(b => Messages.DelLink(b, hostName), $"deleting veth \"{hostName}\"", Errno.ENODEV));

            LinkInfo hostLink = host.GetLink(hostName)
                ?? throw CniException.Internal($"veth \"{hostName}\" vanished right after it was created");
            ConfigureHostSide(host, conf, bridge, hostLink, HostVeth.AliasFor(network, containerId, ifName), plan);

            LinkInfo peer = container.GetLink(ifName)
                ?? throw CniException.Internal($"container interface \"{ifName}\" vanished right after it was created");
            ConfigureContainerSide(container, netns, home, conf, peer, plan);

            // Firewall state goes last so a rollback never has to find it by guesswork.
            FirewallSetup.Add(conf, network, plan, hostName, peer.MacString, rollback);

            LinkInfo finalHost = conf.DisableContainerInterface ? hostLink : WaitForwarding(host, hostLink);
            rollback.Clear();
            return BuildResult(conf, req, bridge, finalHost, peer, plan, ipamResult);
        }
        catch (Exception e)
        {
            List<string> undoErrors = rollback.Run();
            if (undoErrors.Count == 0) throw;
            int code = e is CniException ce ? ce.Code : ErrorCode.Internal;
            throw new CniException(code, e.Message, "cleanup after the failure also failed: " + string.Join("; ", undoErrors));
        }
    }

    /// <summary>Creates the bridge when missing (up, fixed MAC, MTU); refuses a same-named link of another kind.</summary>
    private static LinkInfo EnsureBridge(RouteClient host, NetConf conf)
    {
        string name = conf.BridgeName;
        LinkInfo? link = host.GetLink(name);
        if (link is null)
        {
            bool vlanFiltering = BridgeVlans.Wanted(conf);
            int errno = host.Do(b => Messages.NewBridge(b, name, conf.Mtu, RandomMac(), vlanFiltering),
                $"creating bridge \"{name}\"", Errno.EEXIST, Errno.EOPNOTSUPP);
            // The kernel registers the bridge, fails to turn on vlan_filtering and unregisters it again.
            if (errno == Errno.EOPNOTSUPP)
            {
                if (vlanFiltering) throw BridgeVlans.NotAvailable(conf);
                throw new NetlinkException($"creating bridge \"{name}\"", errno);
            }
            // Best effort, as in the reference: a host without IPv6 has no such sysctl.
            if (errno == 0) Sysctl.TryEnsure($"net/ipv6/conf/{name}/accept_ra", "0");
            link = host.GetLink(name) ?? throw CniException.Internal($"bridge \"{name}\" vanished right after it was created");
        }
        if (link.Kind != "bridge")
            throw new CniException(ErrorCode.InvalidNetworkConfig, $"\"{name}\" already exists but is not a bridge",
                $"it is a {(string.IsNullOrEmpty(link.Kind) ? "device" : link.Kind)}; choose another \"bridge\" name or remove it");
        return link;
    }

    /// <summary>One RTM_NEWLINK: host end enslaved and up, peer born in the container namespace.</summary>
    private static void CreateVeth(RouteClient host, RouteClient container, NetNamespace netns, NetConf conf,
        string hostName, int bridgeIndex, string containerId, string ifName, byte[]? mac)
    {
        for (int attempt = 0; ; attempt++)
        {
            var b = host.Batch();
            Messages.NewVeth(b, hostName, bridgeIndex, conf.Mtu, ifName, netns.Fd, mac);
            NetlinkAck ack = host.Execute(b)[0];
            if (ack.Ok) return;
            string op = $"creating veth \"{hostName}\" with peer \"{ifName}\" in {netns.Path}";
            if (ack.Errno != Errno.EEXIST || attempt > 0) throw new NetlinkException(op, ack.Errno, ack.KernelMessage);

            LinkInfo? clash = host.GetLink(hostName);
            if (clash is null)
            {
                if (container.GetLink(ifName) is not null)
                    throw new CniException(ErrorCode.Internal, $"container interface \"{ifName}\" already exists in {netns.Path}",
                        "the runtime must DEL the previous attachment first, or use another CNI_IFNAME");
                throw new NetlinkException(op, ack.Errno, ack.KernelMessage);
            }
            if (!IsLeftoverOf(clash, conf.Name ?? "", hostName))
                throw new CniException(ErrorCode.Internal,
                    $"host interface name \"{hostName}\" for {HostVeth.DescribeOwner(HostVeth.AliasFor(conf.Name ?? "", containerId, ifName))} " +
                    $"is already used by {HostVeth.DescribeOwner(clash.Alias)}",
                    "remove that interface, or use another CNI_IFNAME for this attachment");
            // A leftover of this very attachment (an ADD killed half-way): replace it.
            host.Do(bb => Messages.DelLink(bb, clash.Index), $"removing leftover veth \"{hostName}\"", Errno.ENODEV);
        }
    }

    /// <summary>A clash is ours to replace when it carries our owner alias for this name, or no alias at all
    /// (an ADD killed between creating the veth and labelling it).</summary>
    private static bool IsLeftoverOf(LinkInfo link, string network, string hostName) =>
        link.Kind == "veth" && (string.IsNullOrEmpty(link.Alias)
            || (HostVeth.TryParseAlias(link.Alias, out var n, out var c, out var i) && HostVeth.NameFor(n, c, i) == hostName && n == network));

    /// <summary>Host side in one batch: owner alias, bridge port flags, bridge MAC pin, gateway addresses.</summary>
    private static void ConfigureHostSide(RouteClient host, NetConf conf, LinkInfo bridge, LinkInfo hostLink,
        string alias, AddressPlan plan)
    {
        // VLANs first, on their own: when the kernel cannot do them, nothing else may have changed yet
        // (the batch below adds gateway addresses to a bridge other attachments share).
        if (BridgeVlans.Wanted(conf))
        {
            var vb = host.Batch();
            BridgeVlans.Encode(vb, hostLink.Index, conf);
            foreach (NetlinkAck ack in host.Execute(vb))
            {
                if (ack.Ok) continue;
                if (ack.Errno == Errno.EOPNOTSUPP) throw BridgeVlans.NotAvailable(conf);
                throw new NetlinkException($"setting VLANs on bridge port \"{hostLink.Name}\"", ack.Errno, ack.KernelMessage);
            }
        }

        var b = host.Batch();
        var what = new List<string>();
        Messages.SetLink(b, hostLink.Index, alias: alias);
        what.Add($"labelling veth \"{hostLink.Name}\"");
        if (conf.HairpinMode || conf.PortIsolation)
        {
            Messages.SetBridgePort(b, hostLink.Index, conf.HairpinMode, conf.PortIsolation);
            what.Add($"setting bridge port flags on \"{hostLink.Name}\"");
        }

        // Re-setting the bridge's own MAC marks it administratively set: it then stops following the
        // lowest port's MAC (which changes as containers come and go and breaks neighbours' ARP caches).
        Messages.SetLink(b, bridge.Index, up: bridge.IsUp ? null : true, promisc: conf.PromiscMode ? true : null, mac: bridge.Mac);
        what.Add($"setting up bridge \"{bridge.Name}\"");
        int firstGateway = what.Count;
        foreach (CidrAddress gw in plan.BridgeAddresses)
        {
            Messages.NewAddress(b, bridge.Index, gw, noDad: true);
            what.Add($"adding gateway address {gw} to bridge \"{bridge.Name}\"");
        }
        NetlinkAck[] acks = host.Execute(b);
        var added = new List<CidrAddress>();
        for (int i = 0; i < acks.Length; i++)
        {
            if (acks[i].Ok) { if (i >= firstGateway) added.Add(plan.BridgeAddresses[i - firstGateway]); continue; }
            if (i >= firstGateway && acks[i].Errno == Errno.EEXIST) continue;
            throw new NetlinkException(what[i], acks[i].Errno, acks[i].KernelMessage);
        }
        if (added.Count > 0) GatewayAddresses.Reconcile(host, conf, bridge, plan.BridgeAddresses, added);
        if (plan.BridgeAddresses.Count > 0) Forwarding.Enable(plan.BridgeAddresses);
    }

    private static void ConfigureContainerSide(RouteClient container, NetNamespace netns, NetNamespace home,
        NetConf conf, LinkInfo peer, AddressPlan plan)
    {
        bool hasV6 = plan.ContainerAddresses.Any(a => !a.IsIPv4);
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
        var b = container.Batch();
        var what = new List<string>();
        bool hasV4 = plan.ContainerAddresses.Any(a => a.IsIPv4);
        Messages.SetLink(b, peer.Index, up: conf.DisableContainerInterface ? null : true, arpNotify: hasV4);
        what.Add($"bringing up \"{peer.Name}\"");
        foreach (CidrAddress a in plan.ContainerAddresses)
        {
            Messages.NewAddress(b, peer.Index, a, noDad: !conf.EnableDad);
            what.Add($"adding address {a} to \"{peer.Name}\"");
        }
        foreach (ResultRoute r in plan.Routes)
        {
            Messages.NewRoute(b, peer.Index, r, plan.GatewayFor(r));
            what.Add($"adding route {r.Dst}{(plan.GatewayFor(r) is IPAddress g ? " via " + g : "")} in the container");
        }
        NetlinkAck[] acks = container.Execute(b);
        for (int i = 0; i < acks.Length; i++)
        {
            if (acks[i].Ok) continue;
            // Two IPAM routes can resolve to the same kernel route (e.g. a default route given twice).
            if (i > plan.ContainerAddresses.Count && acks[i].Errno == Errno.EEXIST) continue;
            throw new NetlinkException(what[i], acks[i].Errno, acks[i].KernelMessage);
        }
        if (conf.EnableDad && hasV6) Dad.Wait(container, peer);
    }

    /// <summary>Bounded poll until the host port forwards (oper state up); no fixed sleep.</summary>
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
        AddressPlan plan, Result ipamResult)
    {
        var result = new Result();
        result.Interfaces.Add(new ResultInterface { Name = bridge.Name, Mac = bridge.MacString });
        result.Interfaces.Add(new ResultInterface { Name = hostLink.Name, Mac = hostLink.MacString });
        result.Interfaces.Add(new ResultInterface { Name = peer.Name, Mac = peer.MacString, Sandbox = req.Env.NetNs });
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
