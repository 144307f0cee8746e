using System.Runtime.InteropServices;

internal static partial class Interop
{
    internal static partial class Libc
    {
        // Not in Tmds.LibC 0.5.0.
        [LibraryImport(Libraries.Libc, EntryPoint = "renameat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        private static partial int RenameAtRaw(int oldDirFd, string oldPath, int newDirFd, string newPath);

        internal static int RenameAt(SafeFd oldDir, string oldPath, SafeFd newDir, string newPath) =>
            RenameAtRaw(oldDir.Fd, oldPath, newDir.Fd, newPath);
    }
}
