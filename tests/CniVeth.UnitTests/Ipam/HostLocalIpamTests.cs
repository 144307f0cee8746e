using System.Net;
using CniVeth.Cni;
using CniVeth.Values;

namespace CniVeth.UnitTests.Ipam;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class HostLocalIpamTests : IDisposable
{
    private readonly IpamFixture _f = new();
    public void Dispose() => _f.Dispose();

    private string DualStack => _f.Conf("""
        "ranges":[[{"subnet":"10.1.2.0/24"},{"subnet":"10.2.2.0/24"}],[{"subnet":"2001:db8:1::/64"}]],
        "routes":[{"dst":"0.0.0.0/0"},{"dst":"::/0"}]
        """);

    private Result Add(string conf, string id = "c1", string ifName = "eth0", string? ip = null) =>
        _f.Ipam.Add(IpamFixture.Request(conf, id, ifName, ip));

    [Fact]
    public void AddReturnsOneAddressPerSetWithSubnetPrefixGatewayAndRoutes()
    {
        var r = Add(DualStack);
        Assert.Equal(["10.1.2.2/24", "2001:db8:1::2/64"], r.Ips.Select(i => i.Address.ToString()));
        Assert.Equal(["10.1.2.1", "2001:db8:1::1"], r.Ips.Select(i => i.Gateway!.ToString()));
        Assert.All(r.Ips, i => Assert.Null(i.Interface));
        Assert.Equal(2, r.Routes.Count);
        Assert.Equal("c1\r\neth0", _f.ReadReservation("10.1.2.2"));
        Assert.Equal("c1\r\neth0", _f.ReadReservation("2001:db8:1::2"));
        Assert.Equal("10.1.2.2", File.ReadAllText(Path.Combine(_f.NetDir, "last_reserved_ip.0")));
        Assert.Equal("2001:db8:1::2", File.ReadAllText(Path.Combine(_f.NetDir, "last_reserved_ip.1")));
    }

