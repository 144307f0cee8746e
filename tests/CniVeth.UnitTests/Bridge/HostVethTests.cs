using CniVeth.Bridge;

namespace CniVeth.UnitTests;

public class HostVethTests
{
    [Fact]
    public void NameIsStableAndDerivedFromTheOwner()
    {
        string a = HostVeth.NameFor("net", "c1", "eth0");
        Assert.Matches("^veth[0-9a-f]{8}$", a);
        Assert.Equal(a, HostVeth.NameFor("net", "c1", "eth0"));
        Assert.NotEqual(a, HostVeth.NameFor("net", "c1", "eth1"));
        Assert.NotEqual(a, HostVeth.NameFor("net2", "c1", "eth0"));
        Assert.True(a.Length <= 15);
    }

    [Fact]
    public void AliasRoundTrips()
    {
        string alias = HostVeth.AliasFor("net", "c1", "eth0");
        Assert.True(HostVeth.TryParseAlias(alias, out var n, out var c, out var i));
        Assert.Equal(("net", "c1", "eth0"), (n, c, i));
        Assert.False(HostVeth.TryParseAlias("someone else", out _, out _, out _));
        Assert.False(HostVeth.TryParseAlias(null, out _, out _, out _));
    }
}
