using System.Net;
using CniVeth.Netlink.NfTables;
using CniVeth.Values;
using static CniVeth.Firewall.FirewallLayout;

namespace CniVeth.Firewall;

/// <summary>
/// The firewall state of attachments (see FirewallLayout for the ruleset): each change is one atomic
/// nf_tables batch over NETLINK_NETFILTER, never an nft or iptables binary. ADD adds elements (and creates
/// the network's sets and rule whenever its rule is missing), DEL and GC remove elements; a network's sets
/// and rules stay. CHECK reads the rules, the table's flags and the base chains as well as the elements.
/// Missing tables, sets or elements are never errors when removing. Errors are NetlinkExceptions naming the
/// operation and object, e.g. <c>adding masquerade for 10.88.0.5 on network "demonet" (adding rule to chain
/// inet cniveth postrouting): EPERM (operation not permitted)</c>.
/// </summary>
internal sealed class AttachmentFirewall(NfTablesClient client) : IDisposable
{
    /// <summary>Opens a NETLINK_NETFILTER socket in the calling thread's network namespace.</summary>
    public static AttachmentFirewall Open() => new(NfTablesClient.Open());

    /// <summary>See NfTablesClient.Dispose: closing may wait for the kernel to free deleted elements.</summary>
    public void Dispose() => client.Dispose();

    /// <summary>
    /// ADD of one attachment: its masquerade addresses (when <paramref name="addresses"/> is not empty) and
    /// its spoof check (when <paramref name="hostIfName"/> and <paramref name="mac"/> are given). The
    /// steady state is one read of the table's rules and ONE atomic batch, so the kernel commits (and
    /// waits for RCU) once; a missing rule is re-created in that batch. <paramref name="subnets"/> are the
    /// destinations not masqueraded (the network's subnets and nonMasqueradeCIDRs).
    /// </summary>
    public void Add(string network, IReadOnlyList<CidrAddress> subnets, IReadOnlyList<IPAddress> addresses,
        string? hostIfName, string? mac)
    {
        var pieces = MasqueradePieces(network, subnets, addresses);
        if (hostIfName is not null && mac is not null) pieces.Add(SpoofPiece(hostIfName, mac));
        string op = hostIfName is null
            ? $"adding masquerade for {Join(addresses)} on network \"{network}\""
            : $"adding firewall state of port \"{hostIfName}\" on network \"{network}\"";
        RulesetWriter.Add(client, pieces, op);
    }

    /// <summary>Masquerades traffic from <paramref name="addresses"/> to destinations outside
    /// <paramref name="subnets"/> (multicast excluded). Idempotent.</summary>
    public void AddMasquerade(string network, IReadOnlyList<CidrAddress> subnets, IReadOnlyList<IPAddress> addresses) =>
        RulesetWriter.Add(client, MasqueradePieces(network, subnets, addresses),
            $"adding masquerade for {Join(addresses)} on network \"{network}\"");

    /// <summary>Only <paramref name="mac"/> may enter the bridge from host port <paramref name="hostIfName"/>;
    /// an older MAC of the same port is replaced. Idempotent.</summary>
    public void AddMacSpoofCheck(string hostIfName, string mac) =>
        RulesetWriter.Add(client, [SpoofPiece(hostIfName, mac)], $"adding MAC spoof check for {mac} on port \"{hostIfName}\"");

    /// <summary>DEL of one attachment: its masquerade addresses and its spoof-check entries (found by port
    /// name alone) in one atomic batch. Anything already gone is fine.</summary>
    public void Remove(string network, IReadOnlyList<IPAddress> addresses, string? hostIfName)
    {
        string op = hostIfName is null
            ? $"removing masquerade for {Join(addresses)} on network \"{network}\""
            : addresses.Count == 0
                ? $"removing MAC spoof check on port \"{hostIfName}\""
                : $"removing firewall state of port \"{hostIfName}\" ({Join(addresses)}) on network \"{network}\"";
        var items = new List<SetElement>();
        foreach (IPAddress a in addresses.Distinct())
            items.Add(new SetElement(Nft.NFPROTO_INET, AddrSetName(network, SubnetIntervals.IsV6(a)), new NftElement(a.GetAddressBytes())));
        if (hostIfName is not null) items.AddRange(SpoofElementsOf(hostIfName, op));
        client.DeleteElements(TableName, items, op);
    }

