using System.Runtime.InteropServices;
using CniVeth.Values;

namespace CniVeth.Netlink.Route;

/// <summary>Encoders for the rtnetlink requests the plugin sends. Each appends one message to a builder,
/// so callers can batch several requests into one send. No I/O here (RouteClient/RouteBatch send them).</summary>
internal static class RouteRequests
{
    private const ushort Create = Nl.F_ACK | Nl.F_CREATE | Nl.F_EXCL;

    public static void GetLink(NetlinkMessageBuilder b, string name)
    {
        b.BeginMessage(Rtnl.RTM_GETLINK, 0).Struct(new IfInfoMsg()).String(Rtnl.IFLA_IFNAME, name)
         .U32(Rtnl.IFLA_EXT_MASK, Rtnl.RTEXT_FILTER_BRVLAN).EndMessage();
    }

    public static void GetLink(NetlinkMessageBuilder b, int index)
    {
        b.BeginMessage(Rtnl.RTM_GETLINK, 0).Struct(new IfInfoMsg { Index = index })
         .U32(Rtnl.IFLA_EXT_MASK, Rtnl.RTEXT_FILTER_BRVLAN).EndMessage();
    }

    /// <summary>A family's namespace-wide settings (RTM_GETNETCONF for NETCONFA_IFINDEX_ALL: what
    /// net.ipv4.ip_forward and net.ipv6.conf.all.* hold).</summary>
    public static void GetNetconfAll(NetlinkMessageBuilder b, byte family) =>
        b.BeginMessage(Rtnl.RTM_GETNETCONF, 0).Struct(new NetconfMsg { Family = family })
         .U32(Rtnl.NETCONFA_IFINDEX, unchecked((uint)Rtnl.NETCONFA_IFINDEX_ALL)).EndMessage();

    public static void DumpLinks(NetlinkMessageBuilder b) =>
        b.BeginMessage(Rtnl.RTM_GETLINK, Nl.F_DUMP).Struct(new IfInfoMsg()).EndMessage();

    /// <summary>A bridge, created up, with a fixed MAC so it never follows its lowest port's MAC.</summary>
    public static void NewBridge(NetlinkMessageBuilder b, string name, int mtu, byte[] mac, bool vlanFiltering)
    {
        b.BeginMessage(Rtnl.RTM_NEWLINK, Create)
         .Struct(new IfInfoMsg { Flags = Rtnl.IFF_UP, Change = Rtnl.IFF_UP })
         .String(Rtnl.IFLA_IFNAME, name)
         .Attr(Rtnl.IFLA_ADDRESS, mac);
        if (mtu > 0) b.U32(Rtnl.IFLA_MTU, (uint)mtu);
        b.BeginNested(Rtnl.IFLA_LINKINFO).String(Rtnl.IFLA_INFO_KIND, "bridge");
        if (vlanFiltering)
            b.BeginNested(Rtnl.IFLA_INFO_DATA).U8(Rtnl.IFLA_BR_VLAN_FILTERING, 1).EndNested();
        b.EndNested().EndMessage();
    }

    /// <summary>Turns VLAN filtering of an existing bridge on or off (RTM_NEWLINK with the bridge's link info).</summary>
    public static void SetBridgeVlanFiltering(NetlinkMessageBuilder b, int index, bool on)
    {
        b.BeginMessage(Rtnl.RTM_NEWLINK, Nl.F_ACK).Struct(new IfInfoMsg { Index = index })
         .BeginNested(Rtnl.IFLA_LINKINFO).String(Rtnl.IFLA_INFO_KIND, "bridge")
         .BeginNested(Rtnl.IFLA_INFO_DATA).U8(Rtnl.IFLA_BR_VLAN_FILTERING, on ? (byte)1 : (byte)0).EndNested()
         .EndNested().EndMessage();
    }

