using System.Net;
using CniVeth.Netlink.NfTables;
using CniVeth.Values;
using static CniVeth.Firewall.FirewallLayout;

namespace CniVeth.Firewall;

/// <summary>
/// The firewall state of attachments (see FirewallLayout for the ruleset): each change is one atomic
/// nf_tables batch over NETLINK_NETFILTER, never an nft or iptables binary. ADD adds elements (creating the
/// network's sets and rule on first use), DEL and GC remove elements; a network's sets and rules stay.
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
    /// its spoof check (when <paramref name="hostIfName"/> and <paramref name="mac"/> are given), in ONE
    /// atomic batch in the steady state, so the kernel commits (and waits for RCU) once.
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

    /// <summary>Masquerades traffic from <paramref name="addresses"/> leaving the network's
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
        if (hostIfName is not null)
        {
            byte[] name = IfName(hostIfName);
            items.Add(new SetElement(Nft.NFPROTO_BRIDGE, PortsMap, new NftElement(name)));
            byte[]? m = client.GetMapData(Nft.NFPROTO_BRIDGE, TableName, PortsMap, name, op);
            if (m is { Length: >= 6 }) items.Add(new SetElement(Nft.NFPROTO_BRIDGE, AllowedSet, new NftElement(PortMacKey(name, m))));
        }
        client.DeleteElements(TableName, items, op);
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
    /// (no map entry, or no matching allowed pair).</summary>
    public string? SpoofCheckMac(string hostIfName)
    {
        string op = $"checking MAC spoof check on port \"{hostIfName}\"";
        byte[] name = IfName(hostIfName);
        byte[]? mac = client.GetMapData(Nft.NFPROTO_BRIDGE, TableName, PortsMap, name, op);
        if (mac is not { Length: >= 6 } || !client.HasElement(Nft.NFPROTO_BRIDGE, TableName, AllowedSet, PortMacKey(name, mac), op)) return null;
        return MacAddress.Format(mac);
    }

    /// <summary>Removes the entries of every port named like ours ("veth" + 8 hex digits) that is not in
    /// <paramref name="keepHostIfNames"/>.</summary>
    public void GcMacSpoofCheck(IReadOnlySet<string> keepHostIfNames)
    {
        const string op = "garbage-collecting MAC spoof checks";
        var items = new List<SetElement>();
        var seen = new HashSet<string>();
        foreach (var (key, _) in client.DumpElements(Nft.NFPROTO_BRIDGE, TableName, PortsMap, op) ?? [])
        {
            string port = Netlink.AttributeReader.String(key);
            if (IsOurPortName(port) && !keepHostIfNames.Contains(port)) items.Add(new SetElement(Nft.NFPROTO_BRIDGE, PortsMap, new NftElement(key)));
        }
        foreach (var (key, _) in client.DumpElements(Nft.NFPROTO_BRIDGE, TableName, AllowedSet, op) ?? [])
        {
            if (key.Length < Nft.IFNAMSIZ) continue;
            string port = Netlink.AttributeReader.String(key.AsSpan(0, Nft.IFNAMSIZ));
            if (IsOurPortName(port) && !keepHostIfNames.Contains(port) && seen.Add(Convert.ToHexString(key)))
                items.Add(new SetElement(Nft.NFPROTO_BRIDGE, AllowedSet, new NftElement(key)));
        }
        client.DeleteElements(TableName, items, op);
    }

    /// <summary>Per family that has addresses or subnets: the address elements, and the (idempotent)
    /// subnet intervals; a subnet overlapping a different one already in the set keeps that one (the
    /// network's subnets changed while containers exist).</summary>
    private static List<RulesetPiece> MasqueradePieces(string network, IReadOnlyList<CidrAddress> subnets, IReadOnlyList<IPAddress> addresses)
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
            foreach (CidrAddress s in SubnetIntervals.Normalize(family))
                groups.Add(new ElementGroup(Nft.NFPROTO_INET, SubnetSetName(network, v6), SubnetIntervals.Elements(s), OnConflict.KeepExisting));
            if (groups.Count == 0) continue;
            pieces.Add(new RulesetPiece
            {
                Family = Nft.NFPROTO_INET,
                DeclareChain = DeclareNatChain,
                DeclareSets = (b, exclusive) => DeclareMasqueradeSets(b, network, v6, exclusive),
                DeclareRule = b => DeclareMasqueradeRule(b, network, v6),
                Groups = groups,
            });
        }
        return pieces;
    }

    /// <summary>The port's map entry and allowed pair; a port name already checked for another MAC (a reused
    /// name) has its old entries removed first.</summary>
    private RulesetPiece SpoofPiece(string hostIfName, string mac)
    {
        byte[] name = IfName(hostIfName), m = ParseMac(mac);
        return new RulesetPiece
        {
            Family = Nft.NFPROTO_BRIDGE,
            DeclareChain = DeclareSpoofChain,
            DeclareSets = DeclareSpoofSets,
            DeclareRule = DeclareSpoofRule,
            Groups =
            [
                new ElementGroup(Nft.NFPROTO_BRIDGE, PortsMap, [new NftElement(name, m)], OnConflict.Replace)
                {
                    Replace = () => RemoveMacSpoofCheck(hostIfName),
                },
                new ElementGroup(Nft.NFPROTO_BRIDGE, AllowedSet, [new NftElement(PortMacKey(name, m))]),
            ],
        };
    }

    private static string Join(IReadOnlyList<IPAddress> a) => a.Count == 0 ? "no addresses" : string.Join(", ", a);
}
