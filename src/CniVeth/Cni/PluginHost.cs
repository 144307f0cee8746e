namespace CniVeth.Cni;

/// <summary>The CNI "skel": environment, stdin, verb dispatch, result and error output. (stub)</summary>
internal static class PluginHost
{
    public static int Run(ICniPlugin plugin)
    {
        Console.Error.WriteLine($"CNI plugin {plugin.Name}");
        return 0;
    }
}
