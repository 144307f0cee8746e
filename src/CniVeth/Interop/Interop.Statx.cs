using System.Runtime.InteropServices;

internal static partial class Interop
{
    internal static partial class Libc
    {
        internal const int AT_SYMLINK_NOFOLLOW = 0x100;
        internal const int AT_EMPTY_PATH = 0x1000;
        internal const uint STATX_BASIC_STATS = 0x7ff;
        internal const ushort S_IFMT = 0xF000;
        internal const ushort S_IFREG = 0x8000;
        internal const ushort S_IFDIR = 0x4000;

        [StructLayout(LayoutKind.Sequential)]
        internal struct StatxTimestamp
        {
            public long Seconds;
            public uint Nanoseconds;
            private int _reserved;
        }

        /// <summary>struct statx: the same layout on every architecture (unlike struct stat).</summary>
        [StructLayout(LayoutKind.Sequential, Size = 256)]
        internal struct Statx
        {
            public uint Mask;
            public uint BlockSize;
            public ulong Attributes;
            public uint LinkCount;
            public uint Uid;
            public uint Gid;
            public ushort Mode;
            private ushort _spare0;
            public ulong Inode;
            public ulong Size;
            public ulong Blocks;
            public ulong AttributesMask;
            public StatxTimestamp AccessTime;
            public StatxTimestamp BirthTime;
            public StatxTimestamp ChangeTime;
            public StatxTimestamp ModifyTime;
            public uint RdevMajor;
            public uint RdevMinor;
            public uint DevMajor;
            public uint DevMinor;
        }

        [LibraryImport(Libraries.Libc, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int StatX(int dirFd, string path, int flags, uint mask, out Statx result);
    }
}
