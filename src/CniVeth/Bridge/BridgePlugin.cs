using CniVeth.Cni;
using CniVeth.Ipam;

namespace CniVeth.Bridge;

/// <summary>
/// The bridge plugin: a veth pair with one end in the container, the other enslaved to a Linux bridge,
/// addresses from IPAM. One verb per partial file (Add, Del, Check, Gc); all kernel work goes through
/// one rtnetlink socket per namespace.
/// </summary>
internal sealed partial class BridgePlugin : ICniPlugin
{
    public string Name => "cniveth (bridge)";

    public void Status(CniRequest request)
    {
        BridgeConfig.Validate(request.Conf, request.Version);
        if (request.Conf.HasIpam) IpamFactory.Create(request.Conf).Status(request);
    }
}
