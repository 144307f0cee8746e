using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using CniVeth.Cni;
using CniVeth.Netlink;

namespace CniVeth.Firewall;

/// <summary>
/// The plugin's firewall, spoken directly to nf_tables over NETLINK_NETFILTER: no nft or iptables binary
/// is executed. Every change is one atomic nf_tables batch, and the ruleset size is constant per container:
/// containers are set elements, never chains or rules. `ipMasqBackend: "iptables"` is served by this too.
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
/// the network's subnets and one rule. Set names are <c>saddr4-</c>/<c>subnet4-</c> (or 6) + FNV-1a-32 of the
/// network name in 8 hex digits + the network name cut to 32 characters, so they stay short and unique;
/// comments carry the name for humans. The first ADD of a network creates table, chain, sets and rule in
/// one batch, the address set with NLM_F_EXCL: when several processes race, one batch wins and the others
/// fail with EEXIST and retry adding elements only, so there is one rule per family. Later ADDs only add
/// elements (one batch; table and chain are re-declared only when something is missing, e.g. after an
/// admin deleted the table). DEL and GC remove elements; a network's (possibly empty) sets and rule stay.
/// A subnet that overlaps a different subnet already in the set (the network's subnets changed while
/// containers exist) is skipped and the existing one kept. Traffic of an address whose family has no subnet
/// is masqueraded to every non-multicast destination.</para>
/// <para><b>macspoofchk.</b> Frames entering the bridge from a port in <c>spoofchk-checked</c> are dropped
/// unless (port, source MAC) is in <c>spoofchk-allowed</c>. ADD adds one element to each and to the
/// <c>spoofchk-ports</c> map (replacing an older MAC of the same port name); DEL reads the MAC back from
/// the map (so it needs only the port name) and removes all three; GC only touches ports named like ours
/// ("veth" + 8 lowercase hex digits). The rule's first lookup is in a plain set, not in the map: kernels
/// before 6.5 reject a map lookup without a destination register (EINVAL), and one with a register
/// that nothing reads is left out by nft when it lists the rule, so the listing would show, and
/// <c>nft -f</c> of a saved ruleset would load, a rule that drops frames of every port.</para>
/// <para>Missing tables, sets or elements are never errors on DEL/GC. Errors are NetlinkException with the
/// operation and object, e.g. <c>adding masquerade for 10.88.0.5 on network "demonet" (adding rule to chain
/// inet cniveth postrouting): EPERM (operation not permitted)</c>.</para>
/// </summary>
internal sealed class NftFirewall : IDisposable
{
    public const string TableName = "cniveth";
    public const string NatChain = "postrouting";
    public const string SpoofChain = "prerouting";
    public const string PortsMap = "spoofchk-ports";
    public const string AllowedSet = "spoofchk-allowed";
    public const string CheckedSet = "spoofchk-checked";
    private const string TableComment = "managed by the cniveth CNI plugin";
    private const int MaxAttempts = 8;
    /// <summary>Elements per DELSETELEM message / batch when many go at once (GC): keeps messages and the
    /// kernel's error echoes well below the socket buffers.</summary>
    private const int ChunkElements = 128, ChunkMessages = 256;

    private readonly NetlinkSocket _sock;

    private NftFirewall(NetlinkSocket sock) => _sock = sock;

    /// <summary>Opens a NETLINK_NETFILTER socket in the calling thread's network namespace.</summary>
    public static NftFirewall Open() => new(NetlinkSocket.Open(Nl.NETLINK_NETFILTER));

    public void Dispose() => _sock.Dispose();

    // ---------------------------------------------------------------- one attachment, one batch

