using CniVeth.Ipam.Config;
using CniVeth.Cni;

namespace CniVeth.UnitTests.Ipam;

public class ResolvConfTests
{
    [Fact]
    public void ParsesAllFieldsAndComments()
    {
        var dns = ResolvConfParser.Parse("""
            # generated
            nameserver 10.0.0.10 ignored
            nameserver 2001:db8::53 ; comment
            domain example.com
            search a.example b.example # trailing
            options ndots:5 timeout:2
            ; nameserver 9.9.9.9
            bogus line here
            """);
        Assert.Equal(["10.0.0.10", "2001:db8::53"], dns.Nameservers!);
        Assert.Equal("example.com", dns.Domain);
        Assert.Equal(["a.example", "b.example"], dns.Search!);
        Assert.Equal(["ndots:5", "timeout:2"], dns.Options!);
    }

    [Fact]
    public void EmptyFileGivesEmptyDns() => Assert.True(ResolvConfParser.Parse("# nothing\n").IsEmpty);

    [Fact]
    public void MissingFileIsAConfigError() =>
        Assert.Equal(7, Assert.Throws<CniVeth.Cni.CniException>(() => ResolvConfParser.ParseFile("/nonexistent/resolv.conf")).Code);

    /// <summary>Property: any resolvConf is answered in bounded time and memory; what is not a readable
    /// regular file of at most 1 MiB is a config error (code 7) naming the file.</summary>
    [Theory]
    [InlineData("/dev/zero")]
    [InlineData("/dev/null")]
    [InlineData("/proc/self")]
    [InlineData("fifo")]
    [InlineData("huge")]
    public void SpecialOrHugeFilesAreConfigErrorsWithoutReadingThem(string which)
    {
        string dir = Directory.CreateTempSubdirectory("cniveth-resolv-").FullName;
        try
        {
            string path = which;
            if (which == "fifo")
            {
                path = Path.Combine(dir, "fifo");
                using var p = System.Diagnostics.Process.Start("mkfifo", path);
                p.WaitForExit();
            }
            else if (which == "huge")
            {
                path = Path.Combine(dir, "huge");
                using var f = File.Create(path);
                f.SetLength(100 << 20); // sparse: 100 MB that costs no disk
            }
            var watch = System.Diagnostics.Stopwatch.StartNew();
            long before = GC.GetAllocatedBytesForCurrentThread();
            var e = Assert.Throws<CniException>(() => ResolvConfParser.ParseFile(path));
            Assert.Equal(7, e.Code);
            Assert.Contains(path, e.Message);
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 4 << 20, "read too much");
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void ASymlinkToAResolvConfIsFollowed()
    {
        string dir = Directory.CreateTempSubdirectory("cniveth-resolv-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "real"), "nameserver 10.0.0.53\n");
            File.CreateSymbolicLink(Path.Combine(dir, "link"), Path.Combine(dir, "real"));
            Assert.Equal(["10.0.0.53"], ResolvConfParser.ParseFile(Path.Combine(dir, "link")).Nameservers!);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void TheBootIdIsReadBoundedAndOnlyWhenPlausible()
    {
        Assert.Matches("^[0-9a-f-]{36}$", CniVeth.Ipam.Store.StoreOptions.ReadBootId("/proc/sys/kernel/random/boot_id"));
        Assert.Equal("", CniVeth.Ipam.Store.StoreOptions.ReadBootId("/dev/zero"));
        Assert.Equal("", CniVeth.Ipam.Store.StoreOptions.ReadBootId("/nonexistent"));
        Assert.Equal("", CniVeth.Ipam.Store.StoreOptions.ReadBootId("/proc/self/status")); // not one token
    }
}
