using System.Text;
using static Interop.Libc;

namespace CniVeth.Ipam.Store;

/// <summary>
/// The boot a reservation file was seen in: the extended attribute user.cniveth.boot holds the boot id
/// current when we wrote the file (set on the scratch file before it is linked to its IP name), or when we
/// first saw a file someone else wrote (an index rebuild tags it). It lives on the inode, so it identifies
/// that very file: a file deleted and re-created under the same name (by the reference plugin, say) has
/// no tag, and no clock is involved. A file tagged with a boot id other than the current one was seen
/// during an earlier boot, so it cannot belong to a live container: the reboot sweep releases it.
/// Filesystems without user xattrs simply leave files untagged (kept: see BootSweep).
/// </summary>
internal static class BootTag
{
    public const string Name = "user.cniveth.boot";
    private static ReadOnlySpan<byte> NameZ => "user.cniveth.boot\0"u8;
    private const int MaxLength = 64;

    public enum State { Absent, Present, Unreadable }

    /// <summary>A boot id we record and compare: 1 to 64 printable ASCII characters without spaces. The
    /// kernel's is a UUID; tests use their own names (CNIVETH_BOOT_ID_FILE).</summary>
    public static bool IsValidBootId(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > MaxLength) return false;
        foreach (char c in id)
            if (c <= ' ' || c > '~') return false;
        return true;
    }

    /// <summary>The kernel's boot id shape (8-4-4-4-12 hex digits).</summary>
    public static bool IsKernelBootId(string? id)
    {
        if (id is null || id.Length != 36) return false;
        for (int i = 0; i < id.Length; i++)
        {
            bool dash = i is 8 or 13 or 18 or 23;
            if (dash ? id[i] != '-' : !char.IsAsciiHexDigit(id[i])) return false;
        }
        return true;
    }

    /// <summary>The tag of an open file.</summary>
    public static (State State, string Value) Read(SafeFd fd)
    {
        Span<byte> buffer = stackalloc byte[MaxLength + 1];
        nint n = FGetXattr(fd, NameZ, buffer);
        if (n < 0) return (Errno.Last == Errno.ENODATA ? State.Absent : State.Unreadable, "");
        string value = Encoding.ASCII.GetString(buffer[..(int)n]);
        return IsValidBootId(value) ? (State.Present, value) : (State.Unreadable, "");
    }

    /// <summary>The value written for a (valid) boot id.</summary>
    public static byte[] Value(string bootId) => Encoding.ASCII.GetBytes(bootId);

    /// <summary>Tags an open file with a Value; best effort (a filesystem without user xattrs, a full
    /// disk): an untagged file is only ever kept, never released by mistake.</summary>
    public static void TrySet(SafeFd fd, byte[] value, bool onlyIfAbsent) =>
        FSetXattr(fd, NameZ, value, onlyIfAbsent ? XATTR_CREATE : 0);
}
