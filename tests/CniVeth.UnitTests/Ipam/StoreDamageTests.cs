using System.Diagnostics;
using System.Net;
using CniVeth.Cni;
using CniVeth.Ipam.Config;
using CniVeth.Ipam.Store;

namespace CniVeth.UnitTests.Ipam;

/// <summary>
/// Property: foreign or damaged entries never make a verb fail. Our own .cniveth state is rebuilt from the
/// IP files whenever it is not what we wrote (the index is a cache), entries named like an address that
/// are not reservation files are treated as taken and left alone, and each use of the store reports what
/// it repaired or skipped in at most one line.
/// </summary>
public class StoreDamageTests : IDisposable
{
    private readonly IpamFixture _f = new();
    public void Dispose() => _f.Dispose();

    private static readonly ReservationOwner C0 = new("c0", "eth0");
    private StoreLocation Location => new(_f.DataDir, "net1");
    private HostLocalStore Open() => HostLocalStore.Open(Location, _f.Options)!;
    private string Meta(string name) => Path.Combine(_f.NetDir, ".cniveth", name);
    private string Conf => _f.SimpleConf("10.0.0.0/24");
    private CniVeth.Cni.Result Add(string id) => _f.Ipam.Add(IpamFixture.Request(Conf, id));
    private IReadOnlyList<IPAddress> Del(string id) => _f.Ipam.Del(IpamFixture.Request(Conf, id));

    private string BucketOfC0() =>
        Directory.GetFiles(Meta("owners")).Single(f => File.ReadAllText(f).Contains("\nc0+eth0 "));

    private static void MakeFifo(string path)
    {
        using var p = Process.Start("mkfifo", path);
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }

    public static TheoryData<string> Damages => new()
    {
        "cniveth-is-a-file", "owners-is-a-file", "owners-is-a-symlink", "bucket-is-a-directory",
        "bucket-truncated", "bucket-emptied", "bucket-removed", "bucket-2MiB-garbage", "bucket-is-a-fifo",
        "stamp-is-a-directory", "stamp-garbage", "tmp-is-a-directory", "tmp-is-a-fifo", "boot_id-is-a-directory",
    };

    private void Damage(string damage)
    {
        string bucket = BucketOfC0();
        switch (damage)
        {
            case "cniveth-is-a-file": Directory.Delete(Meta(""), true); File.WriteAllText(Meta("").TrimEnd('/'), "junk"); break;
            case "owners-is-a-file": Directory.Delete(Meta("owners"), true); File.WriteAllText(Meta("owners"), "junk"); break;
            case "owners-is-a-symlink":
                Directory.Delete(Meta("owners"), true);
                File.CreateSymbolicLink(Meta("owners"), Directory.CreateDirectory(Path.Combine(_f.DataDir, "elsewhere")).FullName);
                break;
            case "bucket-is-a-directory": File.Delete(bucket); Directory.CreateDirectory(Path.Combine(bucket, "x")); break;
            case "bucket-truncated": File.WriteAllText(bucket, File.ReadAllText(bucket)[..20]); break;
            case "bucket-emptied": File.WriteAllText(bucket, ""); break;
            case "bucket-removed": File.Delete(bucket); break;
            case "bucket-2MiB-garbage": File.WriteAllBytes(bucket, Enumerable.Range(0, 2 << 20).Select(i => (byte)(i * 7)).ToArray()); break;
            case "bucket-is-a-fifo": File.Delete(bucket); MakeFifo(bucket); break;
            case "stamp-is-a-directory": File.Delete(Meta("stamp")); Directory.CreateDirectory(Meta("stamp")); break;
            case "stamp-garbage": File.WriteAllText(Meta("stamp"), "\0\0garbage"); break;
            case "tmp-is-a-directory": Directory.CreateDirectory(Path.Combine(Meta("tmp"), "y")); break;
            case "tmp-is-a-fifo": MakeFifo(Meta("tmp")); break;
            case "boot_id-is-a-directory": File.Delete(Meta("boot_id")); Directory.CreateDirectory(Meta("boot_id")); break;
            default: throw new ArgumentException(damage);
        }
    }