    [Fact]
    public void FilesAre0600AndDirectories0755()
    {
        Add(DualStack);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_f.NetDir, "10.1.2.2")));
        Assert.Equal((UnixFileMode)0x1ED, File.GetUnixFileMode(_f.NetDir));
    }

    [Fact]
    public void ResolvConfBecomesDns()
    {
        string resolv = Path.Combine(_f.DataDir, "resolv.conf");
        File.WriteAllText(resolv, "nameserver 10.0.0.53\nsearch example\n");
        var r = Add(_f.Conf($$"""
            "subnet":"10.1.2.0/24","resolvConf":"{{resolv}}"
            """));
        Assert.Equal(["10.0.0.53"], r.Dns!.Nameservers!);
    }

    [Fact]
    public void RoundRobinDoesNotReuseAReleasedAddressImmediately()
    {
        string conf = _f.SimpleConf();
        Add(conf, "a");
        Add(conf, "b");
        _f.Ipam.Del(IpamFixture.Request(conf, "a"));
        Assert.Equal("10.1.2.4", Add(conf, "c").Ips[0].Address.Address.ToString());
    }

    [Fact]
    public void SecondAddOfSameAttachmentIsRejectedAnotherIdGetsNext()
    {
        string conf = _f.SimpleConf();
        Add(conf);
        var e = Assert.Throws<CniException>(() => Add(conf));
        Assert.Contains("10.1.2.2 has been allocated to c1, duplicate allocation is not allowed", e.Message);
        Assert.Equal("10.1.2.3", Add(conf, "c2").Ips[0].Address.Address.ToString());
        Assert.Equal("10.1.2.4", Add(conf, "c1", "eth1").Ips[0].Address.Address.ToString());
    }

    [Fact]
    public void ExhaustionNamesTheRangeThenReleaseAllowsReuse()
    {
        string conf = _f.SimpleConf("10.1.2.0/29");
        for (int i = 0; i < 5; i++) Add(conf, $"c{i}");
        var e = Assert.Throws<CniException>(() => Add(conf, "late"));
        Assert.Equal("failed to allocate for range 0: no IP addresses available in range set: 10.1.2.1-10.1.2.6", e.Message);
        Assert.Equal(["10.1.2.4"], _f.Ipam.Del(IpamFixture.Request(conf, "c2")).Select(a => a.ToString()));
        Assert.Equal("10.1.2.4", Add(conf, "late").Ips[0].Address.Address.ToString());
    }

    [Fact]
    public void FailureInALaterSetReleasesEarlierSets()
    {
        string conf = _f.Conf("""
            "ranges":[[{"subnet":"10.1.2.0/24"}],[{"subnet":"10.9.0.0/30"}]]
            """);
        Add(conf, "x"); // takes 10.9.0.2, the only address of the /30 besides its gateway
        var e = Assert.Throws<CniException>(() => Add(conf, "y"));
        Assert.StartsWith("failed to allocate for range 1: no IP addresses available", e.Message);
        Assert.Equal(["10.1.2.2", "10.9.0.2"], _f.ReservationNames());
        Assert.Empty(_f.Ipam.Del(IpamFixture.Request(conf, "y")));
    }

    [Fact]
    public void RequestedAddressIsReservedAndTakenOneExplainsWhy()
    {
        string conf = _f.SimpleConf();
        Assert.Equal("10.1.2.77", Add(conf, "a", ip: "10.1.2.77").Ips[0].Address.Address.ToString());
        var e = Assert.Throws<CniException>(() => Add(conf, "b", ip: "10.1.2.77"));
        Assert.Contains("requested IP address 10.1.2.77 is not available in range set 10.1.2.1-10.1.2.254", e.Message);
        Assert.Contains("container a interface eth0", e.Message);
    }

    [Fact]
    public void DelReturnsReleasedAddressesAndIsIdempotent()
    {
        Add(DualStack);
        var released = _f.Ipam.Del(IpamFixture.Request(DualStack));
        Assert.Equal(["10.1.2.2", "2001:db8:1::2"], released.Select(a => a.ToString()).Order());
        Assert.Empty(_f.ReservationNames());
        Assert.Empty(_f.Ipam.Del(IpamFixture.Request(DualStack)));
    }

    [Fact]
    public void DelWorksWithoutRangesAndWithoutStore()
    {
        string noRanges = _f.Conf("\"routes\":[]");
        Assert.Empty(_f.Ipam.Del(IpamFixture.Request(noRanges)));
        Add(_f.SimpleConf());
        Assert.Single(_f.Ipam.Del(IpamFixture.Request(noRanges)));
    }

    [Fact]
    public void DelReleasesLegacyIdOnlyFilesOnlyWhenNothingElseMatched()
    {
        Add(_f.SimpleConf());
        File.WriteAllText(Path.Combine(_f.NetDir, "10.1.2.50"), "  c1 \n");
        Assert.Equal(["10.1.2.2"], _f.Ipam.Del(IpamFixture.Request(_f.SimpleConf())).Select(a => a.ToString()));
        Assert.Equal(["10.1.2.50"], _f.Ipam.Del(IpamFixture.Request(_f.SimpleConf())).Select(a => a.ToString()));
    }

    [Fact]
    public void CheckFindsTheReservationAndComparesPrevResult()
    {
        var result = Add(DualStack);
        _f.Ipam.Check(IpamFixture.Request(DualStack));
        _f.Ipam.Check(IpamFixture.Request(DualStack, prevResult: result));

        var wrong = new Result();
        wrong.Ips.Add(new ResultIp { Address = new CidrAddress(IPAddress.Parse("10.1.2.9"), 24) });
        wrong.Ips.Add(result.Ips[1]);
        Assert.Throws<CniException>(() => _f.Ipam.Check(IpamFixture.Request(DualStack, prevResult: wrong)));

        var missing = new Result();
        missing.Ips.Add(result.Ips[0]);
        Assert.Throws<CniException>(() => _f.Ipam.Check(IpamFixture.Request(DualStack, prevResult: missing)));

        Assert.Throws<CniException>(() => _f.Ipam.Check(IpamFixture.Request(DualStack, "other")));
    }

    [Fact]
    public void ReservationsFromBeforeTheBootAreReleasedOnceAfterAReboot()
    {
        string conf = _f.SimpleConf();
        Add(conf, "old");                                                    // 10.1.2.2, written in boot-1
        File.WriteAllText(Path.Combine(_f.NetDir, "10.1.2.40"), "ref\r\neth0"); // the reference's, boot-1
        Add(conf, "old2");                                                   // 10.1.2.3; its rebuild sees 10.1.2.40 in boot-1
        Assert.Equal(["10.1.2.2", "10.1.2.3", "10.1.2.40"], _f.ReservationNames());

        _f.BootId = "boot-2";
        // the reference plugin runs first after the reboot: its file of this boot must survive
        File.WriteAllText(Path.Combine(_f.NetDir, "10.1.2.50"), "live\r\neth0");
        Add(conf, "new");
        Assert.Equal(["10.1.2.4", "10.1.2.50"], _f.ReservationNames());
        Assert.Empty(_f.Ipam.Del(IpamFixture.Request(conf, "old")));
        Assert.Contains(_f.Notes, n => n.Contains("released 3 reservation(s) made before the current boot"));
    }

    [Fact]
    public void GcReleasesEverythingNotValidKeepsLegacyOfValidIds()
    {
        string conf = _f.SimpleConf();
        Add(conf, "keep");
        Add(conf, "drop");
        Add(conf, "keep", "eth1");
        File.WriteAllText(Path.Combine(_f.NetDir, "10.1.2.100"), "keep");
        File.WriteAllText(Path.Combine(_f.NetDir, "10.1.2.101"), "");
        var valid = new ValidAttachments();
        valid.Add("keep", "eth0");
        var released = _f.Ipam.Gc(IpamFixture.Request(conf), valid);
        Assert.Equal(["10.1.2.101", "10.1.2.3", "10.1.2.4"], released.Select(r => r.Address.ToString()).Order());
        Assert.Contains(released, r => r is { ContainerId: "drop", IfName: "eth0" });
        Assert.Equal(["10.1.2.100", "10.1.2.2"], _f.ReservationNames());
        Assert.Empty(_f.Ipam.Del(IpamFixture.Request(conf, "drop")));
    }

    [Fact]
    public void StatusFailsWith50WhenARangeSetIsFull()
    {
        string conf = _f.SimpleConf("10.1.2.0/29");
        _f.Ipam.Status(IpamFixture.Request(conf));
        for (int i = 0; i < 5; i++) Add(conf, $"c{i}");
        var e = Assert.Throws<CniException>(() => _f.Ipam.Status(IpamFixture.Request(conf)));
        Assert.Equal(50, e.Code);
        Assert.Contains("10.1.2.1-10.1.2.6", e.Message);
    }

    [Fact]
    public void StatusFailsWith50WhenTheDataDirectoryIsUnusable()
    {
        string file = Path.Combine(_f.DataDir, "not-a-dir");
        File.WriteAllText(file, "");
        string conf = $$"""{"cniVersion":"1.1.0","name":"n","ipam":{"type":"host-local","dataDir":"{{file}}","subnet":"10.0.0.0/24"} }""";
        Assert.Equal(50, Assert.Throws<CniException>(() => _f.Ipam.Status(IpamFixture.Request(conf))).Code);
    }

    [Fact]
    public void ConcurrentAddsNeverShareAnAddress()
    {
        string conf = _f.SimpleConf("10.1.0.0/16");
        var results = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 16 },
            i => results.Add(Add(conf, $"c{i}").Ips[0].Address.Address.ToString()));
        Assert.Equal(64, results.Distinct().Count());
        Assert.Equal(64, _f.ReservationNames().Length);
    }

    /// <summary>A network name is one directory name (at most 255 bytes), and a container ID of 4 KB and
    /// more is one index key and one file content.</summary>
    [Fact]
    public void TheLongestNetworkNameAndALongContainerIdWork()
    {
        string name = "n" + new string('a', 254), id = new string('f', 4096);
        string conf = _f.SimpleConf().Replace("\"name\":\"net1\"", $"\"name\":\"{name}\"");
        Assert.Equal("10.1.2.2", Add(conf, id).Ips[0].Address.Address.ToString());
        _f.Ipam.Check(IpamFixture.Request(conf, id));
        Assert.Equal($"{id}\r\neth0", File.ReadAllText(Path.Combine(_f.DataDir, name, "10.1.2.2")));
        Assert.Equal(["10.1.2.2"], _f.Ipam.Del(IpamFixture.Request(conf, id)).Select(a => a.ToString()));
    }

    [Fact]
    public void MissingContainerIdIsAnEnvironmentError() =>
        Assert.Equal(4, Assert.Throws<CniException>(() => Add(_f.SimpleConf(), "")).Code);
}
