using CniVeth.Cni;

namespace CniVeth.Netlink;

/// <summary>The kernel refused a netlink request (code 999). The message names the operation, the errno
/// and, when the kernel sent one, its extended-ack text.</summary>
internal sealed class NetlinkException : CniFailure
{
    public int Errno { get; }
    public string Operation { get; }
    public string? KernelMessage { get; }
    public override int Code => ErrorCode.Internal;

    public NetlinkException(string operation, int errno, string? kernelMessage = null)
        : base(Format(operation, errno, kernelMessage))
    {
        Operation = operation;
        Errno = errno;
        KernelMessage = kernelMessage;
    }

    private static string Format(string op, int errno, string? km)
    {
        string described = global::Errno.Describe(errno);
        return $"{op}: {described}" + (string.IsNullOrEmpty(km) ? "" : $" (kernel: {km})");
    }
}
