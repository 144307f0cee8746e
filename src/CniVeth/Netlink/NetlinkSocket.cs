using System.Buffers.Binary;

namespace CniVeth.Netlink;

/// <summary>Outcome of one request of a batch: 0 or a positive errno, and the kernel's extack text.</summary>
internal readonly record struct NetlinkAck(int Errno, string? KernelMessage)
{
    public bool Ok => Errno == 0;
}

/// <summary>
/// A small synchronous netlink socket: sends a buffer of requests in one send, checks the sequence
/// number of every reply, walks multipart dumps, turns NLMSG_ERROR into errno values and retries dumps
/// interrupted by concurrent changes (NLM_F_DUMP_INTR). A socket stays bound to the network namespace it
/// was created in, so one instance per namespace serves a whole command.
/// </summary>
internal sealed class NetlinkSocket : IDisposable
{
    private const int RecvBufferSize = 64 * 1024;
    private const int DumpRetries = 5;

    private readonly SafeFd _fd;
    // One receive buffer for every socket: a command runs on one thread and its sockets take turns.
    [ThreadStatic] private static byte[]? t_recv;
    private readonly byte[] _recv = t_recv ??= GC.AllocateUninitializedArray<byte>(RecvBufferSize, pinned: true);
    private uint _seq;

    private NetlinkSocket(SafeFd fd)
    {
        _fd = fd;
        _seq = (uint)Environment.TickCount;
    }

    /// <summary>Opens a socket in the calling thread's current network namespace.</summary>
    public static unsafe NetlinkSocket Open(int protocol)
    {
        int fd = Interop.Libc.Socket(Interop.Libc.AF_NETLINK, Interop.Libc.SOCK_RAW | Interop.Libc.SOCK_CLOEXEC, protocol);
        if (fd < 0) throw new NetlinkException("opening netlink socket", Errno.Last);
        var safe = new SafeFd(fd);
        var addr = new Interop.Libc.SockaddrNl { Family = Interop.Libc.AF_NETLINK };
        if (Interop.Libc.Bind(safe, &addr, sizeof(Interop.Libc.SockaddrNl)) != 0)
        {
            int e = Errno.Last;
            safe.Dispose();
            throw new NetlinkException("binding netlink socket", e);
        }
        int one = 1;
        // Extended acks give the kernel's own reason text; strict checking makes dump filters exact.
        // Both are best effort: old kernels lack them.
        Interop.Libc.SetSockOpt(safe, Interop.Libc.SOL_NETLINK, Interop.Libc.NETLINK_EXT_ACK, &one, sizeof(int));
        if (protocol == Nl.NETLINK_ROUTE)
            Interop.Libc.SetSockOpt(safe, Interop.Libc.SOL_NETLINK, Interop.Libc.NETLINK_GET_STRICT_CHK, &one, sizeof(int));
        return new NetlinkSocket(safe);
    }

    /// <summary>Sends every message of the batch in one send and returns one ack per message that asked
    /// for one (NLM_F_ACK), in order. Data replies (e.g. to NLM_F_ECHO) are ignored.</summary>
    public NetlinkAck[] Execute(NetlinkMessageBuilder batch) => ExecuteCore(batch, null);

    /// <summary>Execute for an nfnetlink batch (NFNL_MSG_BATCH_BEGIN ... END): when the kernel rejects the
    /// batch as a whole (no CAP_NET_ADMIN, unknown subsystem, malformed batch) it answers the batch header,
    /// which asked for no ack, and sends nothing else; that error is thrown as a NetlinkException naming
    /// <paramref name="operation"/> instead of waiting forever for the inner acks.</summary>
    public NetlinkAck[] ExecuteBatch(NetlinkMessageBuilder batch, string operation) => ExecuteCore(batch, operation);

