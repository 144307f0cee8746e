using System.Runtime.InteropServices;

internal static partial class Interop
{
    internal static partial class Libc
    {
        [LibraryImport(Libraries.Libc, EntryPoint = "renameat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int RenameAt(int oldDirFd, string oldPath, int newDirFd, string newPath);
    }
}
