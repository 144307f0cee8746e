using CniVeth.Cni;

namespace CniVeth.Ipam;

/// <summary>host-local is built in; every other ipam.type is delegated to its binary in CNI_PATH.</summary>
internal static class IpamFactory
{
    public static IIpam Create(NetConf conf)
    {
        string type = conf.Ipam?.Type ?? "";
        if (type.Length == 0) throw CniException.Config("ipam.type is missing");
        return type == "host-local" ? new HostLocalIpam() : new DelegatingIpam(type);
    }
}
