using System.Net;
using CniVeth.Cni;
using CniVeth.Ipam.Config;
using CniVeth.Ipam.Store;

namespace CniVeth.UnitTests.Ipam;

public class HostLocalStoreTests : IDisposable
{
    private readonly IpamFixture _f = new();
    public void Dispose() => _f.Dispose();

    private StoreLocation Location => new(_f.DataDir, "net1");
    private HostLocalStore Open() => HostLocalStore.Open(Location, _f.Options)!;
    private static readonly ReservationOwner A = new("ctr-a", "eth0");

    [Fact]
    public void ReserveWritesReferenceFormatAndLeavesNoTemporaryFile()
    {
        using (var s = Open()) Assert.True(s.TryReserve(IPAddress.Parse("10.0.0.5"), A));
        Assert.Equal("ctr-a\r\neth0", _f.ReadReservation("10.0.0.5"));
        Assert.False(File.Exists(Path.Combine(_f.NetDir, ".cniveth", HostLocalStore.ScratchName)));
        Assert.Equal(["10.0.0.5"], _f.ReservationNames());
    }

    [Fact]
    public void ReserveOfATakenAddressFailsWithoutTouchingIt()
    {
        File.WriteAllText(Path.Combine(Directory.CreateDirectory(_f.NetDir).FullName, "10.0.0.5"), "other\r\neth0");
        using (var s = Open()) Assert.False(s.TryReserve(IPAddress.Parse("10.0.0.5"), A));
        Assert.Equal("other\r\neth0", _f.ReadReservation("10.0.0.5"));
    }

    [Fact]
    public void OwnerParsingTrimsAndReadsLegacy()
    {
        Assert.Equal(new ReservationOwner("x", "eth0"), ReservationOwner.Parse(" x\r\neth0\n"));
        Assert.Equal(new ReservationOwner("x", null), ReservationOwner.Parse("x\n"));
        Assert.Null(ReservationOwner.Parse("  "));
    }

    [Fact]
    public void IndexFileNamesAreSafeAndUnambiguous()
    {
        Assert.Equal("a%2Bb+c", new ReservationOwner("a+b", "c").IndexKey);
        Assert.NotEqual(new ReservationOwner("a+b", "c").IndexKey, new ReservationOwner("a", "b+c").IndexKey);
        Assert.DoesNotContain('/', new ReservationOwner("../x", "y/z").IndexKey);
        Assert.DoesNotContain(' ', new ReservationOwner("a b\n", "c\rd").IndexKey);
    }

    [Fact]
    public void ForeignReservationsAreFoundAfterTheDirectoryChanged()
    {
        using (var s = Open()) s.TryReserve(IPAddress.Parse("10.0.0.5"), A);
        // The reference plugin adds a file for the same owner: the index must learn it.
        File.WriteAllText(Path.Combine(_f.NetDir, "10.0.0.6"), "ctr-a\r\neth0");
        using (var s = Open())
        {
            Assert.True(s.IndexWasRebuilt);
            Assert.Equal(["10.0.0.5", "10.0.0.6"], s.AddressesOf(A).Select(a => a.ToString()).Order());
        }
        using (var s = Open()) Assert.False(s.IndexWasRebuilt); // fresh again: no rescan
    }

    [Fact]
    public void ForeignDeletionIsHarmless()
    {
        using (var s = Open()) s.TryReserve(IPAddress.Parse("10.0.0.5"), A);
        File.Delete(Path.Combine(_f.NetDir, "10.0.0.5"));
        using (var s = Open()) Assert.Empty(s.ReleaseAll(A));
    }

    [Fact]
    public void StaleIndexEntryIsNeverTrusted()
    {
        using (var s = Open()) s.TryReserve(IPAddress.Parse("10.0.0.5"), A);
        // Same-size in-place rewrite (no directory change): verification still refuses it.
        File.WriteAllText(Path.Combine(_f.NetDir, "10.0.0.5"), "ctr-b\r\neth0");
        using (var s = Open()) Assert.Empty(s.ReleaseAll(A));
        Assert.Single(_f.ReservationNames());
    }

    [Fact]
    public void DeletedIndexIsRebuilt()
    {
        using (var s = Open()) s.TryReserve(IPAddress.Parse("10.0.0.5"), A);
        Directory.Delete(Path.Combine(_f.NetDir, ".cniveth"), recursive: true);
        using (var s = Open())
        {
            Assert.True(s.IndexWasRebuilt);
            Assert.Equal(["10.0.0.5"], s.ReleaseAll(A).Select(a => a.ToString()));
        }
    }

