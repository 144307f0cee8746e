using System.Runtime.InteropServices;

internal static partial class Interop
{
    internal static partial class Libc
    {
        internal static class FlockOperations
        {
            public const int LOCK_EX = 2;
            public const int LOCK_NB = 4;
            public const int LOCK_UN = 8;
        }

        [LibraryImport(Libraries.Libc, EntryPoint = "flock", SetLastError = true)]
        internal static partial int Flock(int fd, int operation);
    }
}
