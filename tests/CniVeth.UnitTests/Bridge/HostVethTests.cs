using CniVeth.Bridge;

namespace CniVeth.UnitTests.Bridge;

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

/// <summary>The owner alias always fits the kernel's 255 bytes and stays unique and recomputable.</summary>
public class HostVethAliasTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(100, 100)]
    [InlineData(101, 4096)]
    [InlineData(255, 240)]
    [InlineData(20, 4096)]
    public void AnyValidNameAndIdFits(int networkLength, int idLength)
    {
        string network = new string('n', networkLength), id = new string('c', idLength);
        string alias = HostVeth.AliasFor(network, id, "eth0123456789ab");
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(alias) <= 255, alias);
        Assert.True(HostVeth.TryParseAlias(alias, out var n, out var c, out var i));
        Assert.Equal(HostVeth.NetworkToken(network), n);
        Assert.Equal(HostVeth.ContainerToken(network, id), c);
        Assert.Equal("eth0123456789ab", i);
    }

    [Fact]
    public void ShortNamesStayReadableAndLongOnesAreHashedDistinctly()
    {
        Assert.Equal("cniveth net c1 eth0", HostVeth.AliasFor("net", "c1", "eth0"));
        string a = HostVeth.ContainerToken("net", new string('a', 300)), b = HostVeth.ContainerToken("net", new string('a', 299) + "b");
        Assert.StartsWith("~", a);
        Assert.NotEqual(a, b);
        Assert.Equal(a, HostVeth.ContainerToken("net", new string('a', 300)));
    }

    [Fact]
    public void GcFindsStaleVethsByTokensEvenForHashedIds()
    {
        string longId = new string('x', 4000);
        var valid = new CniVeth.Cni.ValidAttachments();
        valid.Add(longId, "eth0");
        valid.Add("whole", null);
        var tokens = new ValidAttachmentTokens("net", valid);
        Assert.False(HostVeth.IsStale(HostVeth.AliasFor("net", longId, "eth0"), "net", tokens));
        Assert.True(HostVeth.IsStale(HostVeth.AliasFor("net", longId, "eth1"), "net", tokens));
        Assert.False(HostVeth.IsStale(HostVeth.AliasFor("net", "whole", "net7"), "net", tokens));
        Assert.True(HostVeth.IsStale(HostVeth.AliasFor("net", "gone", "eth0"), "net", tokens));
        Assert.False(HostVeth.IsStale(HostVeth.AliasFor("other", "gone", "eth0"), "net", tokens)); // another network's
        Assert.False(HostVeth.IsStale("not ours", "net", tokens));
        Assert.False(HostVeth.IsStale(null, "net", tokens));
    }
}
