using CniVeth.Cni;
using CniVeth.Skel;

namespace CniVeth;

internal static class Program
{
    private static int Main(string[] args)
    {
        // DEL must finish once started: SIGTERM/SIGINT are ignored for the whole process (not only inside
        // the verb), so a runtime's timeout can neither cut a teardown short nor turn a finished one into a
        // failure while the reply is written. sigaction(2) rather than PosixSignalRegistration: no .NET
        // signal thread, and the disposition is inherited by a delegated IPAM plugin's DEL as well.
        // A runtime that stops reading must not kill us mid-verb with SIGPIPE: the write fails with EPIPE
        // instead, and the exit code reports it.
        Interop.Libc.IgnoreSignal(Interop.Libc.SIGPIPE);
        if (Environment.GetEnvironmentVariable("CNI_COMMAND") == "DEL")
        {
            Interop.Libc.IgnoreSignal(Interop.Libc.SIGTERM);
            Interop.Libc.IgnoreSignal(Interop.Libc.SIGINT);
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
