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
    IReadOnlyList<IPAddress> Del(CniRequest request);

    /// <summary>Throws CniException when the reservation of this attachment is missing.</summary>
    void Check(CniRequest request);

    /// <summary>Releases every reservation whose (containerID, ifname) is not in <paramref name="valid"/>;
    /// returns what was released. Continues past errors and throws them together at the end.</summary>
    IReadOnlyList<ReleasedAddress> Gc(CniRequest request, IReadOnlySet<(string ContainerId, string IfName)> valid);

    /// <summary>Throws CniException code 50 when ADD cannot succeed (range exhausted, store not writable).</summary>
    void Status(CniRequest request);
}

internal readonly record struct ReleasedAddress(string ContainerId, string IfName, IPAddress Address);
