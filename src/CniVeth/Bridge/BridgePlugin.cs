using CniVeth.Cni;

namespace CniVeth.Bridge;

/// <summary>The bridge plugin: veth pair, Linux bridge, host-local addresses. (stub)</summary>
internal sealed class BridgePlugin : ICniPlugin
{
    public string Name => "cniveth (bridge)";
    public Result Add(CniRequest request) => throw CniException.Internal("not implemented");
    public void Del(CniRequest request) => throw CniException.Internal("not implemented");
    public void Check(CniRequest request) => throw CniException.Internal("not implemented");
    public void Gc(CniRequest request) => throw CniException.Internal("not implemented");
    public void Status(CniRequest request) => throw CniException.Internal("not implemented");
}
