using System.Buffers.Binary;

namespace CniVeth.Netlink;

/// <summary>
/// A small synchronous netlink socket: sends requests, checks the sequence number of every reply, walks
/// multipart dumps, turns NLMSG_ERROR into errno values and retries dumps interrupted by concurrent changes
/// (NLM_F_DUMP_INTR). A socket stays bound to the network namespace it was created in, so one instance per
/// namespace serves a whole command.
/// </summary>
internal sealed class NetlinkSocket : IDisposable
{
    private const int RecvBufferSize = 64 * 1024;
    private const int DumpRetries = 5;
    /// <summary>Every ack is its own skb of ~1 KB truesize in the socket's receive queue, so the default
    /// 208 KB buffer overflows (ENOBUFS) at ~270 outstanding acks, and one send larger than the send
    /// buffer is EMSGSIZE: requests that need not be atomic go out in chunks of this many messages/bytes.</summary>
    internal const int ChunkMessages = 64, ChunkBytes = 32 * 1024;
    /// <summary>Receive buffer asked for per ack of an atomic batch (which cannot be chunked).</summary>
    private const int ReceiveBytesPerAck = 2048;

    private readonly SafeFd _fd;
    // One receive buffer for every socket: a command runs on one thread and its sockets take turns.
    [ThreadStatic] private static byte[]? t_recv;
    private readonly byte[] _recv = t_recv ??= GC.AllocateUninitializedArray<byte>(RecvBufferSize, pinned: true);
    private uint _seq;
    private int _receiveBuffer; // what SO_RCVBUFFORCE was raised to, 0 = the kernel default

    /// <summary>A socket over an already open descriptor (tests give it one end of a socketpair).</summary>
    internal NetlinkSocket(SafeFd fd)
    {
        _fd = fd;
        _seq = (uint)Environment.TickCount;
    }

    /// <summary>Opens a socket in the calling thread's current network namespace.</summary>
    public static NetlinkSocket Open(int protocol)
    {
        SafeFd safe = Interop.Libc.Socket(Interop.Libc.AF_NETLINK, Interop.Libc.SOCK_RAW, protocol);
        if (safe.IsInvalid) throw new NetlinkException("opening netlink socket", Errno.Last);
        if (Interop.Libc.BindNetlink(safe) != 0)
        {
            int e = Errno.Last;
            safe.Dispose();
            throw new NetlinkException("binding netlink socket", e);
        }
        // Extended acks give the kernel's own reason text; strict checking makes dump filters exact.
        // Both are best effort: old kernels lack them.
        Interop.Libc.SetSockOptInt(safe, Interop.Libc.SOL_NETLINK, Nl.NETLINK_EXT_ACK, 1);
        if (protocol == Nl.NETLINK_ROUTE)
            Interop.Libc.SetSockOptInt(safe, Interop.Libc.SOL_NETLINK, Nl.NETLINK_GET_STRICT_CHK, 1);
        return new NetlinkSocket(safe);
    }

    /// <summary>Sends the requests (in order; in chunks when there are many, see ChunkMessages) and returns
    /// one ack per message that asked for one (NLM_F_ACK), in order. Data replies (e.g. to NLM_F_ECHO) are
    /// ignored.</summary>
    public NetlinkAck[] Execute(NetlinkMessageBuilder requests)
    {
        var acks = new List<NetlinkAck>(requests.Count);
        int start = 0;
        while (start < requests.Count)
        {
            // At least one message per chunk; more while the chunk stays within both limits.
            int end = start + 1;
            while (end < requests.Count && end - start < ChunkMessages
                   && EndOf(requests, end) - requests.MessageOffsets[start] <= ChunkBytes)
                end++;
            acks.AddRange(ExecuteRange(requests, start, end, null));
            start = end;
        }
        return acks.ToArray();
    }

