using CniVeth.Netlink;
using CniVeth.Netlink.NfTables;
using CniVeth.Values;

namespace CniVeth.Firewall;

/// <summary>
/// What the plugin's nf_tables ruleset consists of: names, set definitions and rule expressions. No I/O.
/// What `nft list ruleset` shows for network "demonet" (10.88.0.0/16, fd00:88::/64) with two IPv4 and one
/// IPv6 container, and one spoof-checked port:
/// <code>
/// table inet cniveth {
///     comment "managed by the cniveth CNI plugin"
///     set saddr4-d885ebd9-demonet {
///         type ipv4_addr
///         comment "ipMasq network demonet: container addresses"
///         elements = { 10.88.0.5, 10.88.0.6 }
///     }
///     set subnet4-d885ebd9-demonet {
///         type ipv4_addr
///         flags interval
///         comment "ipMasq network demonet: subnets (not masqueraded)"
///         elements = { 10.88.0.0/16 }
///     }
///     set saddr6-d885ebd9-demonet { type ipv6_addr ... elements = { fd00:88::5 } }
///     set subnet6-d885ebd9-demonet { type ipv6_addr; flags interval ... elements = { fd00:88::/64 } }
///     chain postrouting {
///         type nat hook postrouting priority srcnat; policy accept;
///         ip saddr @saddr4-d885ebd9-demonet ip daddr != @subnet4-d885ebd9-demonet ip daddr != 224.0.0.0/4 masquerade comment "ipMasq network demonet"
///         ip6 saddr @saddr6-d885ebd9-demonet ip6 daddr != @subnet6-d885ebd9-demonet ip6 daddr != ff00::/8 masquerade comment "ipMasq network demonet"
///     }
/// }
/// table bridge cniveth {
///     comment "managed by the cniveth CNI plugin"
///     map spoofchk-ports {
///         type ifname : ether_addr
///         comment "macspoofchk: host port -> container MAC"
///         elements = { "veth0123abcd" : 02:00:00:00:00:01 }
///     }
///     set spoofchk-allowed {
///         type ifname . ether_addr
///         comment "macspoofchk: allowed (port, source MAC)"
///         elements = { "veth0123abcd" . 02:00:00:00:00:01 }
///     }
///     chain prerouting {
///         type filter hook prerouting priority dstnat; policy accept;     # dstnat = -300 in the bridge family
///         iifname @spoofchk-ports iifname . ether saddr != @spoofchk-allowed drop comment "macspoofchk"
///     }
/// }
/// </code>
/// <para><b>ipMasq.</b> Per network and address family: a set of container addresses, an interval set of
/// the network's subnets and one rule. Set names are <c>saddr4-</c>/<c>subnet4-</c> (or 6) + FNV-1a-32 of the
/// network name in 8 hex digits + the network name cut to 32 characters, so they stay short and unique;
/// comments carry the name for humans. Containers are set elements, never chains or rules, so the ruleset
/// size is constant per container. Traffic of an address whose family has no subnet is masqueraded to every
/// non-multicast destination.</para>
/// <para><b>macspoofchk.</b> Frames entering the bridge from a port in <c>spoofchk-ports</c> are dropped
/// unless (port, source MAC) is in <c>spoofchk-allowed</c>; the map also lets DEL find the MAC from the port
/// name alone. Only ports named like ours ("veth" + 8 lowercase hex digits) are ever garbage-collected.</para>
/// </summary>
internal static class FirewallLayout
{
    public const string TableName = "cniveth";
    public const string NatChain = "postrouting";
    public const string SpoofChain = "prerouting";
    public const string PortsMap = "spoofchk-ports";
    public const string AllowedSet = "spoofchk-allowed";
    public const string TableComment = "managed by the cniveth CNI plugin";

    // ---------------------------------------------------------------- ipMasq

    /// <summary>"saddr4-1a2b3c4d-demonet": container addresses of a network.</summary>
    public static string AddrSetName(string network, bool v6) => $"saddr{(v6 ? 6 : 4)}-{Hash8(network)}-{Cut(network)}";

