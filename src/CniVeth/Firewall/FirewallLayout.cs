using CniVeth.Netlink;
using CniVeth.Netlink.NfTables;
using CniVeth.Values;

namespace CniVeth.Firewall;

/// <summary>
/// What the plugin's nf_tables ruleset consists of: names, set definitions and rule expressions, and how
/// our rules are recognised when read back. No I/O.
/// What `nft list ruleset` shows for network "demonet" (10.88.0.0/16, fd00:88::/64, nonMasqueradeCIDRs
/// 10.244.0.0/16) with two IPv4 and one IPv6 container, and one spoof-checked port:
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
///         elements = { 10.88.0.0/16, 10.244.0.0/16 }
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
///     set spoofchk-checked {
///         type ifname
///         comment "macspoofchk: checked host ports"
///         elements = { "veth0123abcd" }
///     }
///     chain prerouting {
///         type filter hook prerouting priority dstnat; policy accept;     # dstnat = -300 in the bridge family
///         iifname @spoofchk-checked iifname . ether saddr != @spoofchk-allowed drop comment "macspoofchk"
///     }
/// }
/// </code>
/// <para><b>ipMasq.</b> Per network and address family: a set of container addresses, an interval set of
/// the destinations that are not masqueraded (the network's subnets and its nonMasqueradeCIDRs) and one
/// rule. Set names are <c>saddr4-</c>/<c>subnet4-</c> (or 6) + FNV-1a-32 of the network name in 8 hex digits
/// + the network name cut to 32 characters, so they stay short and unique; comments carry the name for
/// humans. Containers are set elements, never chains or rules, so the ruleset size is constant per
/// container. Traffic of an address whose family has no subnet is masqueraded to every non-multicast
/// destination. The interval set only grows: a wider prefix replaces the ones it contains (one batch).</para>
/// <para><b>macspoofchk.</b> Frames entering the bridge from a port in <c>spoofchk-checked</c> are dropped
/// unless (port, source MAC) is in <c>spoofchk-allowed</c>; the <c>spoofchk-ports</c> map lets DEL find the
/// MAC from the port name alone. The rule's first lookup is in a plain set, not in the map: kernels before
/// 6.5 refuse a map lookup without a destination register (EINVAL), and one with a register that nothing
/// reads is left out by nft when it lists the rule (a saved ruleset loaded back would drop frames of every
/// port). Releases before this one used <c>iifname @spoofchk-ports</c> (LegacySpoofRule); ADD replaces
/// that rule in one batch. Only ports named like ours ("veth" + 8 lowercase hex digits) are ever
/// garbage-collected.</para>
/// <para><b>Our rules are found by what they reference</b> (the sets their lookups read, and their action),
/// not by their comments: ADD re-creates a missing one, CHECK reports it.</para>
/// </summary>
internal static class FirewallLayout
{
    public const string TableName = "cniveth";
    public const string NatChain = "postrouting";
    public const string SpoofChain = "prerouting";
    public const string PortsMap = "spoofchk-ports";
    public const string AllowedSet = "spoofchk-allowed";
    public const string CheckedSet = "spoofchk-checked";
    public const string TableComment = "managed by the cniveth CNI plugin";

    // ---------------------------------------------------------------- ipMasq

    /// <summary>"saddr4-1a2b3c4d-demonet": container addresses of a network.</summary>
    public static string AddrSetName(string network, bool v6) => "saddr" + (v6 ? "6-" : "4-") + Hash8(network) + "-" + Cut(network);

    /// <summary>"subnet4-1a2b3c4d-demonet": the network's subnets (interval set).</summary>
    public static string SubnetSetName(string network, bool v6) => "subnet" + (v6 ? "6-" : "4-") + Hash8(network) + "-" + Cut(network);

    public static string MasqueradeComment(string network) => $"ipMasq network {CommentName(network)}";

    /// <summary>The network name as comments carry it: nft(8) keeps comments to 128 bytes and the kernel
    /// refuses userdata over 256 (ERANGE), while a network name may be longer (a 250-character one failed ADD).</summary>
    internal static string CommentName(string network) => network.Length <= 64 ? network : network[..61] + "...";

    internal static string Hash8(string s) => StableHash.Hex8(s);

    private static string Cut(string s) => s.Length <= 32 ? s : s[..32];

    /// <summary>The inet table and its NAT base chain (idempotent).</summary>
    public static void DeclareNatChain(NftBatch batch)
    {
        batch.AddTable(Nft.NFPROTO_INET, TableName, TableComment);
        batch.AddBaseChain(Nft.NFPROTO_INET, TableName, NatChain, "nat", Nft.NF_INET_POST_ROUTING, Nft.NF_IP_PRI_NAT_SRC, Nft.NF_ACCEPT);
    }

