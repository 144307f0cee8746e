using CniVeth.Cni;

namespace CniVeth.Ipam;

/// <summary>Standalone host-local IPAM plugin (binary invoked as "host-local"). (stub)</summary>
internal sealed class HostLocalPlugin : ICniPlugin
{
    public string Name => "host-local (cniveth)";
    public Result Add(CniRequest request) => throw CniException.Internal("not implemented");
    public void Del(CniRequest request) => throw CniException.Internal("not implemented");
    public void Check(CniRequest request) => throw CniException.Internal("not implemented");
    public void Gc(CniRequest request) => throw CniException.Internal("not implemented");
    public void Status(CniRequest request) => throw CniException.Internal("not implemented");
}
