using CniVeth.Cni;

namespace CniVeth.Ipam;

/// <summary>Standalone host-local IPAM plugin (binary invoked as "host-local", e.g. by ptp or macvlan):
/// returns the reference's IPAM result shape (ips without interface, routes, dns).</summary>
internal sealed class HostLocalPlugin(IIpam ipam) : ICniPlugin
{
    public HostLocalPlugin() : this(new HostLocalIpam()) { }

    public string Name => "host-local (cniveth)";

    public Result Add(CniRequest request) => ipam.Add(request);

    public void Del(CniRequest request) => ipam.Del(request);

    public void Check(CniRequest request) => ipam.Check(request);

    public void Gc(CniRequest request) => ipam.Gc(request, ValidAttachments.FromConfig(request.Conf));

    public void Status(CniRequest request) => ipam.Status(request);
}