    /// <summary>"subnet4-1a2b3c4d-demonet": the network's subnets (interval set).</summary>
    public static string SubnetSetName(string network, bool v6) => $"subnet{(v6 ? 6 : 4)}-{Hash8(network)}-{Cut(network)}";

    public static string MasqueradeComment(string network) => $"ipMasq network {network}";

    internal static string Hash8(string s) => StableHash.Hex8(s);

    private static string Cut(string s) => s.Length <= 32 ? s : s[..32];

    /// <summary>The inet table and its NAT base chain (idempotent).</summary>
    public static void DeclareNatChain(NftBatch batch)
    {
        batch.AddTable(Nft.NFPROTO_INET, TableName, TableComment);
        batch.AddBaseChain(Nft.NFPROTO_INET, TableName, NatChain, "nat", Nft.NF_INET_POST_ROUTING, Nft.NF_IP_PRI_NAT_SRC, Nft.NF_ACCEPT);
    }

    /// <summary>A network's two sets for one family; returns the address set's op, created exclusively when
    /// asked (whoever creates it also adds the rule, so there is one rule however many ADDs race).</summary>
    public static NetlinkOp DeclareMasqueradeSets(NftBatch batch, string network, bool v6, bool exclusive)
    {
        uint type = v6 ? Nft.TYPE_IP6ADDR : Nft.TYPE_IPADDR, len = v6 ? 16u : 4u;
        NetlinkOp addrSet = batch.AddSet(Nft.NFPROTO_INET, TableName, AddrSetName(network, v6), 0, type, len,
            comment: $"ipMasq network {network}: container addresses", exclusive: exclusive);
        batch.AddSet(Nft.NFPROTO_INET, TableName, SubnetSetName(network, v6), Nft.SET_F_INTERVAL, type, len,
            comment: $"ipMasq network {network}: subnets (not masqueraded)");
        return addrSet;
    }

    public static void DeclareMasqueradeRule(NftBatch batch, string network, bool v6) =>
        batch.AddRule(Nft.NFPROTO_INET, TableName, NatChain,
            w => MasqueradeRule(w, v6, AddrSetName(network, v6), SubnetSetName(network, v6)), MasqueradeComment(network));

    internal static void MasqueradeRule(NftExprWriter w, bool v6, string addrSet, string subnetSet)
    {
        w.Meta(Nft.META_NFPROTO).Cmp(Nft.CMP_EQ, [v6 ? Nft.NFPROTO_IPV6 : Nft.NFPROTO_IPV4]);
        if (!v6)
        {
            w.Payload(Nft.PAYLOAD_NETWORK_HEADER, 12, 4).Lookup(addrSet)        // ip saddr @addrSet
             .Payload(Nft.PAYLOAD_NETWORK_HEADER, 16, 4).Lookup(subnetSet, invert: true) // ip daddr != @subnetSet
             .Payload(Nft.PAYLOAD_NETWORK_HEADER, 16, 4)
             .Bitwise([0xf0, 0, 0, 0], [0, 0, 0, 0]).Cmp(Nft.CMP_NEQ, [0xe0, 0, 0, 0]); // ip daddr != 224.0.0.0/4
        }
        else
        {
            w.Payload(Nft.PAYLOAD_NETWORK_HEADER, 8, 16).Lookup(addrSet)        // ip6 saddr @addrSet
             .Payload(Nft.PAYLOAD_NETWORK_HEADER, 24, 16).Lookup(subnetSet, invert: true)
             .Payload(Nft.PAYLOAD_NETWORK_HEADER, 24, 1).Cmp(Nft.CMP_NEQ, [0xff]); // ip6 daddr != ff00::/8
        }
        w.Masquerade();
    }

    // ---------------------------------------------------------------- macspoofchk

