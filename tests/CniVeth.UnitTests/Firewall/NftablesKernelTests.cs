using System.Net;
using CniVeth.Cni;
using CniVeth.Firewall;
using CniVeth.Netlink;

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

    [Fact]
    public void MasqueradeAddTwiceThenRemove()
    {
        if (!Netns.IsRoot) return;
        Netns.Run(ns =>
        {
            using var fw = NftFirewall.Open();
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
            string s4 = NftFirewall.AddrSetName("demonet", false), s6 = NftFirewall.AddrSetName("demonet", true);
            Assert.Equal(["10.88.0.5", "10.88.0.6"], rs.Elements("inet", "cniveth", s4));
            Assert.Equal(["fd00:88::5"], rs.Elements("inet", "cniveth", s6));
            Assert.Equal(["10.88.0.0/16"], rs.Elements("inet", "cniveth", NftFirewall.SubnetSetName("demonet", false)));
            Assert.Equal(["fd00:88::/64"], rs.Elements("inet", "cniveth", NftFirewall.SubnetSetName("demonet", true)));

            // the rule reads back as intended
            string listing = ns.Sh("nft list chain inet cniveth postrouting");
            Assert.Contains($"ip saddr @{s4} ip daddr != @{NftFirewall.SubnetSetName("demonet", false)} ip daddr != 224.0.0.0/4 masquerade", listing);
            Assert.Contains($"ip6 saddr @{s6} ip6 daddr != @{NftFirewall.SubnetSetName("demonet", true)} ip6 daddr != ff00::/8 masquerade", listing);
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

    [Fact]
    public void MasqueradeRemoveWithoutTableIsNoError()
    {
        if (!Netns.IsRoot) return;
        Netns.Run(ns =>
        {
            using var fw = NftFirewall.Open();
            fw.RemoveMasquerade("demonet", [Ip("10.88.0.5")]);
            fw.GcMasquerade("demonet", new HashSet<IPAddress>());
            fw.RemoveMacSpoofCheck("veth0123abcd");
            fw.GcMacSpoofCheck(new HashSet<string>());
            Assert.False(ns.Ruleset().HasTable("inet", "cniveth"));
        });
    }

    [Fact]
    public void MasqueradeTwoNetworksAndGc()
    {
        if (!Netns.IsRoot) return;
        Netns.Run(ns =>
        {
            using var fw = NftFirewall.Open();
            string longNet = "a-very-long-network-name." + new string('x', 80);
            fw.AddMasquerade("demonet", Subnets, [Ip("10.88.0.5"), Ip("10.88.0.6"), Ip("10.88.0.7"), Ip("fd00:88::5")]);
            fw.AddMasquerade(longNet, [new(Ip("10.99.0.0"), 24)], [Ip("10.99.0.2")]);
            var rs = ns.Ruleset();
            Assert.Equal(3, rs.Rules("inet", "cniveth", "postrouting").Count);
            Assert.Equal(["10.99.0.2"], rs.Elements("inet", "cniveth", NftFirewall.AddrSetName(longNet, false)));
            var set = rs.Set("inet", "cniveth", NftFirewall.AddrSetName(longNet, false))!.Value;
            Assert.Contains(longNet[..40], set.GetProperty("comment").GetString());

            fw.GcMasquerade("demonet", new HashSet<IPAddress> { Ip("10.88.0.6"), Ip("10.99.0.2") });
            rs = ns.Ruleset();
            Assert.Equal(["10.88.0.6"], rs.Elements("inet", "cniveth", NftFirewall.AddrSetName("demonet", false)));
            Assert.Equal([], rs.Elements("inet", "cniveth", NftFirewall.AddrSetName("demonet", true)));
            Assert.Equal(["10.99.0.2"], rs.Elements("inet", "cniveth", NftFirewall.AddrSetName(longNet, false))); // other network untouched
        });
    }

    [Fact]
    public void MasqueradeSubnetChangesAreTolerated()
    {
        if (!Netns.IsRoot) return;
        Netns.Run(ns =>
        {
            using var fw = NftFirewall.Open();
            fw.AddMasquerade("demonet", [new(Ip("10.88.0.0"), 16)], [Ip("10.88.0.5")]);
            // overlapping (contained) subnet and a new disjoint one
            fw.AddMasquerade("demonet", [new(Ip("10.88.1.0"), 24), new(Ip("10.77.0.0"), 16)], [Ip("10.88.1.5"), Ip("10.77.0.5")]);
            var rs = ns.Ruleset();
            Assert.Equal(["10.77.0.0/16", "10.88.0.0/16"], rs.Elements("inet", "cniveth", NftFirewall.SubnetSetName("demonet", false)));
            Assert.Equal(["10.77.0.5", "10.88.0.5", "10.88.1.5"], rs.Elements("inet", "cniveth", NftFirewall.AddrSetName("demonet", false)));
            Assert.Single(rs.Rules("inet", "cniveth", "postrouting"));
        });
    }

    [Fact]
    public void MasqueradeRecreatesWhatAnAdminDeleted()
    {
        if (!Netns.IsRoot) return;
        Netns.Run(ns =>
        {
            using var fw = NftFirewall.Open();
            fw.AddMasquerade("demonet", Subnets, [Ip("10.88.0.5")]);
            ns.Sh("nft delete table inet cniveth");
            fw.AddMasquerade("demonet", Subnets, [Ip("10.88.0.6")]);
            var rs = ns.Ruleset();
            Assert.Equal(2, rs.Rules("inet", "cniveth", "postrouting").Count);
            Assert.Equal(["10.88.0.6"], rs.Elements("inet", "cniveth", NftFirewall.AddrSetName("demonet", false)));
        });
    }

    [Fact]
    public void ConcurrentFirstAddsCreateOneRulePerFamily()
    {
        if (!Netns.IsRoot) return;
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
                    using var fw = NftFirewall.Open();
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
            Assert.Equal(N, rs.Elements("inet", "cniveth", NftFirewall.AddrSetName("racenet", false))!.Count);
            Assert.Equal(N, rs.Elements("inet", "cniveth", NftFirewall.AddrSetName("racenet", true))!.Count);
            Assert.Single(rs.Rules("bridge", "cniveth", "prerouting"));
            Assert.Equal(N, rs.Elements("bridge", "cniveth", NftFirewall.PortsMap)!.Count);
        });
    }

    [Fact]
    public void MacSpoofCheckAddRemoveReplaceGc()
    {
        if (!Netns.IsRoot) return;
        Netns.Run(ns =>
        {
            using var fw = NftFirewall.Open();
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
                rs.Elements("bridge", "cniveth", NftFirewall.PortsMap));
            Assert.Equal(["othernic . 02:00:00:00:00:03", "veth0123abcd . 02:00:00:00:00:01", "veth89abcdef . 02:00:00:00:00:02"],
                rs.Elements("bridge", "cniveth", NftFirewall.AllowedSet));
            Assert.Equal(["othernic", "veth0123abcd", "veth89abcdef"], rs.Elements("bridge", "cniveth", NftFirewall.CheckedSet));
            Assert.Contains("iifname @spoofchk-checked iifname . ether saddr != @spoofchk-allowed drop",
                ns.Sh("nft list chain bridge cniveth prerouting"));

            // same port, new MAC: replaced
            fw.AddMacSpoofCheck("veth0123abcd", "02:00:00:00:00:11");
            rs = ns.Ruleset();
            Assert.Contains("veth0123abcd : 02:00:00:00:00:11", rs.Elements("bridge", "cniveth", NftFirewall.PortsMap)!);
            Assert.DoesNotContain("veth0123abcd . 02:00:00:00:00:01", rs.Elements("bridge", "cniveth", NftFirewall.AllowedSet)!);

            fw.RemoveMacSpoofCheck("veth0123abcd");
            fw.RemoveMacSpoofCheck("veth0123abcd");
            fw.RemoveMacSpoofCheck("vethffffffff");
            rs = ns.Ruleset();
            Assert.Equal(["othernic : 02:00:00:00:00:03", "veth89abcdef : 02:00:00:00:00:02"], rs.Elements("bridge", "cniveth", NftFirewall.PortsMap));
            Assert.Equal(["othernic . 02:00:00:00:00:03", "veth89abcdef . 02:00:00:00:00:02"], rs.Elements("bridge", "cniveth", NftFirewall.AllowedSet));
            Assert.Equal(["othernic", "veth89abcdef"], rs.Elements("bridge", "cniveth", NftFirewall.CheckedSet));

            fw.AddMacSpoofCheck("veth00000001", "02:00:00:00:00:04");
            fw.GcMacSpoofCheck(new HashSet<string> { "veth00000001" });
            rs = ns.Ruleset();
            Assert.Equal(["othernic : 02:00:00:00:00:03", "veth00000001 : 02:00:00:00:00:04"], rs.Elements("bridge", "cniveth", NftFirewall.PortsMap));
            Assert.Equal(["othernic . 02:00:00:00:00:03", "veth00000001 . 02:00:00:00:00:04"], rs.Elements("bridge", "cniveth", NftFirewall.AllowedSet));
            Assert.Equal(["othernic", "veth00000001"], rs.Elements("bridge", "cniveth", NftFirewall.CheckedSet));
        });
    }

    [Fact]
    public void ErrorsNameOperationAndObject()
    {
        if (!Netns.IsRoot) return;
        Netns.Run(ns =>
        {
            using var fw = NftFirewall.Open();
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
    [Fact]
    public void TrafficMasqueradeAndSpoofCheck()
    {
        if (!Netns.IsRoot) return;
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

                using var fw = NftFirewall.Open();
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

    [Fact]
    public void WithoutNetAdminErrorsAreEpermNamingTheOperation()
    {
        if (!Netns.IsRoot) return;
        Netns.Run(ns =>
        {
            Netns.DropEffectiveCapability(12); // CAP_NET_ADMIN, this thread only
            using var fw = NftFirewall.Open();
            var e = Assert.Throws<NetlinkException>(() => fw.AddMasquerade("demonet", Subnets, [Ip("10.88.0.5")]));
            Assert.Equal("adding masquerade for 10.88.0.5 on network \"demonet\": EPERM (operation not permitted)", e.Message);
            e = Assert.Throws<NetlinkException>(() => fw.AddMacSpoofCheck("veth0123abcd", "02:00:00:00:00:01"));
            Assert.Equal("adding MAC spoof check for 02:00:00:00:00:01 on port \"veth0123abcd\": EPERM (operation not permitted)", e.Message);
            e = Assert.Throws<NetlinkException>(() => fw.RemoveMasquerade("demonet", [Ip("10.88.0.5")]));
            Assert.Equal(Errno.EPERM, e.Errno);
        });
    }

    /// <summary>Hundreds of elements: one ADD message, GC deletions split over several batches.</summary>
    [Fact]
    public void GcManyElements()
    {
        if (!Netns.IsRoot) return;
        Netns.Run(ns =>
        {
            using var fw = NftFirewall.Open();
            var ips = Enumerable.Range(0, 700).Select(i => Ip($"10.88.{i / 250}.{i % 250 + 1}")).ToList();
            fw.AddMasquerade("bignet", Subnets, ips);
            Assert.Equal(700, ns.Ruleset().Elements("inet", "cniveth", NftFirewall.AddrSetName("bignet", false))!.Count);
            fw.GcMasquerade("bignet", new HashSet<IPAddress> { ips[3], ips[699] });
            Assert.Equal([ips[3].ToString(), ips[699].ToString()],
                ns.Ruleset().Elements("inet", "cniveth", NftFirewall.AddrSetName("bignet", false)));
        });
    }

    /// <summary>The full ruleset as nft shows it (printed for the README), and nft can load it back.</summary>
    [Fact]
    public void ListingIsReadableAndReloadable()
    {
        if (!Netns.IsRoot) return;
        Netns.Run(ns =>
        {
            using var fw = NftFirewall.Open();
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
