using System.Runtime.InteropServices;
using System.Text;

namespace CniVeth.UnitTests.Ipam;

/// <summary>Test-side access to what the store keeps outside file contents: the boot tag (an extended
/// attribute) and exact modification times.</summary>
internal static partial class StoreFiles
{
    public const string TagName = "user.cniveth.boot";

    [LibraryImport("libc", EntryPoint = "lgetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint LGetXattr(string path, string name, byte[] value, nuint size);

    [LibraryImport("libc", EntryPoint = "lsetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LSetXattr(string path, string name, byte[] value, nuint size, int flags);

    [LibraryImport("libc", EntryPoint = "lremovexattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LRemoveXattr(string path, string name);

    /// <summary>The file's boot tag, or null when it has none.</summary>
    public static string? Tag(string path)
    {
        var buffer = new byte[256];
        nint n = LGetXattr(path, TagName, buffer, (nuint)buffer.Length);
        return n < 0 ? null : Encoding.ASCII.GetString(buffer, 0, (int)n);
    }

    public static void SetTag(string path, string value)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(value);
        if (LSetXattr(path, TagName, bytes, (nuint)bytes.Length, 0) != 0)
            throw new IOException($"lsetxattr {path}: errno {Marshal.GetLastPInvokeError()}");
    }

    public static void RemoveTag(string path) => LRemoveXattr(path, TagName);

    /// <summary>A clock step as the files see it: their mtime far in the past or the future.</summary>
    public static void SetMtime(string path, DateTime utc) => File.SetLastWriteTimeUtc(path, utc);

    /// <summary>What a store written without tags holds (an earlier release, a filesystem without user
    /// xattrs). Removing an xattr changes neither the directory nor its mtime.</summary>
    public static void Untag(string path) => RemoveTag(path);
}
