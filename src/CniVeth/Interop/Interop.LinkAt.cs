using System.Runtime.InteropServices;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>linkat(2) without AT_SYMLINK_FOLLOW: publishes a file under a new name, EEXIST if taken.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "linkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int LinkAt(int oldDirFd, string oldPath, int newDirFd, string newPath, int flags);
    }
}
