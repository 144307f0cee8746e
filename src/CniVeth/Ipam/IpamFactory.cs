using CniVeth.Cni;

namespace CniVeth.Ipam;

/// <summary>(stub, replaced by the IPAM branch)</summary>
internal static class IpamFactory
{
    public static IIpam Create(NetConf conf) => throw CniException.Internal("IPAM not implemented yet");
}
