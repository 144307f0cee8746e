using System.Runtime.InteropServices;

internal static partial class Interop
{
    internal static partial class Libc
    {
        [LibraryImport(Libraries.Libc, EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial int Open(string path, int flags, int mode);

        /// <summary>open(2) returning an owned fd; Invalid on failure (errno in Marshal.GetLastPInvokeError).</summary>
        internal static SafeFd OpenFd(string path, int flags, int mode = 0)
        {
            int fd = Open(path, flags | OpenFlags.O_CLOEXEC, mode);
            return fd < 0 ? new SafeFd() : new SafeFd(fd);
        }

        internal static class OpenFlags
        {
            public const int O_RDONLY = 0x0;
            public const int O_WRONLY = 0x1;
            public const int O_RDWR = 0x2;
            public const int O_CREAT = 0x40;
            public const int O_EXCL = 0x80;
            public const int O_TRUNC = 0x200;
            public const int O_NONBLOCK = 0x800;
            public const int O_DIRECTORY = 0x10000;
            public const int O_NOFOLLOW = 0x20000;
            public const int O_CLOEXEC = 0x80000;
            public const int AT_FDCWD = -100;
        }

        /// <summary>openat(2): every store file is opened relative to the network directory's fd.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int OpenAt(int dirFd, string path, int flags, uint mode);
    }
}
