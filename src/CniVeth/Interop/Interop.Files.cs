using System.Text;
using Tmds.Linux;

internal static partial class Interop
{
    /// <summary>Thin typed wrappers over Tmds.LibC: strings become NUL-terminated UTF-8, fds are SafeFd, and
    /// every descriptor opened here is O_CLOEXEC. Failures are returned as libc returns them (errno in
    /// Errno.Last); callers turn them into errors that name the object.</summary>
    internal static partial class Libc
    {
        public static readonly int O_RDONLY = LibC.O_RDONLY, O_WRONLY = LibC.O_WRONLY, O_RDWR = LibC.O_RDWR,
            O_CREAT = LibC.O_CREAT, O_EXCL = LibC.O_EXCL, O_TRUNC = LibC.O_TRUNC, O_APPEND = LibC.O_APPEND,
            O_NONBLOCK = LibC.O_NONBLOCK, O_DIRECTORY = LibC.O_DIRECTORY, O_NOFOLLOW = LibC.O_NOFOLLOW,
            O_CLOEXEC = LibC.O_CLOEXEC, AT_FDCWD = LibC.AT_FDCWD, AT_SYMLINK_NOFOLLOW = LibC.AT_SYMLINK_NOFOLLOW,
            AT_EMPTY_PATH = LibC.AT_EMPTY_PATH;
        public static readonly uint STATX_BASIC_STATS = LibC.STATX_BASIC_STATS;
        public static readonly uint S_IFMT = (uint)LibC.S_IFMT, S_IFREG = (uint)LibC.S_IFREG, S_IFDIR = (uint)LibC.S_IFDIR;
        public static readonly long UTIME_OMIT = (long)LibC.UTIME_OMIT;

        /// <summary>NUL-terminated UTF-8 for a path argument.</summary>
        private static byte[] Z(string s)
        {
            var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
            Encoding.UTF8.GetBytes(s, bytes);
            return bytes;
        }

        public static unsafe SafeFd Open(string path, int flags, uint mode = 0)
        {
            fixed (byte* p = Z(path)) return SafeFd.FromResult(LibC.open(p, flags | O_CLOEXEC, (mode_t)mode));
        }

        public static unsafe SafeFd OpenAt(SafeFd dir, string path, int flags, uint mode = 0)
        {
            fixed (byte* p = Z(path)) return SafeFd.FromResult(LibC.openat(dir.Fd, p, flags | O_CLOEXEC, (mode_t)mode));
        }

        public static unsafe int MkdirAt(SafeFd? dir, string path, uint mode)
        {
            fixed (byte* p = Z(path)) return LibC.mkdirat(dir?.Fd ?? AT_FDCWD, p, (mode_t)mode);
        }

        /// <summary>linkat(2) without AT_SYMLINK_FOLLOW: publishes a file under a new name, EEXIST if taken.</summary>
        public static unsafe int LinkAt(SafeFd oldDir, string oldPath, SafeFd newDir, string newPath)
        {
            fixed (byte* o = Z(oldPath)) fixed (byte* n = Z(newPath)) return LibC.linkat(oldDir.Fd, o, newDir.Fd, n, 0);
        }

        public static unsafe int UnlinkAt(SafeFd dir, string path, int flags = 0)
        {
            fixed (byte* p = Z(path)) return LibC.unlinkat(dir.Fd, p, flags);
        }

        /// <summary>statx(2) relative to <paramref name="dir"/> (null: the current directory).</summary>
        public static unsafe int StatX(SafeFd? dir, string path, int flags, out statx result)
        {
            statx st;
            int rc;
            fixed (byte* p = Z(path)) rc = LibC.statx(dir?.Fd ?? AT_FDCWD, p, flags, STATX_BASIC_STATS, &st);
            result = st;
            return rc;
        }

        /// <summary>Sets the mtime of an open file, atime untouched.</summary>
        public static unsafe int SetModifyTime(SafeFd fd, long seconds, long nanoseconds)
        {
            timespec* times = stackalloc timespec[2];
            times[0].tv_sec = 0;
            times[0].tv_nsec = (long_t)UTIME_OMIT;
            times[1].tv_sec = seconds;
            times[1].tv_nsec = (long_t)nanoseconds;
            return LibC.futimens(fd.Fd, times);
        }

        public static unsafe nint Read(SafeFd fd, Span<byte> into)
        {
            fixed (byte* p = into) return (nint)(long)LibC.read(fd.Fd, p, (size_t)into.Length);
        }

        public static unsafe nint Write(SafeFd fd, ReadOnlySpan<byte> from)
        {
            fixed (byte* p = from) return (nint)(long)LibC.write(fd.Fd, p, (size_t)from.Length);
        }

        public static bool IsATty(int fd) => LibC.isatty(fd) == 1;
    }
}
