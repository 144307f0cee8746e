using System.Globalization;
using Tmds.Linux;

namespace CniVeth.Ipam.Store;

/// <summary>
/// .cniveth/stamp: "NETDIR_MTIME OWNERS_MTIME LAYOUT BOOT". It vouches that the owner index matched the IP
/// files when it was written: it holds only while the network directory and the owners directory still
/// have exactly those modification times (any file added to, removed from or renamed into either changes
/// it), the layout is ours, and BOOT is the boot id it was written in ("-" when unknown).
/// The stamp of the previous release, "NETDIR_MTIME b1024", is still parsed (for the reboot sweep's proof).
/// </summary>
internal sealed record IndexStamp(string DirTime, string? OwnersTime, string Layout, string? Boot)
{
    /// <summary>The layout of the release before the owner index got bucket headers.</summary>
    public const string PreviousLayout = "b1024";

    public static string TimeText(statx_timestamp t) =>
        t.tv_sec.ToString(CultureInfo.InvariantCulture) + "." + ((uint)t.tv_nsec).ToString("D9", CultureInfo.InvariantCulture);

    public string Text => DirTime + " " + OwnersTime + " " + Layout + " " + (Boot ?? "-") + "\n";

    /// <summary>The stamp, or null when the text is not one.</summary>
    public static IndexStamp? Parse(string text)
    {
        string[] f = text.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
        if (f.Length == 2 && f[1] == PreviousLayout) return new IndexStamp(f[0], null, f[1], null);
        if (f.Length != 4) return null;
        return new IndexStamp(f[0], f[1], f[2], f[3] == "-" ? null : f[3]);
    }

    /// <summary>Does it vouch for the index as it is now?</summary>
    public bool Matches(statx_timestamp dirTime, statx_timestamp? ownersTime) =>
        Layout == OwnerIndex.Format && ownersTime is { } o
        && DirTime == TimeText(dirTime) && OwnersTime == TimeText(o);
}