    private NetlinkAck[] ExecuteCore(NetlinkMessageBuilder batch, string? failOnUnrequested)
    {
        uint first = Send(batch, out int count);
        var acks = new NetlinkAck[count];
        var pending = new bool[count];
        var asked = new List<int>(count); // messages that requested an ack, in order
        for (int i = 0; i < count; i++)
        {
            ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(batch.Span[(batch.MessageOffsets[i] + 6)..]);
            if ((flags & Nl.F_ACK) != 0) { pending[i] = true; asked.Add(i); }
        }
        int waiting = asked.Count;
        while (waiting > 0)
        {
            int n = Receive();
            var span = new ReadOnlySpan<byte>(_recv, 0, n);
            while (NextMessage(ref span, out ushort type, out _, out uint seq, out ReadOnlySpan<byte> msg))
            {
                int idx = (int)(seq - first);
                if (idx < 0 || idx >= count) continue; // a reply to something else (stale): skip
                if (type == Nl.NLMSG_ERROR && pending[idx])
                {
                    acks[idx] = ParseError(msg);
                    pending[idx] = false;
                    waiting--;
                }
                else if (type == Nl.NLMSG_ERROR && failOnUnrequested != null)
                {
                    NetlinkAck ack = ParseError(msg);
                    if (!ack.Ok) throw new NetlinkException(failOnUnrequested, ack.Errno, ack.KernelMessage);
                }
            }
        }
        // Keep acks aligned with the messages that requested them.
        return asked.ConvertAll(i => acks[i]).ToArray();
    }

    /// <summary>One request with NLM_F_ACK; throws NetlinkException naming <paramref name="operation"/>.</summary>
    public void Request(NetlinkMessageBuilder message, string operation)
    {
        NetlinkAck ack = Execute(message)[0];
        if (!ack.Ok) throw new NetlinkException(operation, ack.Errno, ack.KernelMessage);
    }

    /// <summary>A get request answered by one message, or null when the kernel answers one of
    /// <paramref name="absent"/> errnos (e.g. ENODEV for a missing link).</summary>
    public byte[]? Get(NetlinkMessageBuilder message, string operation, int absent1 = 0, int absent2 = 0)
    {
        uint seq = Send(message, out _);
        while (true)
        {
            int n = Receive();
            var span = new ReadOnlySpan<byte>(_recv, 0, n);
            while (NextMessage(ref span, out ushort type, out _, out uint s, out ReadOnlySpan<byte> msg))
            {
                if (s != seq) continue;
                if (type == Nl.NLMSG_ERROR)
                {
                    NetlinkAck ack = ParseError(msg);
                    if (ack.Ok) continue;
                    if (ack.Errno == absent1 || ack.Errno == absent2) return null;
                    throw new NetlinkException(operation, ack.Errno, ack.KernelMessage);
                }
                return msg.ToArray();
            }
        }
    }

    /// <summary>A dump request (NLM_F_DUMP): every reply message (header included) until NLMSG_DONE.
    /// Restarted when the kernel flags the dump as interrupted by a concurrent change.</summary>
    public List<byte[]> Dump(NetlinkMessageBuilder request, string operation)
    {
        for (int attempt = 0; ; attempt++)
        {
            var messages = new List<byte[]>();
            bool interrupted = false;
            uint seq = Send(request, out _);
            bool done = false;
            while (!done)
            {
                int n = Receive();
                var span = new ReadOnlySpan<byte>(_recv, 0, n);
                while (NextMessage(ref span, out ushort type, out ushort flags, out uint s, out ReadOnlySpan<byte> msg))
                {
                    if (s != seq) continue;
                    if ((flags & Nl.F_DUMP_INTR) != 0) interrupted = true;
                    if (type == Nl.NLMSG_DONE) { done = true; break; }
                    if (type == Nl.NLMSG_ERROR)
                    {
                        NetlinkAck ack = ParseError(msg);
                        if (ack.Ok) { done = true; break; }
                        throw new NetlinkException(operation, ack.Errno, ack.KernelMessage);
                    }
                    messages.Add(msg.ToArray());
                }
            }
            if (!interrupted) return messages;
            if (attempt >= DumpRetries) throw new NetlinkException(operation + " (dump kept changing)", Errno.EINTR);
        }
    }

