using System.Runtime.InteropServices;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>f_type of a namespace file (nsfs).</summary>
        internal const long NSFS_MAGIC = 0x6e736673;
        /// <summary>f_type of /proc.</summary>
        internal const long PROC_SUPER_MAGIC = 0x9fa0;

        /// <summary>struct statfs on x86-64/arm64 is 120 bytes; f_type is its first field.</summary>
        [StructLayout(LayoutKind.Sequential, Size = 120)]
        internal struct StatFs
        {
            public long Type;
        }

        [LibraryImport(Libraries.Libc, EntryPoint = "fstatfs", SetLastError = true)]
        internal static unsafe partial int FStatFs(SafeFd fd, StatFs* buf);
    }
}
