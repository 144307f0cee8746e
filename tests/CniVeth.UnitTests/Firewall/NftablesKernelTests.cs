using System.Net;
using CniVeth.Cni;
using CniVeth.Firewall;
using CniVeth.Netlink;
using CniVeth.Netlink.NfTables;
using CniVeth.Values;
using CniVeth.UnitTests.Support;

namespace CniVeth.UnitTests.Firewall;

/// <summary>
/// NftFirewall against the real kernel, each test in its own network namespace (see <see cref="Netns"/>);
/// the result is read back with `nft -j list ruleset` in that namespace. Skipped (returns) unless root.
/// </summary>
public class NftablesKernelTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly CidrAddress[] Subnets =
        [new(IPAddress.Parse("10.88.0.0"), 16), new(IPAddress.Parse("fd00:88::"), 64)];

    private static IPAddress Ip(string s) => IPAddress.Parse(s);

    [RootFact]
    public void MasqueradeAddTwiceThenRemove()
    {
        Netns.Run(ns =>
        {
            using var fw = AttachmentFirewall.Open();
            fw.AddMasquerade("demonet", Subnets, [Ip("10.88.0.5"), Ip("fd00:88::5")]);
            fw.AddMasquerade("demonet", Subnets, [Ip("10.88.0.6")]);
            fw.AddMasquerade("demonet", Subnets, [Ip("10.88.0.6")]); // idempotent

            var rs = ns.Ruleset();
            Assert.True(rs.HasTable("inet", "cniveth"));
            var chain = rs.Chain("inet", "cniveth", "postrouting")!.Value;
            Assert.Equal("nat", chain.GetProperty("type").GetString());
            Assert.Equal("postrouting", chain.GetProperty("hook").GetString());
            Assert.Equal(100, chain.GetProperty("prio").GetInt32());
            Assert.Equal(2, rs.Rules("inet", "cniveth", "postrouting").Count); // one per family
            string s4 = FirewallLayout.AddrSetName("demonet", false), s6 = FirewallLayout.AddrSetName("demonet", true);
            Assert.Equal(["10.88.0.5", "10.88.0.6"], rs.Elements("inet", "cniveth", s4));
            Assert.Equal(["fd00:88::5"], rs.Elements("inet", "cniveth", s6));
            Assert.Equal(["10.88.0.0/16"], rs.Elements("inet", "cniveth", FirewallLayout.SubnetSetName("demonet", false)));
            Assert.Equal(["fd00:88::/64"], rs.Elements("inet", "cniveth", FirewallLayout.SubnetSetName("demonet", true)));

            // the rule reads back as intended
            string listing = ns.Sh("nft list chain inet cniveth postrouting");
            Assert.Contains($"ip saddr @{s4} ip daddr != @{FirewallLayout.SubnetSetName("demonet", false)} ip daddr != 224.0.0.0/4 masquerade", listing);
            Assert.Contains($"ip6 saddr @{s6} ip6 daddr != @{FirewallLayout.SubnetSetName("demonet", true)} ip6 daddr != ff00::/8 masquerade", listing);
            Assert.Contains("masquerade comment \"ipMasq network demonet\"", listing);

            fw.RemoveMasquerade("demonet", [Ip("10.88.0.5"), Ip("fd00:88::5")]);
            rs = ns.Ruleset();
            Assert.Equal(["10.88.0.6"], rs.Elements("inet", "cniveth", s4));
            Assert.Equal([], rs.Elements("inet", "cniveth", s6));
            Assert.Equal(2, rs.Rules("inet", "cniveth", "postrouting").Count); // rules stay

            // unknown elements, unknown network, repeated removal: no error
            fw.RemoveMasquerade("demonet", [Ip("10.88.0.5"), Ip("10.88.0.99"), Ip("10.88.0.6")]);
            fw.RemoveMasquerade("othernet", [Ip("10.99.0.1"), Ip("fd00::1")]);
            Assert.Equal([], ns.Ruleset().Elements("inet", "cniveth", s4));
        });
    }

    [RootFact]
    public void MasqueradeRemoveWithoutTableIsNoError()
    {
        Netns.Run(ns =>
        {
            using var fw = AttachmentFirewall.Open();
            fw.RemoveMasquerade("demonet", [Ip("10.88.0.5")]);
            fw.RemoveMacSpoofCheck("veth0123abcd");
            fw.GcMacSpoofCheck(new HashSet<string>());
            Assert.False(ns.Ruleset().HasTable("inet", "cniveth"));
        });
    }

    [RootFact]
    public void MasqueradeTwoNetworksAndRemoval()
    {
        Netns.Run(ns =>
        {
            using var fw = AttachmentFirewall.Open();
            string longNet = "a-very-long-network-name." + new string('x', 80);
            fw.AddMasquerade("demonet", Subnets, [Ip("10.88.0.5"), Ip("10.88.0.6"), Ip("10.88.0.7"), Ip("fd00:88::5")]);
            fw.AddMasquerade(longNet, [new(Ip("10.99.0.0"), 24)], [Ip("10.99.0.2")]);
            var rs = ns.Ruleset();
            Assert.Equal(3, rs.Rules("inet", "cniveth", "postrouting").Count);
            Assert.Equal(["10.99.0.2"], rs.Elements("inet", "cniveth", FirewallLayout.AddrSetName(longNet, false)));
            var set = rs.Set("inet", "cniveth", FirewallLayout.AddrSetName(longNet, false))!.Value;
            Assert.Contains(longNet[..40], set.GetProperty("comment").GetString());

            fw.RemoveMasquerade("demonet", [Ip("10.88.0.5"), Ip("10.88.0.7"), Ip("fd00:88::5")]);
            rs = ns.Ruleset();
            Assert.Equal(["10.88.0.6"], rs.Elements("inet", "cniveth", FirewallLayout.AddrSetName("demonet", false)));
            Assert.Equal([], rs.Elements("inet", "cniveth", FirewallLayout.AddrSetName("demonet", true)));
            Assert.Equal(["10.99.0.2"], rs.Elements("inet", "cniveth", FirewallLayout.AddrSetName(longNet, false))); // other network untouched
        });
    }

    [RootFact]
    public void MasqueradeSubnetChangesAreTolerated()
    {
        Netns.Run(ns =>
        {
            using var fw = AttachmentFirewall.Open();
            fw.AddMasquerade("demonet", [new(Ip("10.88.0.0"), 16)], [Ip("10.88.0.5")]);
            // overlapping (contained) subnet and a new disjoint one
            fw.AddMasquerade("demonet", [new(Ip("10.88.1.0"), 24), new(Ip("10.77.0.0"), 16)], [Ip("10.88.1.5"), Ip("10.77.0.5")]);
            var rs = ns.Ruleset();
            Assert.Equal(["10.77.0.0/16", "10.88.0.0/16"], rs.Elements("inet", "cniveth", FirewallLayout.SubnetSetName("demonet", false)));
            Assert.Equal(["10.77.0.5", "10.88.0.5", "10.88.1.5"], rs.Elements("inet", "cniveth", FirewallLayout.AddrSetName("demonet", false)));
            Assert.Single(rs.Rules("inet", "cniveth", "postrouting"));
        });
    }

    [RootFact]
    public void MasqueradeRecreatesWhatAnAdminDeleted()
    {
        Netns.Run(ns =>
        {
            using var fw = AttachmentFirewall.Open();
            fw.AddMasquerade("demonet", Subnets, [Ip("10.88.0.5")]);
            ns.Sh("nft delete table inet cniveth");
            fw.AddMasquerade("demonet", Subnets, [Ip("10.88.0.6")]);
            var rs = ns.Ruleset();
            Assert.Equal(2, rs.Rules("inet", "cniveth", "postrouting").Count);
            Assert.Equal(["10.88.0.6"], rs.Elements("inet", "cniveth", FirewallLayout.AddrSetName("demonet", false)));
        });
    }

    [RootFact]
    public void ConcurrentFirstAddsCreateOneRulePerFamily()
    {
        Netns.Run(ns =>
        {
            const int N = 8;
            var errors = new List<Exception>();
            using var go = new ManualResetEventSlim();
            // Threads started from the namespace thread inherit its network namespace; each has its own socket.
            var threads = Enumerable.Range(0, N).Select(i => new Thread(() =>
            {
                try
                {
                    using var fw = AttachmentFirewall.Open();
                    go.Wait();
                    fw.AddMasquerade("racenet", Subnets, [Ip($"10.88.1.{i + 1}"), Ip($"fd00:88::{i + 1:x}")]);
                    fw.AddMacSpoofCheck($"veth0000000{i}", $"02:00:00:00:00:0{i}");
                }
                catch (Exception e) { lock (errors) errors.Add(e); }
            })).ToList();
            threads.ForEach(t => t.Start());
            go.Set();
            threads.ForEach(t => t.Join());
            Assert.Empty(errors);
            var rs = ns.Ruleset();
            Assert.Equal(2, rs.Rules("inet", "cniveth", "postrouting").Count);
            Assert.Equal(N, rs.Elements("inet", "cniveth", FirewallLayout.AddrSetName("racenet", false))!.Count);
            Assert.Equal(N, rs.Elements("inet", "cniveth", FirewallLayout.AddrSetName("racenet", true))!.Count);
            Assert.Single(rs.Rules("bridge", "cniveth", "prerouting"));
            Assert.Equal(N, rs.Elements("bridge", "cniveth", FirewallLayout.PortsMap)!.Count);
        });
    }

    [RootFact]
    public void MacSpoofCheckAddRemoveReplaceGc()
    {
        Netns.Run(ns =>
        {
            using var fw = AttachmentFirewall.Open();
            fw.AddMacSpoofCheck("veth0123abcd", "02:00:00:00:00:01");
            fw.AddMacSpoofCheck("veth0123abcd", "02:00:00:00:00:01"); // idempotent
            fw.AddMacSpoofCheck("veth89abcdef", "02:00:00:00:00:02");
            fw.AddMacSpoofCheck("othernic", "02:00:00:00:00:03");    // not named like ours: GC leaves it

            var rs = ns.Ruleset();
            var chain = rs.Chain("bridge", "cniveth", "prerouting")!.Value;
            Assert.Equal("filter", chain.GetProperty("type").GetString());
            Assert.Equal(-300, chain.GetProperty("prio").GetInt32());
            Assert.Single(rs.Rules("bridge", "cniveth", "prerouting"));
            Assert.Equal(["othernic : 02:00:00:00:00:03", "veth0123abcd : 02:00:00:00:00:01", "veth89abcdef : 02:00:00:00:00:02"],
                rs.Elements("bridge", "cniveth", FirewallLayout.PortsMap));
            Assert.Equal(["othernic . 02:00:00:00:00:03", "veth0123abcd . 02:00:00:00:00:01", "veth89abcdef . 02:00:00:00:00:02"],
                rs.Elements("bridge", "cniveth", FirewallLayout.AllowedSet));
            Assert.Equal(["othernic", "veth0123abcd", "veth89abcdef"], rs.Elements("bridge", "cniveth", FirewallLayout.CheckedSet));
            Assert.Contains("iifname @spoofchk-checked iifname . ether saddr != @spoofchk-allowed drop",
                ns.Sh("nft list chain bridge cniveth prerouting"));

            // same port, new MAC: replaced
            fw.AddMacSpoofCheck("veth0123abcd", "02:00:00:00:00:11");
            rs = ns.Ruleset();
            Assert.Contains("veth0123abcd : 02:00:00:00:00:11", rs.Elements("bridge", "cniveth", FirewallLayout.PortsMap)!);
            Assert.DoesNotContain("veth0123abcd . 02:00:00:00:00:01", rs.Elements("bridge", "cniveth", FirewallLayout.AllowedSet)!);

            fw.RemoveMacSpoofCheck("veth0123abcd");
            fw.RemoveMacSpoofCheck("veth0123abcd");
            fw.RemoveMacSpoofCheck("vethffffffff");
            rs = ns.Ruleset();
            Assert.Equal(["othernic : 02:00:00:00:00:03", "veth89abcdef : 02:00:00:00:00:02"], rs.Elements("bridge", "cniveth", FirewallLayout.PortsMap));
            Assert.Equal(["othernic . 02:00:00:00:00:03", "veth89abcdef . 02:00:00:00:00:02"], rs.Elements("bridge", "cniveth", FirewallLayout.AllowedSet));
            Assert.Equal(["othernic", "veth89abcdef"], rs.Elements("bridge", "cniveth", FirewallLayout.CheckedSet));

            fw.AddMacSpoofCheck("veth00000001", "02:00:00:00:00:04");
            fw.GcMacSpoofCheck(new HashSet<string> { "veth00000001" });
            rs = ns.Ruleset();
            Assert.Equal(["othernic : 02:00:00:00:00:03", "veth00000001 : 02:00:00:00:00:04"], rs.Elements("bridge", "cniveth", FirewallLayout.PortsMap));
            Assert.Equal(["othernic . 02:00:00:00:00:03", "veth00000001 . 02:00:00:00:00:04"], rs.Elements("bridge", "cniveth", FirewallLayout.AllowedSet));
            Assert.Equal(["othernic", "veth00000001"], rs.Elements("bridge", "cniveth", FirewallLayout.CheckedSet));
        });
    }

    /// <summary>An ADD after the masquerade rules were flushed from their chain, after the chain itself was
    /// deleted, and after the spoof-check rule was flushed, puts each back (once).</summary>
    [RootFact]
    public void AddRecreatesFlushedRulesAndDeletedChains()
    {
        Netns.Run(ns =>
        {
            using var fw = AttachmentFirewall.Open();
            fw.Add("demonet", Subnets, [Ip("10.88.0.5"), Ip("fd00:88::5")], "veth0123abcd", "02:00:00:00:00:01");
            ns.Sh("nft flush chain inet cniveth postrouting && nft flush chain bridge cniveth prerouting");
            Assert.Empty(ns.Ruleset().Rules("inet", "cniveth", "postrouting"));

            fw.Add("demonet", Subnets, [Ip("10.88.0.6"), Ip("fd00:88::6")], "veth0123abce", "02:00:00:00:00:02");
            var rs = ns.Ruleset();
            Assert.Equal(2, rs.Rules("inet", "cniveth", "postrouting").Count);
            Assert.Single(rs.Rules("bridge", "cniveth", "prerouting"));
            Assert.Equal(["10.88.0.5", "10.88.0.6"], rs.Elements("inet", "cniveth", FirewallLayout.AddrSetName("demonet", false)));

            ns.Sh("nft flush chain inet cniveth postrouting && nft delete chain inet cniveth postrouting");
            fw.AddMasquerade("demonet", [new(Ip("10.88.0.0"), 16)], [Ip("10.88.0.7")]);
            rs = ns.Ruleset();
            Assert.Equal("nat", rs.Chain("inet", "cniveth", "postrouting")!.Value.GetProperty("type").GetString());
            // the IPv4 rule is back; the IPv6 one comes back with the next IPv6 address
            Assert.Contains($"ip saddr @{FirewallLayout.AddrSetName("demonet", false)}", ns.Sh("nft list chain inet cniveth postrouting"));
            Assert.Single(rs.Rules("inet", "cniveth", "postrouting"));
            fw.AddMasquerade("demonet", Subnets, [Ip("fd00:88::7")]);
            Assert.Equal(2, ns.Ruleset().Rules("inet", "cniveth", "postrouting").Count);

            // another rule in our chain that reads our sets but does something else is not ours
            ns.Sh($"nft flush chain inet cniveth postrouting && nft add rule inet cniveth postrouting 'ip saddr @{FirewallLayout.AddrSetName("demonet", false)} ip daddr != @{FirewallLayout.SubnetSetName("demonet", false)} accept comment \"ipMasq network demonet\"'");
            fw.AddMasquerade("demonet", Subnets, [Ip("10.88.0.8")]);
            Assert.Contains("masquerade", ns.Sh("nft list chain inet cniveth postrouting"));
        });
    }

    /// <summary>Eight ADDs repairing a flushed chain at once: each adds the rule, then keeps the oldest copy
    /// and deletes the others, so exactly one per family remains.</summary>
    [RootFact]
    public void ConcurrentRepairsLeaveOneRule()
    {
        Netns.Run(ns =>
        {
            using (var fw = AttachmentFirewall.Open()) fw.AddMasquerade("racenet", Subnets, [Ip("10.88.1.1"), Ip("fd00:88::1")]);
            ns.Sh("nft flush chain inet cniveth postrouting");
            const int N = 8;
            var errors = new List<Exception>();
            using var go = new ManualResetEventSlim();
            var threads = Enumerable.Range(0, N).Select(i => new Thread(() =>
            {
                try
                {
                    using var fw = AttachmentFirewall.Open();
                    go.Wait();
                    fw.AddMasquerade("racenet", Subnets, [Ip($"10.88.2.{i + 1}"), Ip($"fd00:88::2:{i + 1:x}")]);
                }
                catch (Exception e) { lock (errors) errors.Add(e); }
            })).ToList();
            threads.ForEach(t => t.Start());
            go.Set();
            threads.ForEach(t => t.Join());
            Assert.Empty(errors);
            var rs = ns.Ruleset();
            Assert.Equal(2, rs.Rules("inet", "cniveth", "postrouting").Count);
            Assert.Equal(N + 1, rs.Elements("inet", "cniveth", FirewallLayout.AddrSetName("racenet", false))!.Count);
        });
    }

    /// <summary>nonMasqueradeCIDRs added while containers exist: the set holds the /24 of earlier ADDs, the
    /// new config adds a /16 that contains it. The kernel refuses the overlapping interval (EEXIST); ADD
    /// then deletes the /24 and adds the /16 in one batch. A narrower or equal prefix later changes nothing.</summary>
    [RootFact]
    public void WiderNotMasqueradedPrefixReplacesTheOnesItContains()
    {
        Netns.Run(ns =>
        {
            using var fw = AttachmentFirewall.Open();
            string set4 = FirewallLayout.SubnetSetName("k8s", false);
            fw.AddMasquerade("k8s", [new(Ip("10.244.1.0"), 24)], [Ip("10.244.1.2")]);
            fw.AddMasquerade("k8s", [new(Ip("10.244.1.0"), 24), new(Ip("192.168.9.0"), 24)], [Ip("10.244.1.3")]);
            Assert.Equal(["10.244.1.0/24", "192.168.9.0/24"], ns.Ruleset().Elements("inet", "cniveth", set4));

            fw.AddMasquerade("k8s", [new(Ip("10.244.1.0"), 24), new(Ip("10.244.0.0"), 16), new(Ip("192.168.0.0"), 16)], [Ip("10.244.1.4")]);
            var rs = ns.Ruleset();
            Assert.Equal(["10.244.0.0/16", "192.168.0.0/16"], rs.Elements("inet", "cniveth", set4));
            Assert.Equal(["10.244.1.2", "10.244.1.3", "10.244.1.4"], rs.Elements("inet", "cniveth", FirewallLayout.AddrSetName("k8s", false)));
            Assert.Single(rs.Rules("inet", "cniveth", "postrouting"));

            fw.AddMasquerade("k8s", [new(Ip("10.244.1.0"), 24)], [Ip("10.244.1.5")]);
            Assert.Equal(["10.244.0.0/16", "192.168.0.0/16"], ns.Ruleset().Elements("inet", "cniveth", set4));
            Assert.Empty(fw.MissingNotMasqueraded("k8s", [new(Ip("10.244.0.0"), 16), new(Ip("10.244.1.0"), 24)]));
            Assert.Equal([new CidrAddress(Ip("10.245.0.0"), 16)], fw.MissingNotMasqueraded("k8s", [new(Ip("10.244.0.0"), 16), new(Ip("10.245.0.0"), 16)]));
        });
    }

    /// <summary>The kernel accepts 192.168.88.0/24 beside 192.168.88.128/25 without EEXIST (their ends are
    /// equal, so it takes the new end for a duplicate and inserts the start alone). The set then covers the
    /// /24, CHECK agrees, and a later /16 still replaces everything in one batch.</summary>
    [RootFact]
    public void SharedEndPrefixIsCoveredAndStillWidens()
    {
        Netns.Run(ns =>
        {
            using var fw = AttachmentFirewall.Open();
            string set4 = FirewallLayout.SubnetSetName("k8s", false);
            fw.AddMasquerade("k8s", [new(Ip("192.168.88.128"), 25)], [Ip("192.168.88.130")]);
            fw.AddMasquerade("k8s", [new(Ip("192.168.88.128"), 25), new(Ip("192.168.88.0"), 24)], [Ip("192.168.88.131")]);
            Assert.Empty(fw.MissingNotMasqueraded("k8s", [new(Ip("192.168.88.0"), 24)]));
            fw.AddMasquerade("k8s", [new(Ip("192.168.0.0"), 16)], [Ip("192.168.88.132")]);
            Assert.Equal(["192.168.0.0/16"], ns.Ruleset().Elements("inet", "cniveth", set4));
        });
    }

    /// <summary>Concurrent ADDs each widening the set differently: the union of all ends up in it.</summary>
    [RootFact]
    public void ConcurrentMergesEndInTheUnion()
    {
        Netns.Run(ns =>
        {
            using (var fw0 = AttachmentFirewall.Open())
                fw0.AddMasquerade("k8s", [new(Ip("10.244.1.0"), 24), new(Ip("10.50.1.0"), 24), new(Ip("10.60.1.0"), 24)], [Ip("10.244.1.2")]);
            var wanted = new[] { "10.244.0.0/16", "10.50.0.0/16", "10.60.0.0/16", "10.244.0.0/12", "10.70.0.0/16", "10.50.0.0/20" };
            var errors = new List<Exception>();
            using var go = new ManualResetEventSlim();
            var threads = wanted.Select((w, i) => new Thread(() =>
            {
                try
                {
                    using var fw = AttachmentFirewall.Open();
                    go.Wait();
                    fw.AddMasquerade("k8s", [new(Ip("10.244.1.0"), 24), new(Ip(w.Split('/')[0]), int.Parse(w.Split('/')[1]))], [Ip($"10.244.1.{i + 10}")]);
                }
                catch (Exception e) { lock (errors) errors.Add(e); }
            })).ToList();
            threads.ForEach(t => t.Start());
            go.Set();
            threads.ForEach(t => t.Join());
            Assert.Empty(errors);
            Assert.Equal(["10.240.0.0/12", "10.50.0.0/16", "10.60.0.0/16", "10.70.0.0/16"],
                ns.Ruleset().Elements("inet", "cniveth", FirewallLayout.SubnetSetName("k8s", false))!.Order(StringComparer.Ordinal));
        });
    }

    /// <summary>CHECK's view of the rules: fine after ADD; then a dormant table, a flushed chain, a deleted
    /// base chain, a chain of the wrong kind and a missing spoof-check rule are each reported.</summary>
    [RootFact]
    public void CheckRulesetReportsDamage()
    {
        Netns.Run(ns =>
        {
            using var fw = AttachmentFirewall.Open();
            fw.Add("demonet", Subnets, [Ip("10.88.0.5"), Ip("fd00:88::5")], "veth0123abcd", "02:00:00:00:00:01");
            Assert.Equal(new RulesetCheck(null, false), fw.CheckRuleset("demonet", true, true, spoof: true));
            Assert.Equal("the IPv4 masquerade rule of network \"othernet\" is missing from chain inet cniveth postrouting",
                fw.CheckRuleset("othernet", true, false, spoof: false).Problem);

            ns.Sh("nft add table inet cniveth '{ flags dormant; }'");
            Assert.Equal("table inet cniveth is dormant (flags dormant): none of its rules run", fw.CheckRuleset("demonet", true, false, false).Problem);
            Assert.Null(fw.CheckRuleset("demonet", false, false, spoof: true).Problem); // the bridge table is fine
            ns.Sh("nft add table inet cniveth");                                // nft sends flags 0: active again
            Assert.Null(fw.CheckRuleset("demonet", true, false, false).Problem);

            ns.Sh("nft flush chain inet cniveth postrouting");
            Assert.Equal("the IPv4 masquerade rule of network \"demonet\" is missing from chain inet cniveth postrouting",
                fw.CheckRuleset("demonet", true, true, false).Problem);
            ns.Sh("nft delete chain inet cniveth postrouting");
            Assert.Equal("chain inet cniveth postrouting is missing", fw.CheckRuleset("demonet", true, false, false).Problem);
            ns.Sh("nft add chain inet cniveth postrouting");                    // a regular chain of that name
            Assert.Equal("chain inet cniveth postrouting is not the nat base chain of hook postrouting", fw.CheckRuleset("demonet", true, false, false).Problem);
            ns.Sh("nft delete table inet cniveth");
            Assert.Equal("table inet cniveth is missing", fw.CheckRuleset("demonet", false, true, false).Problem);

            Assert.Equal("02:00:00:00:00:01", fw.SpoofCheckMac("veth0123abcd"));
            ns.Sh("nft flush chain bridge cniveth prerouting");
            Assert.Equal("the MAC spoof check rule is missing from chain bridge cniveth prerouting", fw.CheckRuleset("demonet", false, false, true).Problem);
            ns.Sh("nft delete element bridge cniveth spoofchk-checked '{ \"veth0123abcd\" }'");
            Assert.Null(fw.SpoofCheckMac("veth0123abcd"));                      // not in the set the rule reads
        });
    }

    /// <summary>A ruleset of the previous release (its spoof-check rule looks the port up in the map) keeps
    /// working and CHECK accepts it; the next ADD replaces the rule in one batch, and every port the old
    /// rule guarded is in the checked set from that commit on.</summary>
    [RootFact]
    public void LegacySpoofRuleIsReplacedByTheNextAdd()
    {
        Netns.Run(ns =>
        {
            using var client = CniVeth.Netlink.NfTables.NfTablesClient.Open();
            var old = new CniVeth.Netlink.NfTables.NftBatch();
            FirewallLayout.DeclareSpoofChain(old);
            old.AddSet(Nft.NFPROTO_BRIDGE, "cniveth", FirewallLayout.PortsMap, Nft.SET_F_MAP, Nft.TYPE_IFNAME, Nft.IFNAMSIZ,
                Nft.TYPE_ETHERADDR, 6, "macspoofchk: host port -> container MAC", keyByteOrder: Nft.BYTEORDER_HOST, dataByteOrder: Nft.BYTEORDER_BIG);
            old.AddSet(Nft.NFPROTO_BRIDGE, "cniveth", FirewallLayout.AllowedSet, 0, (Nft.TYPE_IFNAME << 6) | Nft.TYPE_ETHERADDR, Nft.IFNAMSIZ + 8);
            old.AddRule(Nft.NFPROTO_BRIDGE, "cniveth", "prerouting", FirewallLayout.LegacySpoofRule, "macspoofchk");
            byte[] a = FirewallLayout.IfName("veth0000000a"), mac = FirewallLayout.ParseMac("02:00:00:00:00:0a");
            old.AddElements(Nft.NFPROTO_BRIDGE, "cniveth", FirewallLayout.PortsMap, [new(a, mac)]);
            old.AddElements(Nft.NFPROTO_BRIDGE, "cniveth", FirewallLayout.AllowedSet, [new(FirewallLayout.PortMacKey(a, mac))]);
            Assert.True(client.Send(old, "building the old ruleset"));
            Assert.Contains("iifname @spoofchk-ports", ns.Sh("nft list chain bridge cniveth prerouting"));

            using var fw = AttachmentFirewall.Open();
            Assert.Equal(new RulesetCheck(null, true), fw.CheckRuleset("n", false, false, spoof: true));
            Assert.Equal("02:00:00:00:00:0a", fw.SpoofCheckMac("veth0000000a", legacyRule: true));

            fw.AddMacSpoofCheck("veth0000000b", "02:00:00:00:00:0b");
            var rs = ns.Ruleset();
            var rule = Assert.Single(rs.Rules("bridge", "cniveth", "prerouting"));
            Assert.Contains("iifname @spoofchk-checked iifname . ether saddr != @spoofchk-allowed drop", ns.Sh("nft list chain bridge cniveth prerouting"));
            Assert.Equal(["veth0000000a", "veth0000000b"], rs.Elements("bridge", "cniveth", FirewallLayout.CheckedSet));
            Assert.Equal(new RulesetCheck(null, false), fw.CheckRuleset("n", false, false, spoof: true));
            Assert.Equal("02:00:00:00:00:0a", fw.SpoofCheckMac("veth0000000a"));
            fw.RemoveMacSpoofCheck("veth0000000a");
            Assert.Equal(["veth0000000b"], ns.Ruleset().Elements("bridge", "cniveth", FirewallLayout.CheckedSet));
        });
    }

    /// <summary>GC reads the spoof-check entries before it lists the ports. An ADD that runs while GC lists
    /// the ports (its veth created just after the listing, its entries added right after that) keeps its
    /// entries; listing first and reading after would have deleted them. A port that is gone loses its.</summary>
    [RootFact]
    public void GcReadsEntriesBeforeListingPorts()
    {
        Netns.Run(ns =>
        {
            using var fw = AttachmentFirewall.Open();
            fw.AddMacSpoofCheck("veth0000000a", "02:00:00:00:00:0a");   // its port is gone
            fw.GcMacSpoofCheck(() =>
            {
                var ports = new HashSet<string> { "eth0" };             // listed before the ADD's veth exists
                using var other = AttachmentFirewall.Open();
                other.AddMacSpoofCheck("veth0000000b", "02:00:00:00:00:0b");
                return ports;
            });
            var rs = ns.Ruleset();
            Assert.Equal(["veth0000000b : 02:00:00:00:00:0b"], rs.Elements("bridge", "cniveth", FirewallLayout.PortsMap));
            Assert.Equal(["veth0000000b"], rs.Elements("bridge", "cniveth", FirewallLayout.CheckedSet));
            Assert.Equal(["veth0000000b . 02:00:00:00:00:0b"], rs.Elements("bridge", "cniveth", FirewallLayout.AllowedSet));
        });
    }

    [RootFact]
    public void ErrorsNameOperationAndObject()
    {
        Netns.Run(ns =>
        {
            using var fw = AttachmentFirewall.Open();
            // A chain of another type under our name makes our NEWCHAIN fail.
            ns.Sh("nft add table inet cniveth && nft add chain inet cniveth postrouting '{ type filter hook input priority 0; }'");
            var e = Assert.Throws<NetlinkException>(() => fw.AddMasquerade("demonet", Subnets, [Ip("10.88.0.5")]));
            Assert.StartsWith("adding masquerade for 10.88.0.5 on network \"demonet\" (chain inet cniveth postrouting): ", e.Message);
        });
    }

    /// <summary>
    /// Real traffic. In the test namespace ("host"): bridge br0 10.88.0.1/24 with port vh0 whose peer is eth0
    /// (10.88.0.2, MAC 02:00:00:00:00:02) in a "container" namespace, and vo0 192.0.2.1/24 whose peer is in an
    /// "outside" namespace (192.0.2.2) that has no route back to 10.88.0.0/24: the container reaches it only
    /// when its traffic is masqueraded. The extra namespaces belong to two `sleep` processes started (and
    /// killed) here.
    /// </summary>
    [RootFact]
    public void TrafficMasqueradeAndSpoofCheck()
    {
        Netns.Run(ns =>
        {
            var sleepers = new List<System.Diagnostics.Process>();
            try
            {
                foreach (string _ in new[] { "ctr", "out" })
                {
                    var p = System.Diagnostics.Process.Start("unshare", "--net sleep 120")!;
                    sleepers.Add(p);
                }
                int ctr = sleepers[0].Id, outside = sleepers[1].Id;
                // wait until both have unshared (their netns differs from this thread's)
                string ours = new FileInfo(ns.NsPath).LinkTarget!;
                for (int i = 0; i < 250 && (Ns(ctr) == ours || Ns(outside) == ours || Ns(ctr) == "" || Ns(outside) == ""); i++)
                    Thread.Sleep(20);
                Assert.NotEqual(ours, Ns(ctr));
                Assert.NotEqual(ours, Ns(outside));
                string inCtr = $"nsenter --net=/proc/{ctr}/ns/net", inOut = $"nsenter --net=/proc/{outside}/ns/net";
                ns.Sh($"""
                    set -e
                    sysctl -qw net.ipv4.ip_forward=1
                    ip link set lo up
                    ip link add br0 type bridge && ip addr add 10.88.0.1/24 dev br0 && ip link set br0 up
                    ip link add vh0 type veth peer name eth0 netns {ctr}
                    ip link set vh0 master br0 && ip link set vh0 up
                    {inCtr} ip link set eth0 address 02:00:00:00:00:02
                    {inCtr} ip addr add 10.88.0.2/24 dev eth0
                    {inCtr} ip link set eth0 up
                    {inCtr} ip route add default via 10.88.0.1
                    ip link add vo0 type veth peer name eth0 netns {outside}
                    ip addr add 192.0.2.1/24 dev vo0 && ip link set vo0 up
                    {inOut} ip addr add 192.0.2.2/24 dev eth0
                    {inOut} ip link set eth0 up
                    """);
                string ping(string dst) => $"{inCtr} ping -n -c1 -W1 {dst} >/dev/null 2>&1 && echo ok || echo fail";
                Assert.Equal("ok", ns.Sh(ping("10.88.0.1")).Trim());
                Assert.Equal("fail", ns.Sh(ping("192.0.2.2")).Trim()); // no route back: needs SNAT

                using var fw = AttachmentFirewall.Open();
                fw.AddMasquerade("demonet", [new(Ip("10.88.0.0"), 24)], [Ip("10.88.0.2")]);
                Assert.Equal("ok", ns.Sh(ping("192.0.2.2")).Trim());
                Assert.Equal("ok", ns.Sh(ping("10.88.0.1")).Trim());
                fw.RemoveMasquerade("demonet", [Ip("10.88.0.2")]);
                ns.Sh("conntrack -F >/dev/null 2>&1 || true");
                Assert.Equal("fail", ns.Sh(ping("192.0.2.2")).Trim());

                fw.AddMacSpoofCheck("vh0", "02:00:00:00:00:02");
                Assert.Equal("ok", ns.Sh(ping("10.88.0.1")).Trim());
                ns.Sh($"{inCtr} ip link set eth0 address 02:00:00:00:00:99 && ip neigh flush dev br0");
                Assert.Equal("fail", ns.Sh(ping("10.88.0.1")).Trim()); // spoofed source MAC dropped
                fw.RemoveMacSpoofCheck("vh0");
                Assert.Equal("ok", ns.Sh(ping("10.88.0.1")).Trim());
            }
            finally
            {
                foreach (var p in sleepers)
                {
                    try { p.Kill(); p.WaitForExit(); } catch (InvalidOperationException) { }
                    p.Dispose();
                }
            }
        });
    }

    [RootFact]
    public void WithoutNetAdminErrorsAreEpermNamingTheOperation()
    {
        Netns.Run(ns =>
        {
            Netns.DropEffectiveCapability(12); // CAP_NET_ADMIN, this thread only
            using var fw = AttachmentFirewall.Open();
            var e = Assert.Throws<NetlinkException>(() => fw.AddMasquerade("demonet", Subnets, [Ip("10.88.0.5")]));
            Assert.Equal("adding masquerade for 10.88.0.5 on network \"demonet\" (listing the rules of table inet cniveth): EPERM (operation not permitted)", e.Message);
            e = Assert.Throws<NetlinkException>(() => fw.AddMacSpoofCheck("veth0123abcd", "02:00:00:00:00:01"));
            Assert.Equal("adding MAC spoof check for 02:00:00:00:00:01 on port \"veth0123abcd\" (listing the rules of table bridge cniveth): EPERM (operation not permitted)", e.Message);
            e = Assert.Throws<NetlinkException>(() => fw.RemoveMasquerade("demonet", [Ip("10.88.0.5")]));
            Assert.Equal(Errno.EPERM, e.Errno);
        });
    }

    /// <summary>Hundreds of elements: one ADD message, deletions split over several batches.</summary>
    [RootFact]
    public void RemovingHundredsOfElementsSplitsTheBatches()
    {
        Netns.Run(ns =>
        {
            using var fw = AttachmentFirewall.Open();
            var ips = Enumerable.Range(0, 700).Select(i => Ip($"10.88.{i / 250}.{i % 250 + 1}")).ToList();
            fw.AddMasquerade("bignet", Subnets, ips);
            Assert.Equal(700, ns.Ruleset().Elements("inet", "cniveth", FirewallLayout.AddrSetName("bignet", false))!.Count);
            fw.RemoveMasquerade("bignet", ips.Where((_, i) => i != 3 && i != 699).ToList());
            Assert.Equal([ips[3].ToString(), ips[699].ToString()],
                ns.Ruleset().Elements("inet", "cniveth", FirewallLayout.AddrSetName("bignet", false)));
        });
    }

    /// <summary>The full ruleset as nft shows it (printed for the README), and nft can load it back.</summary>
    [RootFact]
    public void ListingIsReadableAndReloadable()
    {
        Netns.Run(ns =>
        {
            using var fw = AttachmentFirewall.Open();
            fw.AddMasquerade("demonet", Subnets, [Ip("10.88.0.5"), Ip("10.88.0.6"), Ip("fd00:88::5")]);
            fw.AddMacSpoofCheck("veth0123abcd", "02:00:00:00:00:01");
            string listing = ns.Sh("nft list ruleset");
            output.WriteLine(listing);
            Assert.Contains("comment \"managed by the cniveth CNI plugin\"", listing);
            Assert.Contains("elements = { \"veth0123abcd\" : 02:00:00:00:00:01 }", listing);
            Assert.Contains("elements = { 10.88.0.0/16 }", listing);
            // a saved ruleset loads back (flush first: same names)
            ns.Sh("nft list ruleset > /tmp/cniveth-nft-test-$$.nft && nft flush ruleset && nft -f /tmp/cniveth-nft-test-$$.nft; rc=$?; rm -f /tmp/cniveth-nft-test-$$.nft; exit $rc");
            Assert.Equal(listing, ns.Sh("nft list ruleset"));
        });
    }

    private static string Ns(int pid)
    {
        try { return new FileInfo($"/proc/{pid}/ns/net").LinkTarget ?? ""; }
        catch (IOException) { return ""; }
    }
}
