using System.Runtime.InteropServices;

internal static partial class Interop
{
    internal static partial class Libc
    {
        // Not in Tmds.LibC 0.5.0 (it has fstatvfs, whose struct carries no filesystem type).

        /// <summary>f_type of a namespace file (nsfs).</summary>
        internal const long NSFS_MAGIC = 0x6e736673;

        /// <summary>struct statfs on x86-64/arm64 is 120 bytes; f_type is its first field.</summary>
        [StructLayout(LayoutKind.Sequential, Size = 120)]
        internal struct StatFs
        {
            public long Type;
        }

        [LibraryImport(Libraries.Libc, EntryPoint = "fstatfs", SetLastError = true)]
        private static unsafe partial int FStatFsRaw(int fd, StatFs* buf);

        /// <summary>The filesystem type (f_type) of an open file, or null when fstatfs fails.</summary>
        internal static unsafe long? FileSystemType(SafeFd fd)
        {
            StatFs st;
            return FStatFsRaw(fd.Fd, &st) == 0 ? st.Type : null;
        }
    }
}
