using System.Runtime.InteropServices;
using CniVeth.Cni;

namespace CniVeth;

internal static class Program
{
    private static PosixSignalRegistration? s_term, s_intr;

    private static int Main(string[] args)
    {
        // DEL must finish once started: SIGTERM/SIGINT are ignored for the whole process (not only
        // inside the verb), so a runtime's timeout can neither cut a teardown short nor turn a finished
        // one into a failure while the reply is written or the process exits. Never disposed.
        s_term = IgnoreDuringDel(PosixSignal.SIGTERM);
        s_intr = IgnoreDuringDel(PosixSignal.SIGINT);
        // One binary, two plugins: installed (or linked) as host-local it is the IPAM plugin,
        // under any other name (cniveth, bridge) it is the bridge plugin.
        string invokedAs = Path.GetFileName(Environment.GetCommandLineArgs()[0]);
        ICniPlugin plugin = invokedAs == "host-local"
            ? new Ipam.HostLocalPlugin()
            : new Bridge.BridgePlugin();
        return PluginHost.Run(plugin);
    }

    private static PosixSignalRegistration? IgnoreDuringDel(PosixSignal signal) =>
        Environment.GetEnvironmentVariable("CNI_COMMAND") == "DEL"
            ? PosixSignalRegistration.Create(signal, c => c.Cancel = true)
            : null;
}
