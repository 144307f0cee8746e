using CniVeth.Cni;
using CniVeth.Ipam;
using CniVeth.Namespaces;

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
        NetConfValidator.ValidateBridge(request.Conf, request.Version);
        if (request.Conf.HasIpam) IpamFactory.Create(request.Conf).Status(request);
    }

    /// <summary>Opens CNI_NETNS, turning its problems into CNI errors a person can act on.</summary>
    private static NetNamespace OpenContainerNetNs(string path)
    {
        try
        {
            return NetNamespace.Open(path);
        }
        catch (NetNamespaceException e)
        {
            throw new CniException(e.Problem == NetNsProblem.NotFound ? ErrorCode.UnknownContainer : ErrorCode.InvalidEnvironment,
                e.Message, "CNI_NETNS must name the container's network namespace (e.g. /proc/<pid>/ns/net or /run/netns/<name>)");
        }
    }
}
