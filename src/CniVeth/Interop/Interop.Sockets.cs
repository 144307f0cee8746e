using System.Runtime.InteropServices;
using Tmds.Linux;

internal static partial class Interop
{
    internal static partial class Libc
    {
        public static readonly int SOCK_RAW = LibC.SOCK_RAW, SOCK_CLOEXEC = LibC.SOCK_CLOEXEC, SOL_SOCKET = LibC.SOL_SOCKET,
            SO_RCVBUF = LibC.SO_RCVBUF, SO_RCVBUFFORCE = LibC.SO_RCVBUFFORCE, SO_SNDBUF = LibC.SO_SNDBUF,
            SOL_NETLINK = LibC.SOL_NETLINK, MSG_TRUNC = LibC.MSG_TRUNC, MSG_PEEK = LibC.MSG_PEEK;
        public static readonly ushort AF_NETLINK = (ushort)LibC.AF_NETLINK;

        /// <summary>struct sockaddr_nl (not in Tmds.LibC 0.5.0).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct SockaddrNl
        {
            public ushort Family;
            public ushort Pad;
            public uint Pid;
            public uint Groups;
        }

        public static SafeFd Socket(int domain, int type, int protocol) =>
            SafeFd.FromResult(LibC.socket(domain, type | SOCK_CLOEXEC, protocol));

        public static unsafe int BindNetlink(SafeFd fd)
        {
            var addr = new SockaddrNl { Family = AF_NETLINK };
            return LibC.bind(fd.Fd, (sockaddr*)&addr, (socklen_t)(uint)sizeof(SockaddrNl));
        }

        public static unsafe int SetSockOptInt(SafeFd fd, int level, int name, int value) =>
            LibC.setsockopt(fd.Fd, level, name, &value, (socklen_t)(uint)sizeof(int));

        public static unsafe nint Send(SafeFd fd, ReadOnlySpan<byte> buffer, int flags)
        {
            fixed (byte* p = buffer) return (nint)(long)LibC.send(fd.Fd, p, (size_t)buffer.Length, flags);
        }

        public static unsafe nint Recv(SafeFd fd, Span<byte> buffer, int flags)
        {
            fixed (byte* p = buffer) return (nint)(long)LibC.recv(fd.Fd, p, (size_t)buffer.Length, flags);
        }
    }
}
