namespace CniVeth.Netlink;

/// <summary>Outcome of one request: 0 or a positive errno, and the kernel's extended-ack text.</summary>
internal readonly record struct NetlinkAck(int Errno, string? KernelMessage)
{
    public bool Ok => Errno == 0;
}

/// <summary>
/// One request of a RequestBatch: what it does (the text errors carry, e.g. <c>adding route 0.0.0.0/0 via
/// 10.88.0.1 in the container</c>), which errnos count as done (EEXIST for an address that is already
/// there), and, once sent, how it went.
/// </summary>
internal sealed class NetlinkOp(string description, int[] tolerated)
{
    public string Description { get; } = description;
    public bool Sent { get; private set; }
    /// <summary>0 on success, else the kernel's errno.</summary>
    public int Errno { get; private set; }
    public string? KernelMessage { get; private set; }

    public bool Succeeded => Sent && Errno == 0;
    /// <summary>Succeeded, or failed with a tolerated errno.</summary>
    public bool Done => Sent && (Errno == 0 || Array.IndexOf(tolerated, Errno) >= 0);

    internal void Complete(NetlinkAck ack)
    {
        Sent = true;
        Errno = ack.Errno;
        KernelMessage = ack.KernelMessage;
    }

    public NetlinkException ToException() => new(Description, Errno, KernelMessage);
}