    [Fact]
    public void IndexInTheEarlierOneFilePerOwnerLayoutIsRebuiltNotMisread()
    {
        using (var s = Open()) s.TryReserve(IPAddress.Parse("10.0.0.5"), A);
        // What the previous release left: o-<owner> files and a stamp without the layout tag.
        string meta = Path.Combine(_f.NetDir, ".cniveth"), owners = Path.Combine(meta, "owners");
        foreach (string f in Directory.GetFiles(owners)) File.Delete(f);
        File.WriteAllText(Path.Combine(owners, "o-ctr-a+eth0"), "10.0.0.5\n");
        string stamp = File.ReadAllText(Path.Combine(meta, "stamp")).Trim();
        File.WriteAllText(Path.Combine(meta, "stamp"), stamp[..stamp.IndexOf(' ')]);
        using (var s = Open())
        {
            Assert.True(s.IndexWasRebuilt);
            Assert.Equal(["10.0.0.5"], s.ReleaseAll(A).Select(a => a.ToString()));
        }
        Assert.Empty(Directory.GetFiles(owners)); // old files gone, empty buckets removed
    }

    [Fact]
    public void OwnersSharingABucketKeepTheirOwnAddresses()
    {
        // 3,000 owners over 1,024 buckets: many share one. Long ids too (file names could not hold them).
        var owners = Enumerable.Range(0, 3000).Select(i => new ReservationOwner(new string('c', 200) + i, "eth0")).ToList();
        using (var s = Open())
            for (int i = 0; i < owners.Count; i++) Assert.True(s.TryReserve(IPAddress.Parse($"10.0.{i / 250}.{i % 250 + 1}"), owners[i]));
        using (var s = Open())
        {
            Assert.False(s.IndexWasRebuilt);
            for (int i = 0; i < owners.Count; i += 2)
                Assert.Equal([$"10.0.{i / 250}.{i % 250 + 1}"], s.ReleaseAll(owners[i]).Select(a => a.ToString()));
        }
        using (var s = Open())
            for (int i = 1; i < owners.Count; i += 2)
                Assert.Equal([$"10.0.{i / 250}.{i % 250 + 1}"], s.AddressesOf(owners[i]).Select(a => a.ToString()));
        Assert.True(Directory.GetFiles(Path.Combine(_f.NetDir, ".cniveth", "owners")).Length <= 1024);
    }

    [Fact]
    public void UnchangedStoreIsNotRescanned()
    {
        using (var s = Open()) s.TryReserve(IPAddress.Parse("10.0.0.5"), A);
        using (var s = Open()) Assert.False(s.IndexWasRebuilt);
        using (var s = Open()) { s.ReleaseAll(A); }
        using (var s = Open()) Assert.False(s.IndexWasRebuilt);
    }

    [Fact]
    public void LastReservedIsReplacedAtomically()
    {
        using (var s = Open())
        {
            s.SetLastReserved(0, IPAddress.Parse("10.0.0.9"));
            s.SetLastReserved(0, IPAddress.Parse("10.0.0.10"));
            Assert.Equal("10.0.0.10", s.LastReserved(0)!.ToString());
        }
        Assert.Equal("10.0.0.10", File.ReadAllText(Path.Combine(_f.NetDir, "last_reserved_ip.0")));
    }

    [Fact]
    public void SymlinkedNetworkDirectoryIsRefused()
    {
        string real = Directory.CreateDirectory(Path.Combine(_f.DataDir, "elsewhere")).FullName;
        File.CreateSymbolicLink(_f.NetDir, real);
        var e = Assert.Throws<StoreException>(() => Open());
        Assert.Contains("symlink", e.Message);
    }

    [Fact]
    public void SymlinkNamedLikeAnAddressCountsAsTakenAndIsNeverFollowed()
    {
        Directory.CreateDirectory(_f.NetDir);
        string target = Path.Combine(_f.DataDir, "victim");
        File.WriteAllText(target, "secret");
        File.CreateSymbolicLink(Path.Combine(_f.NetDir, "10.0.0.5"), target);
        using (var s = Open())
        {
            Assert.False(s.TryReserve(IPAddress.Parse("10.0.0.5"), A));
            Assert.Null(s.OwnerOf(IPAddress.Parse("10.0.0.5")));
        }
        Assert.Equal("secret", File.ReadAllText(target));
    }

    [Fact]
    public void LockTimeoutIsTryAgainLater()
    {
        using var held = Open();
        var options = new StoreOptions { BootId = () => "boot-1", LockTimeout = TimeSpan.FromMilliseconds(200) };
        var e = Assert.Throws<StoreException>(() => HostLocalStore.Open(Location, options));
        Assert.Equal(11, e.Code);
    }

    [Fact]
    public void OpenWithoutCreateOnMissingStoreIsNull() =>
        Assert.Null(HostLocalStore.Open(Location, _f.Options, create: false));