    [Theory]
    [MemberData(nameof(Damages))]
    public void DamagedOwnStateIsRepairedAndEveryVerbKeepsWorking(string damage)
    {
        Assert.Equal("10.0.0.2", Add("c0").Ips[0].Address.Address.ToString());
        Damage(damage);
        _f.Notes.Clear();
        // a re-ADD of c0 (a runtime retry) must see c0's address: never a second one
        var e = Assert.Throws<CniException>(() => Add("c0"));
        Assert.Contains("10.0.0.2 has been allocated to c0", e.Message);
        Assert.Equal("10.0.0.3", Add("c1").Ips[0].Address.Address.ToString());
        _f.Ipam.Check(IpamFixture.Request(Conf, "c1"));
        Assert.Equal(["10.0.0.2"], Del("c0").Select(a => a.ToString()));
        Assert.Equal(["10.0.0.3"], Del("c1").Select(a => a.ToString()));
        Assert.Empty(_f.ReservationNames());
        Assert.All(_f.Notes, n => Assert.DoesNotContain('\n', n));
        Assert.True(Directory.Exists(Meta("owners")), "owners was not restored");
        if (damage != "owners-is-a-symlink") return;
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(_f.DataDir, "elsewhere"))); // nothing written through it
    }

    [Fact]
    public void ABucketNamingAnotherOwnersAddressReleasesNothingOfTheOther()
    {
        Add("c0");
        Add("c1");
        // c0's bucket now also claims c1's address (a valid header: only the IP file can tell)
        string bucket = BucketOfC0();
        string body = File.ReadAllText(bucket).Split('\n', 2)[1] + "c0+eth0 10.0.0.3\n";
        File.WriteAllText(bucket, $"#cniveth-owners {System.Text.Encoding.UTF8.GetByteCount(body)} {CniVeth.Values.StableHash.Hex8(body)}\n{body}");
        Assert.Equal(["10.0.0.2"], Del("c0").Select(a => a.ToString()));
        Assert.Equal(["10.0.0.3"], _f.ReservationNames());
        Assert.Equal("c1\r\neth0", _f.ReadReservation("10.0.0.3"));
    }

    [Fact]
    public void ARepairIsReportedInOneLine()
    {
        Add("c0");
        File.WriteAllText(BucketOfC0(), "");
        _f.Notes.Clear();
        Del("c0");
        Assert.Single(_f.Notes);
        Assert.Contains("rebuilt the owner index", _f.Notes[0]);
    }

    public static TheoryData<string> ForeignKinds => new() { "directory", "fifo", "socket", "symlink", "2MiB-file" };

    private void MakeForeign(string kind, string path)
    {
        switch (kind)
        {
            case "directory": Directory.CreateDirectory(path); break;
            case "fifo": MakeFifo(path); break;
            case "socket": // (.NET removes the file of a socket it closes)
                using (var p = Process.Start("/usr/bin/python3", ["-c", "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])", path]))
                    p.WaitForExit();
                Assert.True(File.Exists(path));
                break;
            case "symlink": File.CreateSymbolicLink(path, Path.Combine(_f.DataDir, "victim")); break;
            case "2MiB-file": File.WriteAllBytes(path, new byte[2 << 20]); break;
        }
    }

    [Theory]
    [MemberData(nameof(ForeignKinds))]
    public void AForeignEntryNamedLikeAnAddressIsTakenNeverReadNeverRemoved(string kind)
    {
        Add("c0");
        string path = Path.Combine(_f.NetDir, "10.0.0.3");
        MakeForeign(kind, path);
        _f.Notes.Clear();
        Assert.Equal("10.0.0.4", Add("c1").Ips[0].Address.Address.ToString());
        Assert.Single(_f.Notes, n => n.Contains("named like an address but not a regular file"));
        var valid = new ValidAttachments();
        _f.Ipam.Gc(IpamFixture.Request(Conf), valid);               // nothing is valid: GC takes every reservation
        _f.BootId = "boot-2";
        Add("c2");                                                   // and a reboot sweep
        Assert.True(Directory.GetFileSystemEntries(_f.NetDir).Contains(path), $"the {kind} was removed");
        Assert.Equal(["10.0.0.5"], _f.ReservationNames().Where(n => n != "10.0.0.3"));
    }

    [Theory]
    [InlineData("2MiB-file")]
    [InlineData("directory")]
    [InlineData("fifo")]
    public void AnUnusableRoundRobinHintIsIgnored(string kind)
    {
        Add("c0");
        string hint = Path.Combine(_f.NetDir, "last_reserved_ip.0");
        File.Delete(hint);
        MakeForeign(kind, hint);
        Assert.Equal("10.0.0.3", Add("c1").Ips[0].Address.Address.ToString()); // searched from the range start
        Assert.Equal(["10.0.0.3"], Del("c1").Select(a => a.ToString()));
        Assert.Equal(["10.0.0.2"], Del("c0").Select(a => a.ToString()));
    }

    private static void Chattr(string flag, string path)
    {
        using var p = Process.Start("chattr", [flag, path]);
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"chattr {flag} {path} failed (the test needs root and a filesystem with the immutable flag)");
    }

    /// <summary>The owners directory made immutable: every index write fails (as on a full disk), yet
    /// ADD, a second ADD of the same owner and DEL give the right answers, and no stamp vouches for the
    /// stale index afterwards.</summary>
    [CniVeth.UnitTests.Support.RootFact]
    public void WhenTheIndexCannotBeWrittenTheVerbsStillWorkAndTheNextCallRebuilds()
    {
        Add("c0");
        string owners = Meta("owners");
        Chattr("+i", owners);
        try
        {
            Assert.Equal("10.0.0.3", Add("c1").Ips[0].Address.Address.ToString());
            Assert.False(File.Exists(Meta("stamp")), "a stamp vouches for an index that misses 10.0.0.3");
            Assert.Contains("10.0.0.3 has been allocated to c1", Assert.Throws<CniException>(() => Add("c1")).Message);
            Assert.Equal(["10.0.0.2"], Del("c0").Select(a => a.ToString()));
            Assert.Equal(["10.0.0.3"], _f.ReservationNames());
        }
        finally { Chattr("-i", owners); }
        using (var s = Open())
        {
            Assert.True(s.IndexWasRebuilt);
            Assert.Equal(["10.0.0.3"], s.AddressesOf(new ReservationOwner("c1", "eth0")).Select(a => a.ToString()));
        }
        Assert.True(File.Exists(Meta("stamp")));
    }

    /// <summary>GC lists only regular files of at most 1 MiB: it releases empty ones (no owner can hold
    /// them) and invalid attachments, keeps legacy id-only files of a valid container, and never touches
    /// foreign entries.</summary>
    [Fact]
    public void GcReleasesOnlyWhatItCanProveInvalid()
    {
        Add("keep");
        Add("drop");
        Directory.CreateDirectory(Path.Combine(_f.NetDir, "10.0.0.50"));
        MakeFifo(Path.Combine(_f.NetDir, "10.0.0.51"));
        File.WriteAllBytes(Path.Combine(_f.NetDir, "10.0.0.52"), new byte[(1 << 20) + 1]);
        File.WriteAllText(Path.Combine(_f.NetDir, "10.0.0.53"), " \r\n ");
        File.WriteAllText(Path.Combine(_f.NetDir, "10.0.0.54"), "keep");
        File.WriteAllText(Path.Combine(_f.NetDir, "10.0.0.55"), "gone");
        var valid = new ValidAttachments();
        valid.Add("keep", "eth0");
        var released = _f.Ipam.Gc(IpamFixture.Request(Conf), valid);
        Assert.Equal(["10.0.0.3", "10.0.0.53", "10.0.0.55"], released.Select(r => r.Address.ToString()).Order());
        Assert.Equal(["10.0.0.2", "10.0.0.50", "10.0.0.51", "10.0.0.52", "10.0.0.54"],
            Directory.GetFileSystemEntries(_f.NetDir).Select(Path.GetFileName).Where(n => n!.StartsWith("10.")).Order());
        Assert.Empty(Del("drop"));
        Assert.Equal(["10.0.0.2"], Del("keep").Select(a => a.ToString()));
    }
}
