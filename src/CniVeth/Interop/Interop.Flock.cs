using System.Runtime.InteropServices;

internal static partial class Interop
{
    internal static partial class Libc
    {
        // Not in Tmds.LibC 0.5.0.
        internal const int LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8;

        [LibraryImport(Libraries.Libc, EntryPoint = "flock", SetLastError = true)]
        private static partial int FlockRaw(int fd, int operation);

        internal static int Flock(SafeFd fd, int operation) => FlockRaw(fd.Fd, operation);
    }
}