    [Fact]
    public void FirstUseOfAReferenceStoreReleasesNothingAndRecordsTheBoot()
    {
        Directory.CreateDirectory(_f.NetDir);
        File.WriteAllText(Path.Combine(_f.NetDir, "10.0.0.5"), "old\r\neth0");
        File.SetLastWriteTimeUtc(Path.Combine(_f.NetDir, "10.0.0.5"), DateTime.UtcNow.AddDays(-3)); // looks pre-boot
        File.WriteAllText(Path.Combine(_f.NetDir, "last_reserved_ip.0"), "10.0.0.5");
        using (var s = Open())
        {
            Assert.Empty(s.ReleasedAtBoot);
            Assert.Equal(["10.0.0.5"], s.AddressesOf(new ReservationOwner("old", "eth0")).Select(a => a.ToString()));
        }
        Assert.Equal(["10.0.0.5"], _f.ReservationNames());
        Assert.Equal("boot-1", File.ReadAllText(Path.Combine(_f.NetDir, ".cniveth", "boot_id")).Trim());
        Assert.Equal("boot-1", StoreFiles.Tag(Path.Combine(_f.NetDir, "10.0.0.5")));
    }

    /// <summary>Container IDs are limited only by the environment (128 KiB per variable): the index key
    /// and the file hold any of them.</summary>
    [Theory]
    [InlineData(4096)]
    [InlineData(65536)]
    public void LongContainerIdsAreReservedFoundAndReleased(int length)
    {
        var owner = new ReservationOwner(new string('a', length - 1) + "/", "eth0");
        using (var s = Open()) Assert.True(s.TryReserve(IPAddress.Parse("10.0.0.5"), owner));
        Assert.Equal(owner.FileContent, _f.ReadReservation("10.0.0.5"));
        using (var s = Open()) Assert.Equal(["10.0.0.5"], s.AddressesOf(owner).Select(a => a.ToString()));
        File.WriteAllText(Path.Combine(_f.NetDir, "10.0.0.6"), "x"); // forces a rebuild from the files
        using (var s = Open())
        {
            Assert.True(s.IndexWasRebuilt);
            Assert.Equal(["10.0.0.5"], s.ReleaseAll(owner).Select(a => a.ToString()));
        }
    }

    [Fact]
    public void AReadOnlyOpenWritesNothingEvenOnAStaleIndex()
    {
        using (var s = Open()) s.TryReserve(IPAddress.Parse("10.0.0.5"), A);
        File.WriteAllText(Path.Combine(_f.NetDir, "10.0.0.6"), "ctr-a\r\neth0"); // stale: needs a rebuild
        File.Delete(Path.Combine(_f.NetDir, ".cniveth", "boot_id"));            // and a sweep
        string Snapshot() => string.Join("\n", Directory.GetFileSystemEntries(_f.NetDir, "*", SearchOption.AllDirectories)
            .Order().Select(p => p + " " + File.GetLastWriteTimeUtc(p).Ticks + " " + StoreFiles.Tag(p)));
        string before = Snapshot();
        using (var s = HostLocalStore.Open(Location, _f.Options, create: false, StoreAccess.ReadOnly)!)
            Assert.Equal(["10.0.0.5", "10.0.0.6"], s.AddressesOf(A).Select(a => a.ToString()).Order());
        Assert.Equal(before, Snapshot());
    }

    [Fact]
    public void AReadOnlyOpenNeedsNoLockFile()
    {
        using (var s = Open()) s.TryReserve(IPAddress.Parse("10.0.0.5"), A);
        File.Delete(Path.Combine(_f.NetDir, "lock"));
        using (var s = HostLocalStore.Open(Location, _f.Options, create: false, StoreAccess.ReadOnly)!)
            Assert.Single(s.AddressesOf(A));
        Assert.False(File.Exists(Path.Combine(_f.NetDir, "lock")));
    }

    [Fact]
    public void AReaderWaitsForAWriterButNotForAnotherReader()
    {
        var quick = new StoreOptions { BootId = () => "boot-1", LockTimeout = TimeSpan.FromMilliseconds(200) };
        using (var s = Open()) s.TryReserve(IPAddress.Parse("10.0.0.5"), A);
        using (HostLocalStore.Open(Location, quick, create: false, StoreAccess.ReadOnly))
        using (HostLocalStore.Open(Location, quick, create: false, StoreAccess.ReadOnly)) { }
        using var writer = Open();
        Assert.Equal(11, Assert.Throws<StoreException>(() => HostLocalStore.Open(Location, quick, create: false, StoreAccess.ReadOnly)).Code);
    }
}
