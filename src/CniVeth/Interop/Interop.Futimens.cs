using System.Runtime.InteropServices;

internal static partial class Interop
{
    internal static partial class Libc
    {
        internal const long UTIME_OMIT = (1L << 30) - 2;

        [StructLayout(LayoutKind.Sequential)]
        internal struct TimeSpec
        {
            public long Seconds;
            public long Nanoseconds;
        }

        /// <summary>futimens(2); times[0] = atime, times[1] = mtime.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "futimens", SetLastError = true)]
        internal static unsafe partial int Futimens(int fd, TimeSpec* times);
    }
}
