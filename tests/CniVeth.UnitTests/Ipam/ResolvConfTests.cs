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
}