    public void Dispose() => _fd.Dispose();

    private unsafe uint Send(NetlinkMessageBuilder batch, out int count)
    {
        count = batch.Count;
        uint first = unchecked(++_seq);
        _seq = unchecked(first + (uint)count - 1);
        Span<byte> buf = batch.MutableSpan;
        for (int i = 0; i < count; i++)
        {
            int off = batch.MessageOffsets[i];
            BinaryPrimitives.WriteUInt32LittleEndian(buf[(off + 8)..], unchecked(first + (uint)i));
        }
        fixed (byte* p = buf)
        {
            while (true)
            {
                nint sent = Interop.Libc.Send(_fd, p, buf.Length, 0);
                if (sent >= 0) break;
                int e = Errno.Last;
                if (e == Errno.EINTR) continue;
                throw new NetlinkException("sending netlink request", e);
            }
        }
        return first;
    }

    private unsafe int Receive()
    {
        fixed (byte* p = _recv)
        {
            while (true)
            {
                nint n = Interop.Libc.Recv(_fd, p, _recv.Length, Interop.Libc.MSG_TRUNC);
                if (n >= 0)
                {
                    if (n > _recv.Length) throw new NetlinkException("receiving netlink reply (truncated)", Errno.ENOBUFS);
                    return (int)n;
                }
                int e = Errno.Last;
                if (e == Errno.EINTR) continue;
                throw new NetlinkException("receiving netlink reply", e);
            }
        }
    }

    /// <summary>Splits a received buffer into messages; msg spans the whole message, header included.</summary>
    internal static bool NextMessage(ref ReadOnlySpan<byte> span, out ushort type, out ushort flags, out uint seq,
        out ReadOnlySpan<byte> msg)
    {
        type = 0; flags = 0; seq = 0; msg = default;
        if (span.Length < Nl.HeaderSize) return false;
        int len = (int)BinaryPrimitives.ReadUInt32LittleEndian(span);
        if (len < Nl.HeaderSize || len > span.Length) return false;
        type = BinaryPrimitives.ReadUInt16LittleEndian(span[4..]);
        flags = BinaryPrimitives.ReadUInt16LittleEndian(span[6..]);
        seq = BinaryPrimitives.ReadUInt32LittleEndian(span[8..]);
        msg = span[..len];
        span = span[Math.Min(Nl.Align(len), span.Length)..];
        return true;
    }

    /// <summary>NLMSG_ERROR payload: int error, the offending header (or whole message unless capped), ext-ack TLVs.</summary>
    internal static NetlinkAck ParseError(ReadOnlySpan<byte> msg)
    {
        if (msg.Length < Nl.HeaderSize + 4)
            throw new NetlinkException($"decoding a netlink error reply (truncated: {msg.Length} bytes)", Errno.EIO);
        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(msg[6..]);
        int err = BinaryPrimitives.ReadInt32LittleEndian(msg[Nl.HeaderSize..]);
        string? text = null;
        if ((flags & Nl.F_ACK_TLVS) != 0)
        {
            int innerOffset = Nl.HeaderSize + 4;
            long innerLen = (flags & Nl.F_CAPPED) != 0
                ? Nl.HeaderSize
                : msg.Length >= innerOffset + 4 ? BinaryPrimitives.ReadUInt32LittleEndian(msg[innerOffset..]) : long.MaxValue;
            long tlvStart = innerOffset + ((innerLen + 3) & ~3L);
            if (innerLen >= Nl.HeaderSize && tlvStart < msg.Length)
            {
                var r = new AttributeReader(msg[(int)tlvStart..]);
                while (r.Next(out ushort t, out ReadOnlySpan<byte> v))
                    if (t == Nl.NLMSGERR_ATTR_MSG) text = AttributeReader.String(v);
            }
        }
        return new NetlinkAck(-err, text);
    }
}