    /// <summary>
    /// One RTM_NEWLINK creating the veth pair: the host end (up, enslaved to <paramref name="masterIndex"/>)
    /// in the socket's namespace and the peer born directly in <paramref name="peerNetNs"/> (null: the same
    /// namespace) under its final name, so nothing is moved between namespaces afterwards.
    /// </summary>
    public static void NewVeth(NetlinkMessageBuilder b, string hostName, int masterIndex, int mtu,
        string peerName, SafeFd? peerNetNs, byte[]? peerMac)
    {
        b.BeginMessage(Rtnl.RTM_NEWLINK, Create)
         .Struct(new IfInfoMsg { Flags = Rtnl.IFF_UP, Change = Rtnl.IFF_UP })
         .String(Rtnl.IFLA_IFNAME, hostName);
        if (mtu > 0) b.U32(Rtnl.IFLA_MTU, (uint)mtu);
        if (masterIndex > 0) b.U32(Rtnl.IFLA_MASTER, (uint)masterIndex);
        b.BeginNested(Rtnl.IFLA_LINKINFO).String(Rtnl.IFLA_INFO_KIND, "veth")
         .BeginNested(Rtnl.IFLA_INFO_DATA)
         .BeginNested(Rtnl.VETH_INFO_PEER)
         .Struct(new IfInfoMsg())
         .String(Rtnl.IFLA_IFNAME, peerName);
        if (peerNetNs is not null) b.U32(Rtnl.IFLA_NET_NS_FD, (uint)peerNetNs.Fd);
        if (mtu > 0) b.U32(Rtnl.IFLA_MTU, (uint)mtu);
        if (peerMac is not null) b.Attr(Rtnl.IFLA_ADDRESS, peerMac);
        b.EndNested().EndNested().EndNested().EndMessage();
    }

    /// <summary>RTM_NEWLINK on an existing link: flags, alias, MAC, link group, IPv4 arp_notify (what the change leaves
    /// null/false is unchanged).</summary>
    public static void SetLink(NetlinkMessageBuilder b, int index, LinkChange change)
    {
        var info = new IfInfoMsg { Index = index };
        if (change.Up is bool u) { info.Change |= Rtnl.IFF_UP; if (u) info.Flags |= Rtnl.IFF_UP; }
        if (change.Promiscuous is bool p) { info.Change |= Rtnl.IFF_PROMISC; if (p) info.Flags |= Rtnl.IFF_PROMISC; }
        b.BeginMessage(Rtnl.RTM_NEWLINK, Nl.F_ACK).Struct(info);
        if (change.Alias is not null) b.String(Rtnl.IFLA_IFALIAS, change.Alias);
        if (change.Mac is not null) b.Attr(Rtnl.IFLA_ADDRESS, change.Mac);
        if (change.Group is uint g) b.U32(Rtnl.IFLA_GROUP, g);
        if (change.ArpNotify)
        {
            Span<byte> one = [1, 0, 0, 0];
            b.BeginNested(Rtnl.IFLA_AF_SPEC).BeginNested(Rtnl.AF_INET).BeginNested(Rtnl.IFLA_INET_CONF)
             .Attr(Rtnl.IPV4_DEVCONF_ARP_NOTIFY, one).EndNested().EndNested().EndNested();
        }
        b.EndMessage();
    }

    /// <summary>Bridge port flags of an enslaved link (AF_BRIDGE, IFLA_PROTINFO): hairpin and isolation.</summary>
    public static void SetBridgePort(NetlinkMessageBuilder b, int index, bool hairpin, bool isolated)
    {
        b.BeginMessage(Rtnl.RTM_SETLINK, Nl.F_ACK).Struct(new IfInfoMsg { Family = Rtnl.AF_BRIDGE, Index = index })
         .BeginNested(Rtnl.IFLA_PROTINFO)
         .U8(Rtnl.IFLA_BRPORT_MODE, hairpin ? (byte)1 : (byte)0)
         .U8(Rtnl.IFLA_BRPORT_ISOLATED, isolated ? (byte)1 : (byte)0)
         .EndNested().EndMessage();
    }

