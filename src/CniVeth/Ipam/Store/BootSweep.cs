using Tmds.Linux;

namespace CniVeth.Ipam.Store;

/// <summary>
/// Reservations made before the current boot cannot belong to a live container (network namespaces do not
/// survive a reboot), so the first call after a reboot releases them. The decision never compares times:
/// a wall clock stepped forward or backward (NTP, a VM restore, a bad RTC) moves the kernel's boot time and
/// every mtime comparison with it, and a live reservation released by mistake hands one address to two
/// containers. A file is released only on one of two proofs that it was there before this boot:
///
/// 1. Its boot tag (BootTag: an extended attribute on the inode, written with our own reservations and on
///    every file an index rebuild meets) names another boot. A boot id is never reused, and a file
///    re-created under the same name carries no tag.
/// 2. The whole directory is unchanged since a stamp written in another boot: the stamp holds the network
///    directory's exact mtime (set by us to a second in the past; any file created, removed or renamed
///    there since gives the kernel's "now" instead) and the boot it was written in. Equality of two
///    timestamps proves "nothing changed" whatever the clock did; it is not trusted on a filesystem with
///    whole-second timestamps (nanoseconds 0), where a clock stepped back could repeat the value.
///    This covers untagged files: ours from before tags existed, and files on filesystems without xattrs.
///
/// Everything else is kept: a reference-plugin file we never saw before this boot, a file whose tag
/// cannot be read. A kept stale reservation is a leak GC can collect; a released live one is a duplicate.
/// The sweep runs when .cniveth/boot_id (the boot of the last completed sweep) is not the current boot; it
/// is safe to repeat (a file of this boot is never released), so damage there costs time, not addresses.
/// </summary>
internal static class BootSweep
{
    public const string RecordFile = "boot_id";

    /// <summary>Is a file with this tag from an earlier boot?</summary>
    public static bool IsFromEarlierBoot(BootTag.State state, string tag, string currentBoot, bool storeUnchangedSinceEarlierBoot) =>
        state == BootTag.State.Present ? tag != currentBoot : storeUnchangedSinceEarlierBoot;

    /// <summary>Proof 2: the network directory is exactly as a stamp written in another boot left it.</summary>
    /// <param name="legacyRecord">.cniveth/boot_id, used only for a stamp of the previous release, which
    /// carries no boot (that release wrote a stamp only after recording the boot in that file).</param>
    public static bool StoreUnchangedSinceEarlierBoot(IndexStamp? stamp, statx_timestamp dirTime, string currentBoot,
        string? legacyRecord)
    {
        if (stamp is null || dirTime.tv_nsec == 0 || stamp.DirTime != IndexStamp.TimeText(dirTime)) return false;
        string? boot = stamp.Layout == IndexStamp.PreviousLayout
            ? (BootTag.IsKernelBootId(legacyRecord) ? legacyRecord : null)
            : stamp.Boot;
        return BootTag.IsValidBootId(boot) && BootTag.IsValidBootId(currentBoot) && boot != currentBoot;
    }
}
