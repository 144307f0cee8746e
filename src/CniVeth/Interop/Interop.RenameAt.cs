using System.Runtime.InteropServices;

internal static partial class Interop
{
    internal static partial class Libc
    {
        [LibraryImport("libc", EntryPoint = "renameat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int RenameAt(int oldDirFd, string oldPath, int newDirFd, string newPath);
    }
}