    /// <summary>
    /// ADD of one attachment: its masquerade addresses (when <paramref name="addresses"/> is not empty) and
    /// its spoof check (when <paramref name="hostIfName"/> is given) in ONE atomic batch, so the kernel
    /// commits (and waits for RCU) once. That is the steady state. When a table, set or rule is missing,
    /// or the port's MAC changed, the batch fails as a whole, nothing is applied, and the creating paths
    /// below take over.
    /// </summary>
    public void AddAttachment(string network, IReadOnlyList<CidrAddress> subnets, IReadOnlyList<IPAddress> addresses,
        string? hostIfName, string? mac)
    {
        var batch = new NftBatch();
        // The same elements AddMasquerade adds in its steady state: addresses, and the (re-added, idempotent)
        // subnet intervals of each family that has any.
        for (int f = 0; f < 2 && addresses.Count > 0; f++)
        {
            bool v6 = f == 1;
            var mine = new List<NftElement>();
            foreach (IPAddress a in addresses) if (IsV6(a) == v6) mine.Add(new NftElement(a.GetAddressBytes()));
            if (mine.Count > 0) batch.AddElements(Nft.NFPROTO_INET, TableName, AddrSetName(network, v6), mine);
            var family = new List<CidrAddress>();
            foreach (CidrAddress s in subnets) if (IsV6(s.Address) == v6) family.Add(s);
            foreach (CidrAddress n in NormalizeSubnets(family))
                batch.AddElements(Nft.NFPROTO_INET, TableName, SubnetSetName(network, v6), IntervalElements(n));
        }
        if (hostIfName is not null && mac is not null)
        {
            byte[] name = IfName(hostIfName), m = ParseMac(mac);
            batch.AddElements(Nft.NFPROTO_BRIDGE, TableName, PortsMap, [new NftElement(name, m)]);
            batch.AddElements(Nft.NFPROTO_BRIDGE, TableName, AllowedSet, [new NftElement(PortMacKey(name, m))]);
            batch.AddElements(Nft.NFPROTO_BRIDGE, TableName, CheckedSet, [new NftElement(name)]);
        }
        if (_sock.ExecuteBatch(batch.Finish(), $"adding firewall state on network \"{network}\"").All(a => a.Ok)) return;

        if (hostIfName is not null && mac is not null) AddMacSpoofCheck(hostIfName, mac);
        if (addresses.Count > 0) AddMasquerade(network, subnets, addresses);
    }

    /// <summary>DEL of one attachment: its masquerade addresses and its spoof-check entries (found by port
    /// name alone) in one atomic batch. Anything already gone is fine.</summary>
    public void RemoveAttachment(string network, IReadOnlyList<IPAddress> addresses, string? hostIfName)
    {
        string op = hostIfName is null
            ? $"removing masquerade for {Join(addresses)} on network \"{network}\""
            : addresses.Count == 0
                ? $"removing MAC spoof check on port \"{hostIfName}\""
                : $"removing firewall state of port \"{hostIfName}\" ({Join(addresses)}) on network \"{network}\"";
        var items = new List<SetElement>();
        foreach (IPAddress a in addresses.Distinct())
            items.Add(new SetElement(Nft.NFPROTO_INET, AddrSetName(network, IsV6(a)), new NftElement(a.GetAddressBytes())));
        if (hostIfName is not null)
        {
            byte[] name = IfName(hostIfName);
            items.Add(new SetElement(Nft.NFPROTO_BRIDGE, PortsMap, new NftElement(name)));
            items.Add(new SetElement(Nft.NFPROTO_BRIDGE, CheckedSet, new NftElement(name)));
            byte[]? m = GetMapData(Nft.NFPROTO_BRIDGE, PortsMap, name, op);
            if (m is { Length: >= 6 }) items.Add(new SetElement(Nft.NFPROTO_BRIDGE, AllowedSet, new NftElement(PortMacKey(name, m))));
        }
        DeleteTolerant(items, op);
    }

    // ---------------------------------------------------------------- ipMasq

    private enum Mode { Elements, Create, EnsureSets }

    private sealed class MasqFamily
    {
        public required bool V6;
        public required string AddrSet, SubnetSet;
        public readonly List<IPAddress> Addresses = new();
        public readonly List<NftElement[]> Subnets = new();
        public Mode Mode = Mode.Elements;
    }

