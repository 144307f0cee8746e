using System.Net;
using CniVeth.Ipam.Config;
using CniVeth.Ipam.Store;

namespace CniVeth.UnitTests.Ipam;

/// <summary>
/// Property: the reboot sweep never releases a reservation of the current boot, whatever the clock did
/// (file times far in the past: the clock stepped forward after the boot; far in the future: it stepped
/// back), whoever wrote the file and whatever happened to .cniveth. It releases what it can prove is
/// older: files tagged with another boot, or a whole store unchanged since a stamp of another boot.
/// </summary>
public class BootSweepTests : IDisposable
{
    private readonly IpamFixture _f = new();
    public void Dispose() => _f.Dispose();

    private StoreLocation Location => new(_f.DataDir, "net1");
    private HostLocalStore Open() => HostLocalStore.Open(Location, _f.Options)!;
    private string FileOf(string ip) => Path.Combine(_f.NetDir, ip);
    private string Meta(string name) => Path.Combine(_f.NetDir, ".cniveth", name);

    private void Reserve(params string[] ips)
    {
        using var s = Open();
        foreach (string ip in ips) Assert.True(s.TryReserve(IPAddress.Parse(ip), new ReservationOwner("c-" + ip, "eth0")));
    }

    private string[] Swept()
    {
        using var s = Open();
        return s.ReleasedAtBoot.Select(a => a.ToString()).Order().ToArray();
    }

    [Fact]
    public void OwnReservationsCarryTheBootTheyWereMadeIn()
    {
        Reserve("10.0.0.5");
        Assert.Equal("boot-1", StoreFiles.Tag(FileOf("10.0.0.5")));
        Assert.Equal("c-10.0.0.5\r\neth0", _f.ReadReservation("10.0.0.5")); // the content stays the reference's
    }

    public static TheoryData<int> ClockSteps => new() { -3650, -1, 1, 3650 };

    [Theory]
    [MemberData(nameof(ClockSteps))]
    public void ReservationsOfThisBootSurviveAClockStepAndAnyLossOfBootRecords(int days)
    {
        Reserve("10.0.0.5", "10.0.0.6");
        foreach (string ip in new[] { "10.0.0.5", "10.0.0.6" }) StoreFiles.SetMtime(FileOf(ip), DateTime.UtcNow.AddDays(days));
        File.Delete(Meta("boot_id"));                  // a sweep runs again
        Assert.Empty(Swept());
        File.WriteAllText(Meta("boot_id"), "");        // an empty record
        Assert.Empty(Swept());
        Directory.Delete(Path.Combine(_f.NetDir, ".cniveth"), recursive: true); // all of our state lost
        Assert.Empty(Swept());
        Assert.Equal(["10.0.0.5", "10.0.0.6"], _f.ReservationNames());
        Assert.Equal("boot-1", File.ReadAllText(Meta("boot_id")).Trim());
    }

    [Theory]
    [MemberData(nameof(ClockSteps))]
    public void ReservationsOfAnEarlierBootAreReleasedWhateverTheirMtime(int days)
    {
        Reserve("10.0.0.5");
        StoreFiles.SetMtime(FileOf("10.0.0.5"), DateTime.UtcNow.AddDays(days));
        File.WriteAllText(FileOf("10.0.0.9"), "other\r\neth0"); // the store changed after our last stamp
        _f.BootId = "boot-2";
        Assert.Equal(["10.0.0.5"], Swept());
        Assert.Equal(["10.0.0.9"], _f.ReservationNames());         // never seen in boot-1: kept
        Assert.Equal("boot-2", StoreFiles.Tag(FileOf("10.0.0.9"))); // ... and now seen in boot-2
        Assert.Single(_f.Notes, n => n.Contains("released 1 reservation(s) made before the current boot"));
        Assert.Empty(Swept());                                      // once per boot
    }

    [Fact]
    public void AReferenceFileWrittenAfterTheRebootIsKeptAndReleasedOnlyAfterTheNextOne()
    {
        Reserve("10.0.0.5");
        _f.BootId = "boot-2";
        File.WriteAllText(FileOf("10.0.0.7"), "ref\r\neth0");    // the reference plugin ran first after the reboot
        StoreFiles.SetMtime(FileOf("10.0.0.7"), DateTime.UtcNow.AddDays(-3650)); // and its mtime looks ancient
        Assert.Equal(["10.0.0.5"], Swept());
        Assert.Equal(["10.0.0.7"], _f.ReservationNames());
        _f.BootId = "boot-3";
        Assert.Equal(["10.0.0.7"], Swept());
    }

