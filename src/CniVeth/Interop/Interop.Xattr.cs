using System.Runtime.InteropServices;

internal static partial class Interop
{
    internal static partial class Libc
    {
        // Not in Tmds.LibC 0.5.0. The IPAM store tags each reservation file with the boot it was seen in.
        internal const int XATTR_CREATE = 1;

        [LibraryImport(Libraries.Libc, EntryPoint = "fgetxattr", SetLastError = true)]
        private static unsafe partial nint FGetXattrRaw(int fd, byte* name, byte* value, nuint size);

        [LibraryImport(Libraries.Libc, EntryPoint = "fsetxattr", SetLastError = true)]
        private static unsafe partial int FSetXattrRaw(int fd, byte* name, byte* value, nuint size, int flags);

        /// <summary>fgetxattr(2) with a NUL-terminated name: the value's length, or -1 (errno in Errno.Last;
        /// ENODATA when absent).</summary>
        internal static unsafe nint FGetXattr(SafeFd fd, ReadOnlySpan<byte> nameZ, Span<byte> value)
        {
            fixed (byte* n = nameZ) fixed (byte* p = value) return FGetXattrRaw(fd.Fd, n, p, (nuint)value.Length);
        }

        /// <summary>fsetxattr(2) with a NUL-terminated name: 0, or -1 (errno in Errno.Last; EEXIST with
        /// XATTR_CREATE when present).</summary>
        internal static unsafe int FSetXattr(SafeFd fd, ReadOnlySpan<byte> nameZ, ReadOnlySpan<byte> value, int flags)
        {
            fixed (byte* n = nameZ) fixed (byte* p = value) return FSetXattrRaw(fd.Fd, n, p, (nuint)value.Length, flags);
        }
    }
}
