using CniVeth.Bridge;
using CniVeth.Netlink.Route;

namespace CniVeth.UnitTests.Bridge;

/// <summary>Whether a host interface holding our derived name is this attachment's own.</summary>
public class OwnershipTests
{
    private const string Alias = "cniveth net c1 eth0";

    private static LinkInfo Link(string? alias, string kind = "veth", int index = 7, int peer = 3) =>
        new() { Index = index, Name = "veth12345678", Kind = kind, Alias = alias, LinkIndex = peer };

    [Fact]
    public void OurAliasMakesItOurs() => Assert.True(Ownership.IsOurs(Link(Alias), Alias));

    [Theory]
    [InlineData("cniveth net c2 eth0")]      // another container of the network
    [InlineData("cniveth other c1 eth0")]    // the same container on another network
    [InlineData("set by an admin")]
    public void AnotherAliasIsNeverOurs(string alias) => Assert.False(Ownership.IsOurs(Link(alias), Alias, () => true));

    [Fact]
    public void OnlyVethsCanBeOurs() => Assert.False(Ownership.IsOurs(Link(Alias, kind: "dummy"), Alias));

    [Fact]
    public void WithoutAliasItTakesThePeerToProveIt()
    {
        Assert.False(Ownership.IsOurs(Link(null), Alias));          // nothing to confirm with (no netns)
        Assert.False(Ownership.IsOurs(Link(""), Alias, () => false));
        Assert.True(Ownership.IsOurs(Link(""), Alias, () => true));
        bool asked = false;
        Ownership.IsOurs(Link(Alias), Alias, () => asked = true);
        Assert.False(asked); // the namespace is entered only when the alias cannot tell
    }

    [Fact]
    public void APeerIsOursWhenBothEndsPointAtEachOther()
    {
        LinkInfo host = Link(null, index: 7, peer: 3);
        Assert.True(Ownership.IsPeerOf(new LinkInfo { Index = 3, Name = "eth0", Kind = "veth", LinkIndex = 7 }, host));
        Assert.False(Ownership.IsPeerOf(new LinkInfo { Index = 3, Name = "eth0", Kind = "veth", LinkIndex = 8 }, host));
        Assert.False(Ownership.IsPeerOf(new LinkInfo { Index = 4, Name = "eth0", Kind = "veth", LinkIndex = 7 }, host));
        Assert.False(Ownership.IsPeerOf(new LinkInfo { Index = 3, Name = "eth0", Kind = "macvlan", LinkIndex = 7 }, host));
        Assert.False(Ownership.IsPeerOf(null, host));
    }
}