    [Fact]
    public void AFileReCreatedUnderTheSameNameAfterTheRebootIsNotTheOldOne()
    {
        Reserve("10.0.0.5");
        _f.BootId = "boot-2";
        // the reference released and re-reserved the same address for the same container: a new inode
        File.Delete(FileOf("10.0.0.5"));
        File.WriteAllText(FileOf("10.0.0.5"), "c-10.0.0.5\r\neth0");
        Assert.Empty(Swept());
        Assert.Equal(["10.0.0.5"], _f.ReservationNames());
    }

    [Fact]
    public void ARebuildTagsFilesOthersWroteWithTheCurrentBoot()
    {
        Reserve("10.0.0.5");
        File.WriteAllText(FileOf("10.0.0.7"), "ref\r\neth0");
        using (var s = Open()) Assert.True(s.IndexWasRebuilt);
        Assert.Equal("boot-1", StoreFiles.Tag(FileOf("10.0.0.7")));
    }

    [Fact]
    public void AStoreUnchangedSinceAStampOfAnEarlierBootIsReleasedWholeEvenUntagged()
    {
        Reserve("10.0.0.5", "10.0.0.6");
        StoreFiles.Untag(FileOf("10.0.0.5"));
        StoreFiles.Untag(FileOf("10.0.0.6"));
        _f.BootId = "boot-2";
        Assert.Equal(["10.0.0.5", "10.0.0.6"], Swept());
    }

    [Fact]
    public void ControlUntaggedFilesAreKeptOnceTheStoreChangedAfterTheStamp()
    {
        Reserve("10.0.0.5");
        StoreFiles.Untag(FileOf("10.0.0.5"));
        File.WriteAllText(FileOf("10.0.0.9"), "ref\r\neth0");
        _f.BootId = "boot-2";
        Assert.Empty(Swept());
        Assert.Equal(["10.0.0.5", "10.0.0.9"], _f.ReservationNames());
    }

    [Fact]
    public void ControlAStampOfThisBootProvesNothing()
    {
        Reserve("10.0.0.5");
        StoreFiles.Untag(FileOf("10.0.0.5"));
        File.Delete(Meta("boot_id"));
        Assert.Empty(Swept());
    }

    private const string KernelBoot1 = "1b3c5d7f-0000-4000-8000-000000000001";
    private const string KernelBoot2 = "1b3c5d7f-0000-4000-8000-000000000002";

    /// <summary>The previous release's stamp ("MTIME b1024") carried no boot: it wrote it only after
    /// recording the boot in .cniveth/boot_id, which then dates it.</summary>
    [Theory]
    [InlineData(KernelBoot1, true)]
    [InlineData(KernelBoot2, false)]   // recorded in this boot: proves nothing
    [InlineData("boot-1", false)]      // not a kernel boot id: not trusted for this
    public void APreviousReleaseStampIsDatedByItsBootRecord(string record, bool released)
    {
        _f.BootId = KernelBoot1;
        Reserve("10.0.0.5");
        StoreFiles.Untag(FileOf("10.0.0.5"));
        string stamp = File.ReadAllText(Meta("stamp"));
        File.WriteAllText(Meta("stamp"), stamp.Split(' ')[0] + " b1024");
        File.WriteAllText(Meta("boot_id"), record + "\n");
        _f.BootId = KernelBoot2;
        Assert.Equal(released ? ["10.0.0.5"] : [], Swept());
    }

    [Fact]
    public void WithoutABootIdNothingIsReleasedOrTagged()
    {
        Reserve("10.0.0.5");
        _f.BootId = "";
        Reserve("10.0.0.6");
        Assert.Null(StoreFiles.Tag(FileOf("10.0.0.6")));
        Assert.Equal(["10.0.0.5", "10.0.0.6"], _f.ReservationNames());
    }

    [Fact]
    public void EntriesThatAreNotReservationFilesAreNeverSwept()
    {
        Reserve("10.0.0.5");
        Directory.CreateDirectory(FileOf("10.0.0.20"));
        File.WriteAllBytes(FileOf("10.0.0.21"), new byte[2 << 20]);
        StoreFiles.SetTag(FileOf("10.0.0.21"), "boot-0");
        _f.BootId = "boot-2";
        Assert.Equal(["10.0.0.5"], Swept());
        Assert.True(Directory.Exists(FileOf("10.0.0.20")));
        Assert.True(File.Exists(FileOf("10.0.0.21")));
    }
}
