using System.Net;
using CniVeth.Cni;

namespace CniVeth.Firewall;

/// <summary>(stub, replaced by the nft branch)</summary>
internal sealed class NftFirewall : IDisposable
{
    public static NftFirewall Open() => throw CniException.Internal("nftables support not implemented yet");
    public void AddMasquerade(string network, IReadOnlyList<CidrAddress> subnets, IReadOnlyList<IPAddress> addresses) { }
    public void RemoveMasquerade(string network, IReadOnlyList<IPAddress> addresses) { }
    public void AddMacSpoofCheck(string hostIfName, string mac) { }
    public void RemoveMacSpoofCheck(string hostIfName) { }
    public void GcMasquerade(string network, IReadOnlySet<IPAddress> keep) { }
    public void GcMacSpoofCheck(IReadOnlySet<string> keepHostIfNames) { }
    public void Dispose() { }
}