    /// <summary>
    /// Adds (RTM_SETLINK) or removes (RTM_DELLINK) VLANs on a bridge port: family AF_BRIDGE, IFLA_AF_SPEC with
    /// IFLA_BRIDGE_FLAGS = master and one IFLA_BRIDGE_VLAN_INFO per VID, or a RANGE_BEGIN/RANGE_END pair per
    /// range (as `bridge vlan add dev X vid A-B` sends). The kernel applies the entries in order.
    /// </summary>
    public static void PortVlans(NetlinkMessageBuilder b, int index, bool delete, IEnumerable<PortVlan> vlans)
    {
        b.BeginMessage(delete ? Rtnl.RTM_DELLINK : Rtnl.RTM_SETLINK, Nl.F_ACK)
         .Struct(new IfInfoMsg { Family = Rtnl.AF_BRIDGE, Index = index })
         .BeginNested(Rtnl.IFLA_AF_SPEC)
         .U16(Rtnl.IFLA_BRIDGE_FLAGS, Rtnl.BRIDGE_FLAGS_MASTER);
        foreach (PortVlan v in vlans)
        {
            if (v.First is 0 or > Rtnl.MaxVlanId || v.Last < v.First || v.Last > Rtnl.MaxVlanId)
                throw new ArgumentOutOfRangeException(nameof(vlans), $"VLAN range {v.First}-{v.Last}");
            if (v.First == v.Last)
            {
                VlanInfo(b, v.Flags, v.First);
                continue;
            }
            // The kernel refuses a range of PVIDs (a port has one).
            if ((v.Flags & Rtnl.BRIDGE_VLAN_INFO_PVID) != 0)
                throw new ArgumentException("a VLAN range cannot be the PVID", nameof(vlans));
            VlanInfo(b, (ushort)(v.Flags | Rtnl.BRIDGE_VLAN_INFO_RANGE_BEGIN), v.First);
            VlanInfo(b, (ushort)(v.Flags | Rtnl.BRIDGE_VLAN_INFO_RANGE_END), v.Last);
        }
        b.EndNested().EndMessage();
    }

    private static void VlanInfo(NetlinkMessageBuilder b, ushort flags, ushort vid)
    {
        var info = new BridgeVlanInfo { Flags = flags, Vid = vid }; // struct bridge_vlan_info, host byte order
        b.Attr(Rtnl.IFLA_BRIDGE_VLAN_INFO, MemoryMarshal.AsBytes(new ReadOnlySpan<BridgeVlanInfo>(in info)));
    }

    public static void DelLink(NetlinkMessageBuilder b, int index) =>
        b.BeginMessage(Rtnl.RTM_DELLINK, Nl.F_ACK).Struct(new IfInfoMsg { Index = index }).EndMessage();

    /// <summary>Every link of a link group in one request: the kernel unregisters them together, so they
    /// share one set of RCU waits instead of one per link (rtnl_group_dellink, kernel 3.x+).</summary>
    public static void DelLinkGroup(NetlinkMessageBuilder b, uint group) =>
        b.BeginMessage(Rtnl.RTM_DELLINK, Nl.F_ACK).Struct(new IfInfoMsg()).U32(Rtnl.IFLA_GROUP, group).EndMessage();

    public static void DelLink(NetlinkMessageBuilder b, string name) =>
        b.BeginMessage(Rtnl.RTM_DELLINK, Nl.F_ACK).Struct(new IfInfoMsg()).String(Rtnl.IFLA_IFNAME, name).EndMessage();

    /// <summary>Adds an address. <paramref name="noDad"/> makes an IPv6 address usable at once.</summary>
    public static void NewAddress(NetlinkMessageBuilder b, int index, CidrAddress addr, bool noDad)
    {
        byte family = addr.IsIPv4 ? Rtnl.AF_INET : Rtnl.AF_INET6;
        byte[] ip = addr.Address.GetAddressBytes();
        b.BeginMessage(Rtnl.RTM_NEWADDR, Create)
         .Struct(new IfAddrMsg { Family = family, PrefixLen = (byte)addr.PrefixLength, Index = index })
         .Attr(Rtnl.IFA_LOCAL, ip).Attr(Rtnl.IFA_ADDRESS, ip);
        if (addr.IsIPv4 && addr.PrefixLength < 31) b.Attr(Rtnl.IFA_BROADCAST, IpMath.Broadcast(addr).GetAddressBytes());
        if (noDad && !addr.IsIPv4) b.U32(Rtnl.IFA_FLAGS, Rtnl.IFA_F_NODAD);
        b.EndMessage();
    }

