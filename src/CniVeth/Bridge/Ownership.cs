using CniVeth.Netlink.Route;

namespace CniVeth.Bridge;

/// <summary>
/// Whether a host interface is this attachment's own, the one question every removal asks first: nothing
/// of another attachment (or of the host) is ever deleted, relabelled or unguarded.
/// </summary>
internal static class Ownership
{
    /// <summary>
    /// A veth is ours when it carries exactly our owner alias. A veth with no alias at all is ours only when
    /// <paramref name="peerConfirms"/> (asked only then) shows its peer is our container interface: that is
    /// an ADD killed between creating the veth and labelling it. Anything else holding the name (another
    /// attachment's, the reference plugin's random "vethXXXXXXXX", a host device) is not.
    /// </summary>
    public static bool IsOurs(LinkInfo link, string expectedAlias, Func<bool>? peerConfirms = null)
    {
        if (link.Kind != "veth") return false;
        if (link.Alias == expectedAlias) return true;
        return string.IsNullOrEmpty(link.Alias) && peerConfirms is not null && peerConfirms();
    }

    /// <summary>Is <paramref name="peer"/> (looked up in the container) the other end of host veth <paramref name="hostEnd"/>?</summary>
    public static bool IsPeerOf(LinkInfo? peer, LinkInfo hostEnd) =>
        peer is { Kind: "veth" } && peer.LinkIndex == hostEnd.Index && hostEnd.LinkIndex == peer.Index;
}