    /// <summary>Masquerades traffic from <paramref name="addresses"/> leaving the network's
    /// <paramref name="subnets"/> (multicast excluded). Creates the table, chain, the network's sets and
    /// rule on first use; idempotent.</summary>
    public void AddMasquerade(string network, IReadOnlyList<CidrAddress> subnets, IReadOnlyList<IPAddress> addresses)
    {
        string op = $"adding masquerade for {Join(addresses)} on network \"{network}\"";
        var fams = new List<MasqFamily>();
        foreach (bool v6 in new[] { false, true })
        {
            var f = new MasqFamily { V6 = v6, AddrSet = AddrSetName(network, v6), SubnetSet = SubnetSetName(network, v6) };
            foreach (IPAddress a in addresses)
                if (IsV6(a) == v6) f.Addresses.Add(a);
            foreach (CidrAddress s in NormalizeSubnets(subnets.Where(s => IsV6(s.Address) == v6)))
                f.Subnets.Add(IntervalElements(s));
            if (f.Addresses.Count > 0 || f.Subnets.Count > 0) fams.Add(f);
        }
        if (fams.Count == 0) return;

        bool withTable = false;
        for (int attempt = 0; ; attempt++)
        {
            var batch = new NftBatch();
            var tags = new List<(MasqFamily? F, string What, int Subnet)>();
            if (withTable)
            {
                batch.AddTable(Nft.NFPROTO_INET, TableName, TableComment); tags.Add((null, $"table inet {TableName}", -1));
                batch.AddBaseChain(Nft.NFPROTO_INET, TableName, NatChain, "nat", Nft.NF_INET_POST_ROUTING, Nft.NF_IP_PRI_NAT_SRC, Nft.NF_ACCEPT);
                tags.Add((null, $"chain inet {TableName} {NatChain}", -1));
            }
            foreach (MasqFamily f in fams)
            {
                if (f.Mode != Mode.Elements)
                {
                    uint type = f.V6 ? Nft.TYPE_IP6ADDR : Nft.TYPE_IPADDR, len = f.V6 ? 16u : 4u;
                    batch.AddSet(Nft.NFPROTO_INET, TableName, f.AddrSet, 0, type, len,
                        comment: $"ipMasq network {network}: container addresses", exclusive: f.Mode == Mode.Create);
                    tags.Add((f, "addrset", -1));
                    batch.AddSet(Nft.NFPROTO_INET, TableName, f.SubnetSet, Nft.SET_F_INTERVAL, type, len,
                        comment: $"ipMasq network {network}: subnets (not masqueraded)");
                    tags.Add((f, "subnetset", -1));
                    if (f.Mode == Mode.Create)
                    {
                        batch.AddRule(Nft.NFPROTO_INET, TableName, NatChain, w => MasqueradeRule(w, f.V6, f.AddrSet, f.SubnetSet),
                            $"ipMasq network {network}");
                        tags.Add((f, "rule", -1));
                    }
                }
                if (f.Addresses.Count > 0)
                {
                    batch.AddElements(Nft.NFPROTO_INET, TableName, f.AddrSet, f.Addresses.Select(a => new NftElement(a.GetAddressBytes())));
                    tags.Add((f, "addrs", -1));
                }
                for (int i = 0; i < f.Subnets.Count; i++)
                {
                    batch.AddElements(Nft.NFPROTO_INET, TableName, f.SubnetSet, f.Subnets[i]);
                    tags.Add((f, "subnet", i));
                }
            }
            NetlinkAck[] acks = _sock.ExecuteBatch(batch.Finish(), op);
            if (acks.All(a => a.Ok)) return;

            bool progress = false;
            var dropSubnets = new List<(MasqFamily F, int I)>();
            (int Errno, string? Msg, string What)? fatal = null;
            for (int i = 0; i < acks.Length; i++)
            {
                if (acks[i].Ok) continue;
                var (f, what, sub) = tags[i];
                int e = acks[i].Errno;
                if (f != null && (what == "addrs" || what == "subnet") && e == Errno.ENOENT)
                {
                    withTable = true;
                    if (f.Mode == Mode.Elements) { f.Mode = Mode.Create; progress = true; }
                }
                else if (f != null && what == "addrset" && e == Errno.EEXIST && f.Mode == Mode.Create)
                {
                    f.Mode = Mode.EnsureSets; // another process created set and rule first
                    progress = true;
                }
                else if (f != null && what == "subnet" && e == Errno.EEXIST)
                {
                    dropSubnets.Add((f, sub)); // overlaps a different subnet already in the set: keep that one
                    progress = true;
                }
                else fatal ??= (e, acks[i].KernelMessage, what);
            }
            if (fatal is { } x && (!progress || attempt >= MaxAttempts))
                throw new NetlinkException($"{op} ({DescribeMasqObject(x.What, fams)})", x.Errno, x.Msg);
            if (!progress || attempt >= MaxAttempts)
                throw new NetlinkException(op + " (the ruleset kept changing)", acks.First(a => !a.Ok).Errno);
            foreach (var (f, i) in dropSubnets.OrderByDescending(d => d.I)) f.Subnets.RemoveAt(i);
        }
    }