    /// <summary>The bridge table and its prerouting base chain (idempotent).</summary>
    public static void DeclareSpoofChain(NftBatch batch)
    {
        batch.AddTable(Nft.NFPROTO_BRIDGE, TableName, TableComment);
        batch.AddBaseChain(Nft.NFPROTO_BRIDGE, TableName, SpoofChain, "filter", Nft.NF_BR_PRE_ROUTING,
            Nft.NF_BR_PRI_NAT_DST_BRIDGED, Nft.NF_ACCEPT);
    }

    /// <summary>The ports map and the allowed set; returns the map's op (exclusive: see DeclareMasqueradeSets).</summary>
    public static NetlinkOp DeclareSpoofSets(NftBatch batch, bool exclusive)
    {
        NetlinkOp ports = batch.AddSet(Nft.NFPROTO_BRIDGE, TableName, PortsMap, Nft.SET_F_MAP, Nft.TYPE_IFNAME, Nft.IFNAMSIZ,
            Nft.TYPE_ETHERADDR, 6, "macspoofchk: host port -> container MAC", exclusive: exclusive,
            keyByteOrder: Nft.BYTEORDER_HOST, dataByteOrder: Nft.BYTEORDER_BIG);
        batch.AddSet(Nft.NFPROTO_BRIDGE, TableName, AllowedSet, 0, (Nft.TYPE_IFNAME << 6) | Nft.TYPE_ETHERADDR,
            Nft.IFNAMSIZ + 8, comment: "macspoofchk: allowed (port, source MAC)");
        return ports;
    }

    public static void DeclareSpoofRule(NftBatch batch) =>
        batch.AddRule(Nft.NFPROTO_BRIDGE, TableName, SpoofChain, SpoofRule, "macspoofchk");

    internal static void SpoofRule(NftExprWriter w)
    {
        w.Meta(Nft.META_IIFNAME).Lookup(PortsMap)                       // iifname @ports
         .Meta(Nft.META_IIFNAME)
         .Payload(Nft.PAYLOAD_LL_HEADER, 6, 6, Nft.REG_2)               // iifname . ether saddr
         .Lookup(AllowedSet, invert: true)                               //   != @allowed
         .Verdict(Nft.NF_DROP);
    }

    /// <summary>"veth" + 8 lowercase hex digits: the host port names cniveth derives (HostVeth).</summary>
    internal static bool IsOurPortName(string n) =>
        n.Length == 12 && n.StartsWith("veth", StringComparison.Ordinal) && n.AsSpan(4).IndexOfAnyExcept("0123456789abcdef") < 0;

    /// <summary>An interface name as nf_tables keys hold it: IFNAMSIZ bytes, NUL-padded.</summary>
    internal static byte[] IfName(string name)
    {
        int n = System.Text.Encoding.UTF8.GetByteCount(name);
        if (n == 0 || n >= Nft.IFNAMSIZ) throw new ArgumentException($"invalid interface name \"{name}\"", nameof(name));
        var r = new byte[Nft.IFNAMSIZ];
        System.Text.Encoding.UTF8.GetBytes(name, r);
        return r;
    }

    /// <summary>"02:00:00:00:00:01" (or with '-') to 6 bytes, by the contract's MAC rules.</summary>
    internal static byte[] ParseMac(string mac) =>
        MacAddress.TryParse(mac, out byte[] bytes, out _) ? bytes : throw new ArgumentException($"invalid MAC address \"{mac}\"", nameof(mac));

    /// <summary>ifname . ether_addr concatenation: 16 bytes of name, 6 of MAC, 2 of padding (4-byte fields).</summary>
    internal static byte[] PortMacKey(byte[] ifname16, byte[] mac)
    {
        var r = new byte[Nft.IFNAMSIZ + 8];
        ifname16.AsSpan(0, Nft.IFNAMSIZ).CopyTo(r);
        mac.AsSpan(0, 6).CopyTo(r.AsSpan(Nft.IFNAMSIZ));
        return r;
    }
}
