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

        /// <summary>ioctl SIOCGIFINDEX on any socket: a link's index by name in the socket's namespace, or 0.</summary>
        public static unsafe int InterfaceIndex(SafeFd fd, string name)
        {
            const int IfNameSize = 16, IfReqSize = 40; // struct ifreq on 64-bit Linux: name, then ifr_ifindex
            byte* ifr = stackalloc byte[IfReqSize];
            new Span<byte>(ifr, IfReqSize).Clear();
            if (System.Text.Encoding.UTF8.GetByteCount(name) >= IfNameSize) return 0;
            System.Text.Encoding.UTF8.GetBytes(name, new Span<byte>(ifr, IfNameSize - 1));
            return LibC.ioctl(fd.Fd, LibC.SIOCGIFINDEX, ifr) == 0 ? *(int*)(ifr + IfNameSize) : 0;
        }

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