    private static string DescribeMasqObject(string what, List<MasqFamily> fams) => what switch
    {
        "addrset" => $"creating set inet {TableName} {string.Join(" / ", fams.Select(f => f.AddrSet))}",
        "addrs" => $"adding to set inet {TableName} {string.Join(" / ", fams.Select(f => f.AddrSet))}",
        "subnetset" => $"creating set inet {TableName} {string.Join(" / ", fams.Select(f => f.SubnetSet))}",
        "subnet" => $"adding to set inet {TableName} {string.Join(" / ", fams.Select(f => f.SubnetSet))}",
        "rule" => $"adding rule to chain inet {TableName} {NatChain}",
        _ => what,
    };

    /// <summary>Removes the addresses from the network's set. Missing elements, sets or table are fine.</summary>
    public void RemoveMasquerade(string network, IReadOnlyList<IPAddress> addresses) =>
        RemoveAttachment(network, addresses, hostIfName: null);

    /// <summary>Removes every address of the network's sets that is not in <paramref name="keep"/>.</summary>
    public void GcMasquerade(string network, IReadOnlySet<IPAddress> keep)
    {
        string op = $"garbage-collecting masquerade addresses of network \"{network}\"";
        var items = new List<(string Set, NftElement Element)>();
        foreach (bool v6 in new[] { false, true })
        {
            string set = AddrSetName(network, v6);
            List<(byte[] Key, byte[]? Data)>? elems = DumpElements(Nft.NFPROTO_INET, set, op);
            if (elems == null) continue;
            foreach (var (key, _) in elems)
            {
                if (key.Length != (v6 ? 16 : 4)) continue;
                var ip = new IPAddress(key);
                if (!keep.Contains(ip)) items.Add((set, new NftElement(key)));
            }
        }
        DeleteTolerant(Nft.NFPROTO_INET, items, op);
    }

    /// <summary>CHECK: the addresses that are missing from the network's masquerade sets (one element
    /// lookup each, whatever the number of containers).</summary>
    public List<IPAddress> MissingMasquerade(string network, IReadOnlyList<IPAddress> addresses)
    {
        string op = $"checking masquerade on network \"{network}\"";
        return addresses.Distinct()
            .Where(a => !HasElement(Nft.NFPROTO_INET, AddrSetName(network, IsV6(a)), a.GetAddressBytes(), op))
            .ToList();
    }

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

    /// <summary>"saddr4-1a2b3c4d-demonet": container addresses of a network.</summary>
    internal static string AddrSetName(string network, bool v6) => $"saddr{(v6 ? 6 : 4)}-{Hash8(network)}-{Cut(network)}";

    /// <summary>"subnet4-1a2b3c4d-demonet": the network's subnets (interval set).</summary>
    internal static string SubnetSetName(string network, bool v6) => $"subnet{(v6 ? 6 : 4)}-{Hash8(network)}-{Cut(network)}";

    internal static string Hash8(string s) => StableHash.Hex8(s);

    private static string Cut(string s) => s.Length <= 32 ? s : s[..32];

    /// <summary>Masks host bits, drops duplicates and subnets contained in another one (the kernel refuses
    /// overlapping intervals).</summary>
    internal static List<CidrAddress> NormalizeSubnets(IEnumerable<CidrAddress> subnets)
    {
        // Loops where LINQ would chain over a struct (a generic virtual call resolved at run time).
        var norm = new List<CidrAddress>();
        foreach (CidrAddress s in subnets)
        {
            var masked = new CidrAddress(Mask(s.Address, s.PrefixLength), s.PrefixLength);
            if (!norm.Contains(masked)) norm.Add(masked);
        }
        return norm.Where(s => !norm.Any(o => o != s && o.PrefixLength <= s.PrefixLength && IsV6(o.Address) == IsV6(s.Address)
                                               && Mask(s.Address, o.PrefixLength).Equals(o.Address))).ToList();
    }

    private static IPAddress Mask(IPAddress a, int prefix) => IpMath.Network(new CidrAddress(a, prefix));

