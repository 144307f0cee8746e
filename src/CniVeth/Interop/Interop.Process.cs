using Tmds.Linux;

internal static partial class Interop
{
    internal static partial class Libc
    {
        public static readonly int CLONE_NEWNET = LibC.CLONE_NEWNET, SIGINT = LibC.SIGINT, SIGTERM = LibC.SIGTERM,
            SIGPIPE = LibC.SIGPIPE;

        /// <summary>ioctl NS_GET_NSTYPE (linux/nsfs.h, kernel 4.11+): the CLONE_NEW* kind of a namespace fd, or -1.</summary>
        public static int NamespaceType(SafeFd fd) => LibC.ioctl(fd.Fd, 0xb703);

        /// <summary>setns(2): moves only the calling thread into the namespace.</summary>
        public static int Setns(SafeFd fd, int nsType) => LibC.setns(fd.Fd, nsType);

        /// <summary>Process-wide SIG_IGN for <paramref name="signal"/> (sigaction; inherited across exec).</summary>
        public static unsafe int IgnoreSignal(int signal)
        {
            sigaction action = default;
            action.sa_handler = LibC.SIG_IGN;
            return LibC.sigaction(signal, &action, null);
        }
    }
}