    /// <summary>A network's two sets for one family (idempotent).</summary>
    public static void DeclareMasqueradeSets(NftBatch batch, string network, bool v6)
    {
        uint type = v6 ? Nft.TYPE_IP6ADDR : Nft.TYPE_IPADDR, len = v6 ? 16u : 4u;
        batch.AddSet(Nft.NFPROTO_INET, TableName, AddrSetName(network, v6), 0, type, len,
            comment: "ipMasq network " + CommentName(network) + ": container addresses");
        batch.AddSet(Nft.NFPROTO_INET, TableName, SubnetSetName(network, v6), Nft.SET_F_INTERVAL, type, len,
            comment: "ipMasq network " + CommentName(network) + ": subnets (not masqueraded)");
    }

    public static void DeclareMasqueradeRule(NftBatch batch, string network, bool v6) =>
        batch.AddRule(Nft.NFPROTO_INET, TableName, NatChain,
            w => MasqueradeRule(w, v6, AddrSetName(network, v6), SubnetSetName(network, v6)), MasqueradeComment(network));

    /// <summary>The network's masquerade rule of one family: it reads the network's address set ("in") and
    /// subnet set ("not in") and masquerades. Rules are recognised by this, never by their comment.</summary>
    public static bool IsMasqueradeRule(NftRule r, string network, bool v6) =>
        r.Family == Nft.NFPROTO_INET && r.Table == TableName && r.Chain == NatChain && r.Has("masq")
        && r.Looks(AddrSetName(network, v6), inverted: false) && r.Looks(SubnetSetName(network, v6), inverted: true);

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

    /// <summary>The ports map, the allowed set and the checked set (idempotent).</summary>
    public static void DeclareSpoofSets(NftBatch batch)
    {
        batch.AddSet(Nft.NFPROTO_BRIDGE, TableName, PortsMap, Nft.SET_F_MAP, Nft.TYPE_IFNAME, Nft.IFNAMSIZ,
            Nft.TYPE_ETHERADDR, 6, "macspoofchk: host port -> container MAC",
            keyByteOrder: Nft.BYTEORDER_HOST, dataByteOrder: Nft.BYTEORDER_BIG);
        batch.AddSet(Nft.NFPROTO_BRIDGE, TableName, AllowedSet, 0, (Nft.TYPE_IFNAME << 6) | Nft.TYPE_ETHERADDR,
            Nft.IFNAMSIZ + 8, comment: "macspoofchk: allowed (port, source MAC)");
        batch.AddSet(Nft.NFPROTO_BRIDGE, TableName, CheckedSet, 0, Nft.TYPE_IFNAME, Nft.IFNAMSIZ,
            comment: "macspoofchk: checked host ports", keyByteOrder: Nft.BYTEORDER_HOST);
    }

    public static void DeclareSpoofRule(NftBatch batch) =>
        batch.AddRule(Nft.NFPROTO_BRIDGE, TableName, SpoofChain, SpoofRule, "macspoofchk");

    internal static void SpoofRule(NftExprWriter w)
    {
        w.Meta(Nft.META_IIFNAME).Lookup(CheckedSet)                     // iifname @checked
         .Meta(Nft.META_IIFNAME)
         .Payload(Nft.PAYLOAD_LL_HEADER, 6, 6, Nft.REG_2)               // iifname . ether saddr
         .Lookup(AllowedSet, invert: true)                               //   != @allowed
         .Verdict(Nft.NF_DROP);
    }

    /// <summary>The spoof-check rule: ports in the checked set ("in"), (port, MAC) not in the allowed set, drop.</summary>
    public static bool IsSpoofRule(NftRule r) =>
        r.Family == Nft.NFPROTO_BRIDGE && r.Table == TableName && r.Chain == SpoofChain && r.Drops
        && r.Looks(CheckedSet, inverted: false) && r.Looks(AllowedSet, inverted: true);

    /// <summary>The rule of releases before the checked set: <c>iifname @spoofchk-ports iifname . ether saddr
    /// != @spoofchk-allowed drop</c>, a map lookup without a destination register (kernels 6.5 and later only).
    /// ADD replaces it (ReplaceLegacySpoofRule); until then it guards the ports of the map.</summary>
    public static bool IsLegacySpoofRule(NftRule r) =>
        r.Family == Nft.NFPROTO_BRIDGE && r.Table == TableName && r.Chain == SpoofChain && r.Drops
        && r.Looks(PortsMap, inverted: false) && r.Looks(AllowedSet, inverted: true);

    /// <summary>The legacy rule's expressions (tests build an old ruleset with it).</summary>
    internal static void LegacySpoofRule(NftExprWriter w)
    {
        w.Meta(Nft.META_IIFNAME).Lookup(PortsMap)
         .Meta(Nft.META_IIFNAME)
         .Payload(Nft.PAYLOAD_LL_HEADER, 6, 6, Nft.REG_2)
         .Lookup(AllowedSet, invert: true)
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