    /// <summary>An interval-set prefix: the start element, and the first address after it flagged
    /// NFT_SET_ELEM_INTERVAL_END (omitted when the prefix runs to the end of the address space).</summary>
    internal static NftElement[] IntervalElements(CidrAddress subnet)
    {
        byte[] start = Mask(subnet.Address, subnet.PrefixLength).GetAddressBytes();
        byte[] end = (byte[])start.Clone();
        if (subnet.PrefixLength <= 0) return [new NftElement(start)];
        // add 1 at bit position (prefix - 1), counting from the most significant bit, with carry
        int bit = subnet.PrefixLength - 1;
        int idx = bit / 8;
        int carry = 1 << (7 - bit % 8);
        for (int i = idx; i >= 0 && carry != 0; i--)
        {
            int v = end[i] + carry;
            end[i] = (byte)v;
            carry = v >> 8;
        }
        if (carry != 0) return [new NftElement(start)];
        return [new NftElement(start), new NftElement(end, null, Nft.SET_ELEM_INTERVAL_END)];
    }

    // ---------------------------------------------------------------- macspoofchk

    /// <summary>Only <paramref name="mac"/> may enter the bridge from host port <paramref name="hostIfName"/>.
    /// Replaces an older MAC of the same port. Idempotent.</summary>
    public void AddMacSpoofCheck(string hostIfName, string mac)
    {
        string op = $"adding MAC spoof check for {mac} on port \"{hostIfName}\"";
        byte[] name = IfName(hostIfName);
        byte[] m = ParseMac(mac);
        Mode mode = Mode.Elements;
        bool replaced = false;
        for (int attempt = 0; ; attempt++)
        {
            var batch = new NftBatch();
            var tags = new List<string>();
            if (mode != Mode.Elements)
            {
                batch.AddTable(Nft.NFPROTO_BRIDGE, TableName, TableComment); tags.Add($"table bridge {TableName}");
                batch.AddBaseChain(Nft.NFPROTO_BRIDGE, TableName, SpoofChain, "filter", Nft.NF_BR_PRE_ROUTING,
                    Nft.NF_BR_PRI_NAT_DST_BRIDGED, Nft.NF_ACCEPT);
                tags.Add($"chain bridge {TableName} {SpoofChain}");
                batch.AddSet(Nft.NFPROTO_BRIDGE, TableName, PortsMap, Nft.SET_F_MAP, Nft.TYPE_IFNAME, Nft.IFNAMSIZ,
                    Nft.TYPE_ETHERADDR, 6, "macspoofchk: host port -> container MAC", exclusive: mode == Mode.Create,
                    keyByteOrder: Nft.BYTEORDER_HOST, dataByteOrder: Nft.BYTEORDER_BIG);
                tags.Add("portsset");
                batch.AddSet(Nft.NFPROTO_BRIDGE, TableName, AllowedSet, 0, (Nft.TYPE_IFNAME << 6) | Nft.TYPE_ETHERADDR,
                    Nft.IFNAMSIZ + 8, comment: "macspoofchk: allowed (port, source MAC)");
                tags.Add($"set bridge {TableName} {AllowedSet}");
                batch.AddSet(Nft.NFPROTO_BRIDGE, TableName, CheckedSet, 0, Nft.TYPE_IFNAME, Nft.IFNAMSIZ,
                    comment: "macspoofchk: checked host ports", keyByteOrder: Nft.BYTEORDER_HOST);
                tags.Add($"set bridge {TableName} {CheckedSet}");
                if (mode == Mode.Create)
                {
                    batch.AddRule(Nft.NFPROTO_BRIDGE, TableName, SpoofChain, SpoofRule, "macspoofchk");
                    tags.Add($"rule in chain bridge {TableName} {SpoofChain}");
                }
            }
            batch.AddElements(Nft.NFPROTO_BRIDGE, TableName, PortsMap, [new NftElement(name, m)]);
            tags.Add("port");
            batch.AddElements(Nft.NFPROTO_BRIDGE, TableName, AllowedSet, [new NftElement(PortMacKey(name, m))]);
            tags.Add("allowed");
            batch.AddElements(Nft.NFPROTO_BRIDGE, TableName, CheckedSet, [new NftElement(name)]);
            tags.Add("checked");
            NetlinkAck[] acks = _sock.ExecuteBatch(batch.Finish(), op);
            if (acks.All(a => a.Ok)) return;

            bool progress = false, clash = false;
            (int Errno, string? Msg, string What)? fatal = null;
            for (int i = 0; i < acks.Length; i++)
            {
                if (acks[i].Ok) continue;
                int e = acks[i].Errno;
                string what = tags[i];
                if ((what == "port" || what == "allowed" || what == "checked") && e == Errno.ENOENT)
                {
                    if (mode == Mode.Elements) { mode = Mode.Create; progress = true; }
                }
                else if (what == "portsset" && e == Errno.EEXIST && mode == Mode.Create) { mode = Mode.EnsureSets; progress = true; }
                else if (what == "port" && e == Errno.EEXIST && !replaced) clash = true;
                else fatal ??= (e, acks[i].KernelMessage, what);
            }
            if (clash && fatal == null)
            {
                // The port is checked for another MAC (a reused port name): replace it.
                RemoveMacSpoofCheck(hostIfName);
                replaced = true;
                progress = true;
            }
            if (!progress || attempt >= MaxAttempts)
            {
                var (e, km, what) = fatal ?? (acks.First(a => !a.Ok).Errno, null, "the ruleset kept changing");
                string obj = what switch
                {
                    "portsset" or "port" => $"map bridge {TableName} {PortsMap}",
                    "allowed" => $"set bridge {TableName} {AllowedSet}",
                    "checked" => $"set bridge {TableName} {CheckedSet}",
                    _ => what,
                };
                throw new NetlinkException($"{op} ({obj})", e, km);
            }
        }
    }