    /// <summary>A port's spoof-check elements: its map entry, its checked-set entry and the allowed pair
    /// of the MAC the map names (one element read).</summary>
    private List<SetElement> SpoofElementsOf(string hostIfName, string op)
    {
        byte[] name = IfName(hostIfName);
        var items = new List<SetElement>
        {
            new(Nft.NFPROTO_BRIDGE, PortsMap, new NftElement(name)),
            new(Nft.NFPROTO_BRIDGE, CheckedSet, new NftElement(name)),
        };
        byte[]? m = client.GetMapData(Nft.NFPROTO_BRIDGE, TableName, PortsMap, name, op);
        if (m is { Length: >= 6 }) items.Add(new SetElement(Nft.NFPROTO_BRIDGE, AllowedSet, new NftElement(PortMacKey(name, m))));
        return items;
    }

    /// <summary>Removes the addresses from the network's set. Missing elements, sets or table are fine.</summary>
    public void RemoveMasquerade(string network, IReadOnlyList<IPAddress> addresses) => Remove(network, addresses, hostIfName: null);

    /// <summary>Removes the port's entries knowing only its name. Missing is not an error.</summary>
    public void RemoveMacSpoofCheck(string hostIfName) => Remove("", [], hostIfName);

    /// <summary>CHECK: the addresses that are missing from the network's masquerade sets (one element
    /// lookup each, whatever the number of containers).</summary>
    public List<IPAddress> MissingMasquerade(string network, IReadOnlyList<IPAddress> addresses)
    {
        string op = $"checking masquerade on network \"{network}\"";
        var missing = new List<IPAddress>();
        foreach (IPAddress a in addresses.Distinct())
            if (!client.HasElement(Nft.NFPROTO_INET, TableName, AddrSetName(network, SubnetIntervals.IsV6(a)), a.GetAddressBytes(), op))
                missing.Add(a);
        return missing;
    }

    /// <summary>CHECK: the MAC the spoof check lets out of the port, or null when the port is not guarded
    /// (no map entry, no matching allowed pair, or not in the checked set that the rule reads; under the
    /// legacy rule, which reads the map, the checked set does not matter).</summary>
    public string? SpoofCheckMac(string hostIfName, bool legacyRule = false)
    {
        string op = $"checking MAC spoof check on port \"{hostIfName}\"";
        byte[] name = IfName(hostIfName);
        byte[]? mac = client.GetMapData(Nft.NFPROTO_BRIDGE, TableName, PortsMap, name, op);
        if (mac is not { Length: >= 6 } || !client.HasElement(Nft.NFPROTO_BRIDGE, TableName, AllowedSet, PortMacKey(name, mac), op)) return null;
        if (!legacyRule && !client.HasElement(Nft.NFPROTO_BRIDGE, TableName, CheckedSet, name, op)) return null;
        return MacAddress.Format(mac);
    }

    /// <summary>CHECK: the destinations of <paramref name="wanted"/> (one family each) that the network's
    /// not-masqueraded set does not cover (one dump of that small set per family).</summary>
    public List<CidrAddress> MissingNotMasqueraded(string network, IReadOnlyList<CidrAddress> wanted)
    {
        string op = $"checking masquerade on network \"{network}\"";
        var missing = new List<CidrAddress>();
        foreach (bool v6 in new[] { false, true })
        {
            List<AddressRange>? ranges = null;
            foreach (CidrAddress c in wanted)
            {
                if (c.IsIPv4 == v6) continue;
                ranges ??= SubnetRanges(network, v6, op);
                if (!SubnetIntervals.Covers(ranges, AddressRange.Of(c))) missing.Add(c.Subnet);
            }
        }
        return missing;
    }

