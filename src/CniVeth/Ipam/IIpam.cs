using System.Net;
using CniVeth.Cni;

namespace CniVeth.Ipam;

/// <summary>What the bridge plugin needs from address management (built-in host-local or a delegate).</summary>
internal interface IIpam
{
    /// <summary>Reserves addresses; result has ips (Interface unset), routes and dns.</summary>
    Result Add(CniRequest request);

    /// <summary>Releases the (containerID, ifname) reservations; returns the addresses released
    /// (empty when nothing was held or the delegate cannot tell). Idempotent.</summary>
    /// <param name="beforeRelease">Runs while the addresses are still held (the built-in store still locked),
    /// so state keyed by an address (a masquerade element) goes before the address can be handed to
    /// another container.</param>
    IReadOnlyList<IPAddress> Del(CniRequest request, Action<ReleaseScope>? beforeRelease = null);

    /// <summary>Throws CniException when the reservation of this attachment is missing.</summary>
    void Check(CniRequest request);

    /// <summary>Releases every reservation whose (containerID, ifname) is not in <paramref name="valid"/>;
    /// returns what was released. Continues past errors and throws them together at the end.</summary>
    /// <param name="beforeRelease">As for Del: gets the addresses about to be released, still held.</param>
    IReadOnlyList<ReleasedAddress> Gc(CniRequest request, ValidAttachments valid, Action<IReadOnlyList<IPAddress>>? beforeRelease = null);

    /// <summary>Throws CniException code 50 when ADD cannot succeed (range exhausted, store not writable).</summary>
    void Status(CniRequest request);
}

internal readonly record struct ReleasedAddress(string ContainerId, string IfName, IPAddress Address);

/// <summary>What a DEL is about to release: the addresses the attachment holds, and whether any other
/// address is held by nobody (null when the IPAM plugin cannot tell, as for a delegated one).</summary>
internal sealed record ReleaseScope(IReadOnlyList<IPAddress> Held, Func<IPAddress, bool>? IsFree);
