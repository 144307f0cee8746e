using System.Runtime.InteropServices;

internal static partial class Interop
{
    internal static partial class Libc
    {
        // Not in Tmds.LibC 0.5.0. The IPAM store tags each reservation file with the boot it was seen in.
        internal const int XATTR_CREATE = 1;

        [LibraryImport(Libraries.Libc, EntryPoint = "fgetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        private static unsafe partial nint FGetXattrRaw(int fd, string name, byte* value, nuint size);

        [LibraryImport(Libraries.Libc, EntryPoint = "fsetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        private static unsafe partial int FSetXattrRaw(int fd, string name, byte* value, nuint size, int flags);

        /// <summary>fgetxattr(2): the value's length, or -1 (errno in Errno.Last; ENODATA when absent).</summary>
        internal static unsafe nint FGetXattr(SafeFd fd, string name, Span<byte> value)
        {
            fixed (byte* p = value) return FGetXattrRaw(fd.Fd, name, p, (nuint)value.Length);
        }

        /// <summary>fsetxattr(2): 0, or -1 (errno in Errno.Last; EEXIST with XATTR_CREATE when present).</summary>
        internal static unsafe int FSetXattr(SafeFd fd, string name, ReadOnlySpan<byte> value, int flags)
        {
            fixed (byte* p = value) return FSetXattrRaw(fd.Fd, name, p, (nuint)value.Length, flags);
        }
    }
}
