using CniVeth.Cni;

namespace CniVeth;

internal static class Program
{
    private static int Main(string[] args)
    {
        // One binary, two plugins: installed (or linked) as host-local it is the IPAM plugin,
        // under any other name (cniveth, bridge) it is the bridge plugin.
        string invokedAs = Path.GetFileName(Environment.GetCommandLineArgs()[0]);
        ICniPlugin plugin = invokedAs == "host-local"
            ? new Ipam.HostLocalPlugin()
            : new Bridge.BridgePlugin();
        return PluginHost.Run(plugin);
    }
}