    /// <summary>CHECK: the MAC the spoof check lets out of the port, or null when the port is not guarded
    /// (no map entry, or no matching allowed pair).</summary>
    public string? SpoofCheckMac(string hostIfName)
    {
        string op = $"checking MAC spoof check on port \"{hostIfName}\"";
        byte[] name = IfName(hostIfName);
        byte[]? mac = GetMapData(Nft.NFPROTO_BRIDGE, PortsMap, name, op);
        if (mac is not { Length: >= 6 } || !HasElement(Nft.NFPROTO_BRIDGE, AllowedSet, PortMacKey(name, mac), op)
            || !HasElement(Nft.NFPROTO_BRIDGE, CheckedSet, name, op)) return null;
        return string.Join(":", mac.Take(6).Select(b => b.ToString("x2")));
    }

    /// <summary>Removes the port's entries knowing only its name. Missing is not an error.</summary>
    public void RemoveMacSpoofCheck(string hostIfName) => RemoveAttachment("", [], hostIfName);

    /// <summary>Removes the entries of every port named like ours ("veth" + 8 hex digits) that is not in
    /// <paramref name="keepHostIfNames"/>.</summary>
    public void GcMacSpoofCheck(IReadOnlySet<string> keepHostIfNames)
    {
        const string op = "garbage-collecting MAC spoof checks";
        var items = new List<(string Set, NftElement Element)>();
        var seen = new HashSet<string>();
        foreach (var (key, _) in DumpElements(Nft.NFPROTO_BRIDGE, PortsMap, op) ?? [])
        {
            string port = AttributeReader.String(key);
            if (IsOurPortName(port) && !keepHostIfNames.Contains(port)) items.Add((PortsMap, new NftElement(key)));
        }
        foreach (var (key, _) in DumpElements(Nft.NFPROTO_BRIDGE, CheckedSet, op) ?? [])
        {
            string port = AttributeReader.String(key);
            if (IsOurPortName(port) && !keepHostIfNames.Contains(port)) items.Add((CheckedSet, new NftElement(key)));
        }
        foreach (var (key, _) in DumpElements(Nft.NFPROTO_BRIDGE, AllowedSet, op) ?? [])
        {
            if (key.Length < Nft.IFNAMSIZ) continue;
            string port = AttributeReader.String(key.AsSpan(0, Nft.IFNAMSIZ));
            if (IsOurPortName(port) && !keepHostIfNames.Contains(port) && seen.Add(Convert.ToHexString(key)))
                items.Add((AllowedSet, new NftElement(key)));
        }
        DeleteTolerant(Nft.NFPROTO_BRIDGE, items, op);
    }