    public static void DelAddress(NetlinkMessageBuilder b, int index, CidrAddress addr)
    {
        byte[] ip = addr.Address.GetAddressBytes();
        b.BeginMessage(Rtnl.RTM_DELADDR, Nl.F_ACK)
         .Struct(new IfAddrMsg { Family = addr.IsIPv4 ? Rtnl.AF_INET : Rtnl.AF_INET6, PrefixLen = (byte)addr.PrefixLength, Index = index })
         .Attr(Rtnl.IFA_LOCAL, ip).Attr(Rtnl.IFA_ADDRESS, ip).EndMessage();
    }

    /// <summary>Dumps addresses; with strict checking the kernel filters by interface index.</summary>
    public static void DumpAddresses(NetlinkMessageBuilder b, byte family, int index) =>
        b.BeginMessage(Rtnl.RTM_GETADDR, Nl.F_DUMP).Struct(new IfAddrMsg { Family = family, Index = index }).EndMessage();

    public static void DumpRoutes(NetlinkMessageBuilder b, byte family) =>
        b.BeginMessage(Rtnl.RTM_GETROUTE, Nl.F_DUMP).Struct(new RtMsg { Family = family }).EndMessage();

    /// <summary>Adds a route through <paramref name="oif"/>; without a gateway it is a link-scope route.</summary>
    public static void NewRoute(NetlinkMessageBuilder b, int oif, RouteSpec route)
    {
        bool v4 = route.Dst.IsIPv4;
        int table = route.Table ?? Rtnl.RT_TABLE_MAIN;
        byte scope = route.Scope is int s ? (byte)s : route.Gateway is null ? Rtnl.RT_SCOPE_LINK : Rtnl.RT_SCOPE_UNIVERSE;
        b.BeginMessage(Rtnl.RTM_NEWROUTE, Create)
         .Struct(new RtMsg
         {
             Family = v4 ? Rtnl.AF_INET : Rtnl.AF_INET6,
             DstLen = (byte)route.Dst.PrefixLength,
             Table = table < 256 ? (byte)table : (byte)0,
             Protocol = Rtnl.RTPROT_BOOT,
             Scope = scope,
             Type = Rtnl.RTN_UNICAST,
         });
        if (route.Dst.PrefixLength > 0) b.Attr(Rtnl.RTA_DST, route.Dst.Address.GetAddressBytes());
        if (route.Gateway is not null) b.Attr(Rtnl.RTA_GATEWAY, route.Gateway.GetAddressBytes());
        b.U32(Rtnl.RTA_OIF, (uint)oif);
        if (table >= 256) b.U32(Rtnl.RTA_TABLE, (uint)table);
        if (route.Priority is int prio) b.U32(Rtnl.RTA_PRIORITY, (uint)prio);
        if (route.Mtu is > 0 || route.AdvMss is > 0)
        {
            b.BeginNested(Rtnl.RTA_METRICS);
            if (route.Mtu is int mtu and > 0) b.U32(Rtnl.RTAX_MTU, (uint)mtu);
            if (route.AdvMss is int mss and > 0) b.U32(Rtnl.RTAX_ADVMSS, (uint)mss);
            b.EndNested();
        }
        b.EndMessage();
    }
}

/// <summary>One bridge-port VLAN entry: a single VID (First == Last) or an inclusive range, with
/// BRIDGE_VLAN_INFO_PVID / _UNTAGGED flags.</summary>
internal readonly record struct PortVlan(ushort First, ushort Last, ushort Flags = 0);

/// <summary>What RTM_NEWLINK changes on an existing link; null/false members are left as they are.</summary>
internal readonly record struct LinkChange(bool? Up = null, bool? Promiscuous = null, string? Alias = null,
    byte[]? Mac = null, bool ArpNotify = false, uint? Group = null);

/// <summary>A route as the kernel takes it (not a CNI result route): the gateway is the next hop actually
/// used, null for a link-scope route.</summary>
internal sealed record RouteSpec(CidrAddress Dst, System.Net.IPAddress? Gateway, int? Table = null,
    int? Priority = null, int? Mtu = null, int? AdvMss = null, int? Scope = null);
