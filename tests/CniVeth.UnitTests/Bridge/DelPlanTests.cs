using System.Net;
using CniVeth.Bridge;
using CniVeth.Ipam;

namespace CniVeth.UnitTests.Bridge;

/// <summary>What a DEL removes: only what the attachment still owns.</summary>
public class DelPlanTests
{
    private static readonly IPAddress A = IPAddress.Parse("10.88.0.5"), B = IPAddress.Parse("10.88.0.6");

    [Fact]
    public void WithFirewallStateTheVethGoesLast()
    {
        Assert.True(new DelPlan(firewallUsed: true) { VethFound = true }.VethLast);
        Assert.False(new DelPlan(firewallUsed: false) { VethFound = true }.VethLast);
        Assert.False(new DelPlan(firewallUsed: true) { VethFound = false }.VethLast);
    }

    [Fact]
    public void HeldAddressesAlwaysLoseTheirMasquerade()
    {
        var plan = new DelPlan(true);
        Assert.Equal([A], plan.MasqueradeToRemove(new ReleaseScope([A], _ => false), []));
    }

    /// <summary>ADD c1, DEL c1, ADD c2 (same address), DEL c1 again with its cached result: c2 keeps its NAT.</summary>
    [Fact]
    public void ARepeatedDelLeavesAnAddressThatNowBelongsToAnotherContainer()
    {
        var plan = new DelPlan(true);
        Assert.Empty(plan.MasqueradeToRemove(new ReleaseScope([], a => !a.Equals(A)), previous: [A]));
    }

    [Fact]
    public void ACachedAddressNobodyHoldsIsCleanedUp()
    {
        var plan = new DelPlan(true);
        Assert.Equal([B], plan.MasqueradeToRemove(new ReleaseScope([], _ => true), previous: [B]));
    }

    [Fact]
    public void WhenIpamCannotTellTheCachedResultIsTrustedOnlyWhileTheAttachmentIsUntouched()
    {
        Assert.Equal([A], new DelPlan(true) { VethFound = true, VethUp = true }.MasqueradeToRemove(new ReleaseScope([], null), [A]));
        Assert.Empty(new DelPlan(true) { VethFound = false }.MasqueradeToRemove(new ReleaseScope([], null), [A]));
        // an earlier DEL set the port down and got past the firewall (and the delegate's release): the
        // address may be another container's now
        Assert.Empty(new DelPlan(true) { VethFound = true, VethUp = false }.MasqueradeToRemove(new ReleaseScope([], null), [A]));
        // the built-in store can tell: a veth that is down changes nothing there
        Assert.Equal([A], new DelPlan(true) { VethFound = true, VethUp = false }.MasqueradeToRemove(new ReleaseScope([], _ => true), [A]));
    }

    [Fact]
    public void TheSpoofCheckOfAPortNameAnotherInterfaceHoldsIsKept()
    {
        Assert.True(new DelPlan(true) { VethFound = true }.MayRemoveSpoofCheck);
        Assert.True(new DelPlan(true) { PortNameFree = true }.MayRemoveSpoofCheck);
        Assert.False(new DelPlan(true) { VethFound = false, PortNameFree = false }.MayRemoveSpoofCheck);
    }
}