    internal static void SpoofRule(NftExprWriter w)
    {
        w.Meta(Nft.META_IIFNAME).Lookup(CheckedSet)                     // iifname @checked
         .Meta(Nft.META_IIFNAME)
         .Payload(Nft.PAYLOAD_LL_HEADER, 6, 6, Nft.REG_2)               // iifname . ether saddr
         .Lookup(AllowedSet, invert: true)                               //   != @allowed
         .Verdict(Nft.NF_DROP);
    }

    internal static bool IsOurPortName(string n) =>
        n.Length == 12 && n.StartsWith("veth", StringComparison.Ordinal) && n.AsSpan(4).IndexOfAnyExcept("0123456789abcdef") < 0;

    internal static byte[] IfName(string name)
    {
        int n = Encoding.UTF8.GetByteCount(name);
        if (n == 0 || n >= Nft.IFNAMSIZ) throw new ArgumentException($"invalid interface name \"{name}\"", nameof(name));
        var r = new byte[Nft.IFNAMSIZ];
        Encoding.UTF8.GetBytes(name, r);
        return r;
    }

    /// <summary>"02:00:00:00:00:01" (or with '-') to 6 bytes, by the contract layer's MAC rules.</summary>
    internal static byte[] ParseMac(string mac) =>
        AddressText.TryParseMac(mac, out string normalized, out _)
            ? AddressText.MacBytes(normalized)
            : throw new ArgumentException($"invalid MAC address \"{mac}\"", nameof(mac));

    /// <summary>ifname . ether_addr concatenation: 16 bytes of name, 6 of MAC, 2 of padding (4-byte fields).</summary>
    internal static byte[] PortMacKey(byte[] ifname16, byte[] mac)
    {
        var r = new byte[Nft.IFNAMSIZ + 8];
        ifname16.AsSpan(0, Nft.IFNAMSIZ).CopyTo(r);
        mac.AsSpan(0, 6).CopyTo(r.AsSpan(Nft.IFNAMSIZ));
        return r;
    }

    // ---------------------------------------------------------------- shared

    /// <summary>Deletes elements, one DELSETELEM message each, in batches; elements (or sets, or the
    /// table) that are already gone are dropped from the batch and the rest is sent again.</summary>
    /// <summary>An element of one set (a class, not a tuple: generic code over it is shared, which keeps
    /// the binary small).</summary>
    private sealed record SetElement(byte Family, string Set, NftElement Element);

    private void DeleteTolerant(byte family, List<(string Set, NftElement Element)> items, string op) =>
        DeleteTolerant(items.ConvertAll(i => new SetElement(family, i.Set, i.Element)), op);

    /// <summary>Deletes elements (of any family) in as few atomic batches as possible: one, unless some are
    /// already gone (then the batch is retried without them) or there are very many.</summary>
    private void DeleteTolerant(List<SetElement> items, string op)
    {
        for (int start = 0; start < items.Count; start += ChunkMessages)
        {
            List<SetElement> chunk = items.GetRange(start, Math.Min(ChunkMessages, items.Count - start));
            for (int attempt = 0; chunk.Count > 0; attempt++)
            {
                var batch = new NftBatch();
                foreach (SetElement e in chunk) batch.DelElements(e.Family, TableName, e.Set, [e.Element]);
                NetlinkAck[] acks = _sock.ExecuteBatch(batch.Finish(), op);
                if (acks.All(a => a.Ok)) break;
                int bad = Array.FindIndex(acks, a => !a.Ok && a.Errno != Errno.ENOENT);
                if (bad >= 0 || attempt >= MaxAttempts)
                {
                    NetlinkAck a = bad >= 0 ? acks[bad] : acks.First(x => !x.Ok);
                    var failed = chunk[bad >= 0 ? bad : Array.FindIndex(acks, x => !x.Ok)];
                    throw new NetlinkException($"{op} (set {FamilyName(failed.Family)} {TableName} {failed.Set})", a.Errno, a.KernelMessage);
                }
                var kept = new List<SetElement>(chunk.Count);
                for (int i = 0; i < chunk.Count; i++) if (acks[i].Ok) kept.Add(chunk[i]);
                chunk = kept;
            }
        }
    }

