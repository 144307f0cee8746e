using CniVeth.Cni;

namespace CniVeth;

internal static class Program
{
    private static int Main(string[] args)
    {
        // DEL must finish once started: SIGTERM/SIGINT are ignored for the whole process (not only inside
        // the verb), so a runtime's timeout can neither cut a teardown short nor turn a finished one into a
        // failure while the reply is written. signal(2) rather than PosixSignalRegistration: no .NET
        // signal thread, and the disposition is inherited by a delegated IPAM plugin's DEL as well.
        if (Environment.GetEnvironmentVariable("CNI_COMMAND") == "DEL")
        {
            Interop.Libc.Signal(Interop.Libc.SIGTERM, Interop.Libc.SIG_IGN);
            Interop.Libc.Signal(Interop.Libc.SIGINT, Interop.Libc.SIG_IGN);
        }
        // One binary, two plugins: installed (or linked) as host-local it is the IPAM plugin,
        // under any other name (cniveth, bridge) it is the bridge plugin.
        string invokedAs = Path.GetFileName(Environment.GetCommandLineArgs()[0]);
        ICniPlugin plugin = invokedAs == "host-local"
            ? new Ipam.HostLocalPlugin()
            : new Bridge.BridgePlugin();
        return PluginHost.Run(plugin);
    }
}