    /// <summary>The ranges in the network's not-masqueraded set of one family (empty when it does not exist).</summary>
    private List<AddressRange> SubnetRanges(string network, bool v6, string op) =>
        SubnetIntervals.FromElements(client.DumpElementsWithFlags(Nft.NFPROTO_INET, TableName, SubnetSetName(network, v6), op) ?? []);

    /// <summary>
    /// CHECK: whether the ruleset pieces the attachment relies on are in place and active: the table exists
    /// and is not dormant, its base chain exists with its hook, and the rule is in the chain (the network's
    /// masquerade rule per family in <paramref name="masqueradeFamilies"/>, the spoof-check rule when
    /// <paramref name="spoof"/>). One table read, one chain read and one rule dump per table.
    /// </summary>
    public RulesetCheck CheckRuleset(string network, bool masqueradeV4, bool masqueradeV6, bool spoof)
    {
        string op = $"checking the firewall rules of network \"{network}\"";
        if (masqueradeV4 || masqueradeV6)
        {
            string? problem = CheckBaseChain(Nft.NFPROTO_INET, NatChain, Nft.NF_INET_POST_ROUTING, "nat", op);
            if (problem is not null) return new RulesetCheck(problem, false);
            NftRule[] rules = client.DumpRules(Nft.NFPROTO_INET, TableName, NatChain, op);
            foreach (bool v6 in new[] { false, true })
            {
                if (!(v6 ? masqueradeV6 : masqueradeV4)) continue;
                bool found = false;
                foreach (NftRule r in rules) found |= IsMasqueradeRule(r, network, v6);
                if (!found)
                    return new RulesetCheck($"the {(v6 ? "IPv6" : "IPv4")} masquerade rule of network \"{network}\" is missing from chain inet {TableName} {NatChain}", false);
            }
        }
        bool legacy = false;
        if (spoof)
        {
            string? problem = CheckBaseChain(Nft.NFPROTO_BRIDGE, SpoofChain, Nft.NF_BR_PRE_ROUTING, "filter", op);
            if (problem is not null) return new RulesetCheck(problem, false);
            bool current = false;
            foreach (NftRule r in client.DumpRules(Nft.NFPROTO_BRIDGE, TableName, SpoofChain, op))
            {
                current |= IsSpoofRule(r);
                legacy |= IsLegacySpoofRule(r);
            }
            legacy &= !current;
            if (!legacy && !current)
                return new RulesetCheck($"the MAC spoof check rule is missing from chain bridge {TableName} {SpoofChain}", false);
        }
        return new RulesetCheck(null, legacy);
    }

    private string? CheckBaseChain(byte family, string chain, uint hook, string type, string op)
    {
        string table = Nft.FamilyName(family) + " " + TableName;
        uint? flags = client.GetTableFlags(family, TableName, op);
        if (flags is null) return $"table {table} is missing";
        if ((flags.Value & Nft.TABLE_F_DORMANT) != 0) return $"table {table} is dormant (flags dormant): none of its rules run";
        NftChainInfo? c = client.GetChain(family, TableName, chain, op);
        if (c is null) return $"chain {table} {chain} is missing";
        if (c.Hook != hook || c.Type != type) return $"chain {table} {chain} is not the {type} base chain of hook {(family == Nft.NFPROTO_INET ? "postrouting" : "prerouting")}";
        return null;
    }