    private static int EndOf(NetlinkMessageBuilder messages, int index) =>
        index + 1 < messages.Count ? messages.MessageOffsets[index + 1] : messages.Span.Length;

    /// <summary>Sends an nfnetlink batch (NFNL_MSG_BATCH_BEGIN ... END) in one piece, as the kernel applies it
    /// atomically. When the kernel rejects the batch as a whole (no CAP_NET_ADMIN, unknown subsystem, malformed
    /// batch) it answers the batch header, which asked for no ack, and sends nothing else; that error is thrown
    /// as a NetlinkException naming <paramref name="operation"/> instead of waiting forever for the inner acks.</summary>
    public NetlinkAck[] ExecuteBatch(NetlinkMessageBuilder batch, string operation)
    {
        EnsureReceiveBuffer(batch.Count * ReceiveBytesPerAck);
        return ExecuteRange(batch, 0, batch.Count, operation);
    }

    private NetlinkAck[] ExecuteRange(NetlinkMessageBuilder batch, int from, int to, string? failOnUnrequested)
    {
        uint first = Send(batch, from, to);
        int count = to - from;
        var acks = new NetlinkAck[count];
        var pending = new bool[count];
        var asked = new List<int>(count); // messages that requested an ack, in order
        for (int i = 0; i < count; i++)
        {
            ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(batch.Span[(batch.MessageOffsets[from + i] + 6)..]);
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

    /// <summary>Raises the receive buffer (root may exceed net.core.rmem_max) when many acks will be
    /// outstanding at once; best effort, and never lowered.</summary>
    private void EnsureReceiveBuffer(int bytes)
    {
        if (bytes <= 200 * 1024 || bytes <= _receiveBuffer) return;
        bytes = Math.Min(bytes, 64 << 20);
        if (Interop.Libc.SetSockOptInt(_fd, Interop.Libc.SOL_SOCKET, Interop.Libc.SO_RCVBUFFORCE, bytes) == 0)
            _receiveBuffer = bytes;
    }

    /// <summary>A get request answered by one message, or null when the kernel answers one of
    /// <paramref name="absent"/> errnos (e.g. ENODEV for a missing link).</summary>
    public byte[]? Get(NetlinkMessageBuilder message, string operation, int absent1 = 0, int absent2 = 0)
    {
        uint seq = Send(message, 0, message.Count);
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
            uint seq = Send(request, 0, request.Count);
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

    /// <summary>A link's index by name (SIOCGIFINDEX on this socket), 0 when there is none.</summary>
    public int InterfaceIndex(string name) => Interop.Libc.InterfaceIndex(_fd, name);

    public void Dispose() => _fd.Dispose();

    /// <summary>Numbers messages [from, to) with consecutive sequence numbers and sends them in one send;
    /// returns the first number.</summary>
    private uint Send(NetlinkMessageBuilder batch, int from, int to)
    {
        int count = to - from;
        uint first = unchecked(++_seq);
        _seq = unchecked(first + (uint)count - 1);
        Span<byte> buf = batch.MutableSpan;
        for (int i = 0; i < count; i++)
        {
            int off = batch.MessageOffsets[from + i];
            BinaryPrimitives.WriteUInt32LittleEndian(buf[(off + 8)..], unchecked(first + (uint)i));
        }
        int startByte = batch.MessageOffsets[from];
        int endByte = to < batch.Count ? batch.MessageOffsets[to] : buf.Length;
        ReadOnlySpan<byte> bytes = buf[startByte..endByte];
        while (true)
        {
            nint sent = Interop.Libc.Send(_fd, bytes, 0);
            if (sent >= 0) break;
            int e = Errno.Last;
            if (e == Errno.EINTR) continue;
            throw new NetlinkException("sending netlink request", e);
        }
        return first;
    }

    private int Receive()
    {
        while (true)
        {
            nint n = Interop.Libc.Recv(_fd, _recv, Interop.Libc.MSG_TRUNC);
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