    /// <summary>Keys (and map data) of every element of a set; null when the set or table does not exist.</summary>
    private List<(byte[] Key, byte[]? Data)>? DumpElements(byte family, string set, string op)
    {
        var req = new NetlinkMessageBuilder();
        req.BeginMessage(Nft.Type(Nft.MSG_GETSETELEM), Nl.F_DUMP)
           .Struct(new NfGenMsg(family))
           .String(Nft.SET_ELEM_LIST_TABLE, TableName)
           .String(Nft.SET_ELEM_LIST_SET, set)
           .EndMessage();
        List<byte[]> msgs;
        try { msgs = _sock.Dump(req, $"{op} (listing set {FamilyName(family)} {TableName} {set})"); }
        catch (NetlinkException e) when (e.Errno == Errno.ENOENT) { return null; }
        var result = new List<(byte[], byte[]?)>();
        foreach (byte[] m in msgs) ParseElements(m, result);
        return result;
    }

    /// <summary>Whether one element is in a set; a missing set or table counts as missing.</summary>
    private bool HasElement(byte family, string set, byte[] key, string op) =>
        GetElement(family, set, key, $"{op} (reading set {FamilyName(family)} {TableName} {set})") is not null;

    /// <summary>The data of one map element, or null when it is missing.</summary>
    private byte[]? GetMapData(byte family, string set, byte[] key, string op)
    {
        byte[]? reply = GetElement(family, set, key, $"{op} (reading map {FamilyName(family)} {TableName} {set})");
        if (reply == null) return null;
        var elems = new List<(byte[] Key, byte[]? Data)>();
        ParseElements(reply, elems);
        return elems.Count > 0 ? elems[0].Data : null;
    }

    /// <summary>One element looked up by key (GETSETELEM without NLM_F_DUMP): the kernel's NEWSETELEM reply,
    /// or null when the element, set or table does not exist.</summary>
    private byte[]? GetElement(byte family, string set, byte[] key, string operation)
    {
        var req = new NetlinkMessageBuilder();
        req.BeginMessage(Nft.Type(Nft.MSG_GETSETELEM), 0)
           .Struct(new NfGenMsg(family))
           .String(Nft.SET_ELEM_LIST_TABLE, TableName)
           .String(Nft.SET_ELEM_LIST_SET, set)
           .BeginNested(Nft.SET_ELEM_LIST_ELEMENTS);
        NftBatch.WriteElement(req, new NftElement(key));
        req.EndNested().EndMessage();
        return _sock.Get(req, operation, Errno.ENOENT);
    }

    /// <summary>Parses a NEWSETELEM message (header included) into (key, data) pairs.</summary>
    internal static void ParseElements(ReadOnlySpan<byte> msg, List<(byte[] Key, byte[]? Data)> into)
    {
        if (msg.Length < Nl.HeaderSize + 4) return;
        var r = new AttributeReader(msg[(Nl.HeaderSize + 4)..]);
        while (r.Next(out ushort t, out ReadOnlySpan<byte> v))
        {
            if (t != Nft.SET_ELEM_LIST_ELEMENTS) continue;
            var list = new AttributeReader(v);
            while (list.Next(out ushort lt, out ReadOnlySpan<byte> elem))
            {
                if (lt != Nft.LIST_ELEM) continue;
                byte[]? key = null, data = null;
                uint flags = 0;
                var er = new AttributeReader(elem);
                while (er.Next(out ushort et, out ReadOnlySpan<byte> ev))
                {
                    if (et == Nft.SET_ELEM_KEY) key = DataValue(ev);
                    else if (et == Nft.SET_ELEM_DATA) data = DataValue(ev);
                    else if (et == Nft.SET_ELEM_FLAGS) flags = AttributeReader.U32Be(ev);
                }
                if (key != null && (flags & Nft.SET_ELEM_INTERVAL_END) == 0) into.Add((key, data));
            }
        }
    }

    private static byte[]? DataValue(ReadOnlySpan<byte> nested)
    {
        var r = new AttributeReader(nested);
        while (r.Next(out ushort t, out ReadOnlySpan<byte> v))
            if (t == Nft.DATA_VALUE) return v.ToArray();
        return null;
    }

    private static string FamilyName(byte family) => family == Nft.NFPROTO_BRIDGE ? "bridge" : "inet";

    private static bool IsV6(IPAddress a) => a.AddressFamily == AddressFamily.InterNetworkV6;

    private static string Join(IReadOnlyList<IPAddress> a) => a.Count == 0 ? "no addresses" : string.Join(", ", a);
}