    /// <summary>Removes the entries of every port named like ours ("veth" + 8 hex digits) that no longer
    /// exists. The entries are read FIRST and the ports listed after (<paramref name="listPorts"/>): an ADD
    /// creates its veth before it adds the port's entries, so an entry read here belongs to a port that
    /// already existed, and a port created meanwhile is in the list. Listing the ports first would let an
    /// ADD that runs in between lose its spoof check.</summary>
    public void GcMacSpoofCheck(Func<IReadOnlySet<string>> listPorts)
    {
        const string op = "garbage-collecting MAC spoof checks";
        var ports = client.DumpElements(Nft.NFPROTO_BRIDGE, TableName, PortsMap, op) ?? [];
        var checkedPorts = client.DumpElements(Nft.NFPROTO_BRIDGE, TableName, CheckedSet, op) ?? [];
        var allowed = client.DumpElements(Nft.NFPROTO_BRIDGE, TableName, AllowedSet, op) ?? [];
        if (ports.Count == 0 && checkedPorts.Count == 0 && allowed.Count == 0) return;
        IReadOnlySet<string> keep = listPorts();
        var items = new List<SetElement>();
        foreach (var (key, _, _) in ports)
        {
            string port = Netlink.AttributeReader.String(key);
            if (IsOurPortName(port) && !keep.Contains(port)) items.Add(new SetElement(Nft.NFPROTO_BRIDGE, PortsMap, new NftElement(key)));
        }
        foreach (var (key, _, _) in checkedPorts)
        {
            string port = Netlink.AttributeReader.String(key);
            if (IsOurPortName(port) && !keep.Contains(port)) items.Add(new SetElement(Nft.NFPROTO_BRIDGE, CheckedSet, new NftElement(key)));
        }
        var seen = new HashSet<string>();
        foreach (var (key, _, _) in allowed)
        {
            if (key.Length < Nft.IFNAMSIZ) continue;
            string port = Netlink.AttributeReader.String(key.AsSpan(0, Nft.IFNAMSIZ));
            if (IsOurPortName(port) && !keep.Contains(port) && seen.Add(Convert.ToHexString(key)))
                items.Add(new SetElement(Nft.NFPROTO_BRIDGE, AllowedSet, new NftElement(key)));
        }
        client.DeleteElements(TableName, items, op);
    }

    /// <summary>GcMacSpoofCheck with a fixed list of ports to keep.</summary>
    public void GcMacSpoofCheck(IReadOnlySet<string> keepHostIfNames) => GcMacSpoofCheck(() => keepHostIfNames);

    /// <summary>Per family that has addresses or subnets: the address elements, and the not-masqueraded
    /// intervals (idempotent). An interval overlapping others already in the set (the config changed while
    /// containers exist) is merged with them: the wider ones replace those they contain, in the same batch.</summary>
    private List<RulesetPiece> MasqueradePieces(string network, IReadOnlyList<CidrAddress> subnets, IReadOnlyList<IPAddress> addresses)
    {
        var pieces = new List<RulesetPiece>();
        foreach (bool v6 in new[] { false, true })
        {
            var groups = new List<ElementGroup>();
            var mine = new List<NftElement>();
            foreach (IPAddress a in addresses)
                if (SubnetIntervals.IsV6(a) == v6) mine.Add(new NftElement(a.GetAddressBytes()));
            if (mine.Count > 0) groups.Add(new ElementGroup(Nft.NFPROTO_INET, AddrSetName(network, v6), mine.ToArray()));
            var family = new List<CidrAddress>();
            foreach (CidrAddress s in subnets) if (!s.IsIPv4 == v6) family.Add(s);
            var wanted = new List<AddressRange>();
            var intervals = new List<NftElement>();
            foreach (CidrAddress s in SubnetIntervals.Normalize(family))
            {
                wanted.Add(AddressRange.Of(s));
                intervals.AddRange(SubnetIntervals.Elements(s));
            }
            if (intervals.Count > 0)
            {
                string set = SubnetSetName(network, v6);
                groups.Add(new ElementGroup(Nft.NFPROTO_INET, set, intervals.ToArray())
                {
                    Resolve = () => MergeIntervals(set, wanted, $"merging the not-masqueraded destinations of network \"{network}\""),
                });
            }
            if (groups.Count == 0) continue;
            pieces.Add(new RulesetPiece
            {
                Family = Nft.NFPROTO_INET,
                Chain = NatChain,
                DeclareChain = DeclareNatChain,
                DeclareSets = b => DeclareMasqueradeSets(b, network, v6),
                DeclareRule = b => DeclareMasqueradeRule(b, network, v6),
                IsRule = r => IsMasqueradeRule(r, network, v6),
                Groups = groups,
            });
        }
        return pieces;
    }

