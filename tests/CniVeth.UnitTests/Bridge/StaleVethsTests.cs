using CniVeth.Bridge;
using CniVeth.Cni;
using CniVeth.Netlink.Route;
using CniVeth.UnitTests.Support;

namespace CniVeth.UnitTests.Bridge;

public class StaleVethsTests
{
    [Fact]
    public void APickedGroupHasBit16AndIsNoLinksGroup()
    {
        var all = new List<LinkInfo> { new() { Index = 1, Name = "lo" }, new() { Index = 2, Name = "a", Group = 0x10000 } };
        for (int i = 0; i < 1000; i++)
        {
            uint g = StaleVeths.PickGroup(all);
            Assert.NotEqual(0u, g & StaleVeths.GroupBit);
            Assert.NotEqual(0x10000u, g);
        }
    }

    /// <summary>In a namespace of its own: five stale veths among two kept ones and a link an administrator
    /// grouped; the group delete takes exactly the five (and their peers).</summary>
    [RootFact]
    public void TheGroupDeleteTakesExactlyTheStaleLinks()
    {
        Netns.Run(ns =>
        {
            for (int i = 0; i < 7; i++) ns.Sh($"ip link add v{i} type veth peer name p{i}");
            ns.Sh("ip link add admin type veth peer name adminp && ip link set admin group 7");
            using RouteClient host = RouteClient.Open();
            List<LinkInfo> all = host.DumpLinks();
            var stale = all.FindAll(l => l.Name is "v0" or "v1" or "v2" or "v3" or "v4");
            var errors = new TeardownErrors();
            StaleVeths.Remove(host, stale, all, l => l.Name.StartsWith('v'), errors);
            Assert.False(errors.Any);
            var left = host.DumpLinks().ConvertAll(l => l.Name);
            left.Sort(StringComparer.Ordinal);
            Assert.Equal(["admin", "adminp", "lo", "p5", "p6", "v5", "v6"], left);
            Assert.Equal(7u, host.GetLink("admin")!.Group);
        });
    }

    /// <summary>The control: when the group also holds a link that is not stale, nothing is deleted by
    /// group; the stale links still go one by one and the other link stays.</summary>
    [RootFact]
    public void ALinkThatIsNotStaleInTheGroupStopsTheGroupDelete()
    {
        Netns.Run(ns =>
        {
            for (int i = 0; i < 4; i++) ns.Sh($"ip link add v{i} type veth peer name p{i}");
            using RouteClient host = RouteClient.Open();
            List<LinkInfo> all = host.DumpLinks();
            var stale = all.FindAll(l => l.Name is "v0" or "v1" or "v2");
            var errors = new TeardownErrors();
            // the check after grouping finds v1 no longer stale: no group delete
            StaleVeths.Remove(host, stale, all, l => l.Name != "v1", errors);
            Assert.False(errors.Any);
            var left = host.DumpLinks().ConvertAll(l => l.Name);
            left.Sort(StringComparer.Ordinal);
            Assert.Equal(["lo", "p3", "v3"], left); // fallback: one by one, as before
        });
    }
}
