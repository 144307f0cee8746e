using System.Runtime.InteropServices;

internal static partial class Interop
{
    internal static partial class Libc
    {
        internal const int AF_NETLINK = 16;
        internal const int SOCK_RAW = 3;
        internal const int SOCK_CLOEXEC = 0x80000;
        internal const int SOL_SOCKET = 1;
        internal const int SO_SNDBUF = 7;
        internal const int SO_RCVBUF = 8;
        internal const int SOL_NETLINK = 270;
        internal const int NETLINK_EXT_ACK = 11;
        internal const int NETLINK_GET_STRICT_CHK = 12;
        internal const int MSG_TRUNC = 0x20;

        [StructLayout(LayoutKind.Sequential)]
        internal struct SockaddrNl
        {
            public ushort Family;
            public ushort Pad;
            public uint Pid;
            public uint Groups;
        }

        [LibraryImport(Libraries.Libc, EntryPoint = "socket", SetLastError = true)]
        internal static partial int Socket(int domain, int type, int protocol);

        [LibraryImport(Libraries.Libc, EntryPoint = "bind", SetLastError = true)]
        internal static unsafe partial int Bind(SafeFd fd, SockaddrNl* addr, int addrlen);

        [LibraryImport(Libraries.Libc, EntryPoint = "setsockopt", SetLastError = true)]
        internal static unsafe partial int SetSockOpt(SafeFd fd, int level, int name, void* value, int len);

        [LibraryImport(Libraries.Libc, EntryPoint = "send", SetLastError = true)]
        internal static unsafe partial nint Send(SafeFd fd, byte* buf, nint len, int flags);

        [LibraryImport(Libraries.Libc, EntryPoint = "recv", SetLastError = true)]
        internal static unsafe partial nint Recv(SafeFd fd, byte* buf, nint len, int flags);
    }
}