    /// <summary>Reads an interval set and returns what makes it the union of its ranges and
    /// <paramref name="wanted"/> (see SubnetIntervals.MergeElements).</summary>
    private (List<SetElement>, NftElement[]) MergeIntervals(string set, List<AddressRange> wanted, string op)
    {
        var elements = client.DumpElementsWithFlags(Nft.NFPROTO_INET, TableName, set, op) ?? [];
        var (delete, add) = SubnetIntervals.MergeElements(elements, wanted);
        return (delete.ConvertAll(e => new SetElement(Nft.NFPROTO_INET, set, e)), add.ToArray());
    }

    /// <summary>The port's map entry, checked-set entry and allowed pair. A port name already checked for
    /// another MAC (a reused name) has its old entries deleted in the same batch.</summary>
    private RulesetPiece SpoofPiece(string hostIfName, string mac)
    {
        byte[] name = IfName(hostIfName), m = ParseMac(mac);
        return new RulesetPiece
        {
            Family = Nft.NFPROTO_BRIDGE,
            Chain = SpoofChain,
            DeclareChain = DeclareSpoofChain,
            DeclareSets = DeclareSpoofSets,
            DeclareRule = DeclareSpoofRule,
            IsRule = IsSpoofRule,
            IsLegacyRule = IsLegacySpoofRule,
            MigrateLegacy = MigrateLegacySpoofCheck,
            Groups =
            [
                new ElementGroup(Nft.NFPROTO_BRIDGE, PortsMap, [new NftElement(name, m)])
                {
                    Resolve = () => (OldSpoofEntries(hostIfName, name), [new NftElement(name, m)]),
                },
                new ElementGroup(Nft.NFPROTO_BRIDGE, AllowedSet, [new NftElement(PortMacKey(name, m))]),
                new ElementGroup(Nft.NFPROTO_BRIDGE, CheckedSet, [new NftElement(name)]),
            ],
        };
    }

    /// <summary>The map entry of a reused port name and the allowed pair of the MAC it names, as far as
    /// they exist (its checked-set entry has the same key as ours and stays).</summary>
    private List<SetElement> OldSpoofEntries(string hostIfName, byte[] name)
    {
        string op = $"replacing the MAC spoof check of port \"{hostIfName}\"";
        var old = new List<SetElement>();
        byte[]? m = client.GetMapData(Nft.NFPROTO_BRIDGE, TableName, PortsMap, name, op);
        if (m is null) return old;
        old.Add(new SetElement(Nft.NFPROTO_BRIDGE, PortsMap, new NftElement(name)));
        if (m.Length >= 6 && client.HasElement(Nft.NFPROTO_BRIDGE, TableName, AllowedSet, PortMacKey(name, m), op))
            old.Add(new SetElement(Nft.NFPROTO_BRIDGE, AllowedSet, new NftElement(PortMacKey(name, m))));
        return old;
    }

    /// <summary>In the batch that replaces the legacy rule (which guarded every port of the map): puts every
    /// port of the map into the checked set, so the new rule guards the same ports from the same commit on.</summary>
    private void MigrateLegacySpoofCheck(NftBatch batch)
    {
        var ports = client.DumpElements(Nft.NFPROTO_BRIDGE, TableName, PortsMap, "replacing the MAC spoof check rule of an earlier release") ?? [];
        if (ports.Count == 0) return;
        var names = new NftElement[ports.Count];
        for (int i = 0; i < ports.Count; i++) names[i] = new NftElement(ports[i].Key);
        batch.AddElements(Nft.NFPROTO_BRIDGE, TableName, CheckedSet, names);
    }

    private static string Join(IReadOnlyList<IPAddress> a) => a.Count == 0 ? "no addresses" : string.Join(", ", a);
}

/// <summary>What CHECK found about the rules: the first problem (null when none), and whether the spoof
/// check still runs on the legacy rule (then the checked set does not matter yet).</summary>
internal sealed record RulesetCheck(string? Problem, bool LegacySpoofRule);
