using System.Net;

namespace CniVeth.Ipam.Store;

/// <summary>
/// Reservations made before the current boot cannot belong to a live container (network namespaces do
/// not survive a reboot). On the first use after the boot id changed (or on a store we never saw) every
/// IP file last modified before the boot time is released — this covers files written by the
/// reference plugin too, which keep no boot record. The boot id is then recorded in .cniveth/boot_id.
/// </summary>
internal static class BootSweep
{
    public const string BootIdFile = "boot_id";

    public static List<IPAddress> Run(StoreDirectory network, StoreDirectory meta, StoreOptions options)
    {
        var released = new List<IPAddress>();
        string bootId = options.BootId();
        if (bootId.Length == 0) return released; // no boot identity: never guess
        if (meta.ReadText(BootIdFile)?.Trim() == bootId) return released;

        long bootSeconds = options.BootTime().ToUnixTimeSeconds();
        foreach (string name in network.ListNames())
        {
            if (!HostLocalStore.TryParseReservationName(name, out var address)) continue;
            var st = network.Stat(name);
            if (st is null || (st.Value.stx_mode & Interop.Libc.S_IFMT) != Interop.Libc.S_IFREG) continue;
            if (st.Value.stx_mtime.tv_sec < bootSeconds && network.Unlink(name)) released.Add(address);
        }
        if (released.Count > 0)
            Console.Error.WriteLine($"cniveth: released {released.Count} reservation(s) in {network.Path} made before the current boot");

        meta.WriteNewFile(HostLocalStore.ScratchName, bootId + "\n");
        meta.RenameFrom(meta, HostLocalStore.ScratchName, BootIdFile);
        return released;
    }
}
