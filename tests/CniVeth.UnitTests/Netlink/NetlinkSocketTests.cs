using System.Buffers.Binary;
using System.Runtime.InteropServices;
using CniVeth.Netlink;

namespace CniVeth.UnitTests.Netlink;

/// <summary>
/// NetlinkSocket against a fake kernel on the other end of a socketpair (SOCK_SEQPACKET keeps datagram
/// boundaries, as netlink does): sequence matching, multipart dumps, interrupted dumps, chunked sends.
/// </summary>
public partial class NetlinkSocketTests
{
    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int socketpair(int domain, int type, int protocol, int* fds);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int shutdown(int fd, int how);

    private const ushort RTM_GETLINK = 18, RTM_NEWLINK = 16;

    /// <summary>The fake kernel: for each datagram it receives, <paramref name="answer"/> returns the datagrams to send back.</summary>
    private sealed class FakeKernel : IDisposable
    {
        private readonly SafeFd _end;
        private readonly Thread _thread;
        public readonly List<List<(ushort Type, ushort Flags, uint Seq)>> Received = new();

        public FakeKernel(SafeFd end, Func<List<(ushort Type, ushort Flags, uint Seq)>, IEnumerable<byte[]>> answer)
        {
            _end = end;
            _thread = new Thread(() =>
            {
                var buf = new byte[1 << 20];
                while (true)
                {
                    nint n = Interop.Libc.Recv(_end, buf, 0);
                    if (n <= 0) return;
                    var msgs = new List<(ushort, ushort, uint)>();
                    var span = new ReadOnlySpan<byte>(buf, 0, (int)n);
                    while (NetlinkSocket.NextMessage(ref span, out ushort t, out ushort f, out uint s, out _)) msgs.Add((t, f, s));
                    lock (Received) Received.Add(msgs);
                    foreach (byte[] reply in answer(msgs)) Interop.Libc.Send(_end, reply, 0);
                }
            }) { IsBackground = true };
            _thread.Start();
        }

        /// <summary>Stops the thread before the descriptor is closed. Closing it under the thread's recv() let
        /// the thread, once back in its loop, read whatever socket the next test got under the same number
        /// and answer that test's requests with this test's replies: a CI run hung on it.</summary>
        public void Dispose()
        {
            shutdown(_end.Fd, 2 /* SHUT_RDWR: a blocked recv() returns 0 */);
            _thread.Join();
            _end.Dispose();
        }
    }

    private static unsafe (NetlinkSocket Socket, SafeFd KernelEnd) Pair()
    {
        int* fds = stackalloc int[2];
        Assert.Equal(0, socketpair(1 /* AF_UNIX */, 5 /* SOCK_SEQPACKET */, 0, fds));
        return (new NetlinkSocket(new SafeFd(fds[0])), new SafeFd(fds[1]));
    }

    private static byte[] Msg(ushort type, ushort flags, uint seq, ReadOnlySpan<byte> payload = default)
    {
        var m = new byte[Nl.HeaderSize + Nl.Align(payload.Length)];
        BinaryPrimitives.WriteUInt32LittleEndian(m, (uint)(Nl.HeaderSize + payload.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(4), type);
        BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(6), flags);
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(8), seq);
        payload.CopyTo(m.AsSpan(Nl.HeaderSize));
        return m;
    }

    /// <summary>NLMSG_ERROR carrying -errno (0: an ack) and, when given, an extended-ack text.</summary>
    private static byte[] Ack(uint seq, int errno = 0, string? text = null)
    {
        var payload = new NetlinkMessageBuilder();
        byte[] err = new byte[4 + Nl.HeaderSize];
        BinaryPrimitives.WriteInt32LittleEndian(err, -errno);
        BinaryPrimitives.WriteUInt32LittleEndian(err.AsSpan(4), Nl.HeaderSize);
        BinaryPrimitives.WriteUInt32LittleEndian(err.AsSpan(12), seq);
        var body = new List<byte>(err);
        ushort flags = Nl.F_CAPPED;
        if (text is not null)
        {
            flags |= Nl.F_ACK_TLVS;
            byte[] s = System.Text.Encoding.UTF8.GetBytes(text + "\0");
            var attr = new byte[Nl.Align(4 + s.Length)];
            BinaryPrimitives.WriteUInt16LittleEndian(attr, (ushort)(4 + s.Length));
            BinaryPrimitives.WriteUInt16LittleEndian(attr.AsSpan(2), Nl.NLMSGERR_ATTR_MSG);
            s.CopyTo(attr, 4);
            body.AddRange(attr);
        }
        return Msg(Nl.NLMSG_ERROR, flags, seq, body.ToArray());
    }

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    private static NetlinkMessageBuilder Requests(int count, ushort flags = Nl.F_ACK)
    {
        var b = new NetlinkMessageBuilder();
        for (int i = 0; i < count; i++) b.BeginMessage(RTM_NEWLINK, flags).Struct(new CniVeth.Netlink.Route.IfInfoMsg { Index = i + 1 }).EndMessage();
        return b;
    }

    [Fact]
    public void AcksAreMatchedBySequenceNotByOrderAndStaleRepliesAreSkipped()
    {
        var (socket, end) = Pair();
        using var kernel = new FakeKernel(end, msgs =>
        [
            Concat(Ack(msgs[0].Seq - 100), Ack(msgs[2].Seq, 17, "File exists"), Ack(msgs[0].Seq)),
            Ack(msgs[1].Seq, 19),
        ]);
        using (socket)
        {
            NetlinkAck[] acks = socket.Execute(Requests(3));
            Assert.Equal([new NetlinkAck(0, null), new NetlinkAck(19, null), new NetlinkAck(17, "File exists")], acks);
        }
    }

    [Fact]
    public void ManyRequestsGoOutInChunksSoAcksNeverOverflowTheReceiveBuffer()
    {
        var (socket, end) = Pair();
        using var kernel = new FakeKernel(end, msgs => [Concat(msgs.Select(m => Ack(m.Seq)).ToArray())]);
        using (socket)
        {
            NetlinkAck[] acks = socket.Execute(Requests(300));
            Assert.Equal(300, acks.Length);
            Assert.All(acks, a => Assert.True(a.Ok));
        }
        Assert.Equal(5, kernel.Received.Count);                        // 64 + 64 + 64 + 64 + 44
        Assert.All(kernel.Received, d => Assert.True(d.Count <= NetlinkSocket.ChunkMessages));
        var seqs = kernel.Received.SelectMany(d => d.Select(m => m.Seq)).ToList();
        Assert.Equal(seqs.Distinct().Count(), seqs.Count);            // every request numbered once
    }

    [Fact]
    public void AMultipartDumpIsCollectedAcrossDatagramsUntilDone()
    {
        var (socket, end) = Pair();
        using var kernel = new FakeKernel(end, msgs =>
        {
            uint s = msgs[0].Seq;
            return [Concat(Msg(RTM_NEWLINK, Nl.F_MULTI, s, [1, 0, 0, 0]), Msg(RTM_NEWLINK, Nl.F_MULTI, s, [2, 0, 0, 0])),
                    Msg(RTM_NEWLINK, Nl.F_MULTI, s, [3, 0, 0, 0]),
                    Msg(Nl.NLMSG_DONE, Nl.F_MULTI, s, [0, 0, 0, 0])];
        });
        using (socket)
        {
            var dump = socket.Dump(Requests(1, Nl.F_DUMP), "listing links");
            Assert.Equal([1, 2, 3], dump.Select(m => (int)m[Nl.HeaderSize]));
        }
    }

    [Fact]
    public void AnInterruptedDumpIsStartedAgain()
    {
        var (socket, end) = Pair();
        int attempt = 0;
        using var kernel = new FakeKernel(end, msgs =>
        {
            uint s = msgs[0].Seq;
            ushort intr = attempt++ == 0 ? Nl.F_DUMP_INTR : (ushort)0;
            return [Concat(Msg(RTM_NEWLINK, (ushort)(Nl.F_MULTI | intr), s, [(byte)attempt, 0, 0, 0]),
                           Msg(Nl.NLMSG_DONE, (ushort)(Nl.F_MULTI | intr), s, [0, 0, 0, 0]))];
        });
        using (socket)
        {
            var dump = socket.Dump(Requests(1, Nl.F_DUMP), "listing links");
            Assert.Equal([2], dump.Select(m => (int)m[Nl.HeaderSize]));
        }
        Assert.Equal(2, kernel.Received.Count);
    }

    [Fact]
    public void ADumpErrorNamesTheOperationAndTheKernelText()
    {
        var (socket, end) = Pair();
        using var kernel = new FakeKernel(end, msgs => [Ack(msgs[0].Seq, 1, "no permission")]);
        using (socket)
        {
            var e = Assert.Throws<NetlinkException>(() => socket.Dump(Requests(1, Nl.F_DUMP), "listing links"));
            Assert.Equal("listing links: EPERM (operation not permitted) (kernel: no permission)", e.Message);
        }
    }

    [Fact]
    public void GetReturnsNullForTheAbsentErrnoAndTheReplyOtherwise()
    {
        var (socket, end) = Pair();
        int call = 0;
        using var kernel = new FakeKernel(end, msgs => call++ == 0 ? [Ack(msgs[0].Seq, 19)] : [Msg(RTM_NEWLINK, 0, msgs[0].Seq, [7, 0, 0, 0])]);
        using (socket)
        {
            Assert.Null(socket.Get(Requests(1, 0), "looking up link", Errno.ENODEV));
            Assert.Equal(7, socket.Get(Requests(1, 0), "looking up link", Errno.ENODEV)![Nl.HeaderSize]);
        }
    }

    [Fact]
    public void ABatchRejectedAsAWholeFailsInsteadOfWaitingForever()
    {
        var (socket, end) = Pair();
        // The kernel answers only the batch header (which asked for no ack) and nothing else.
        using var kernel = new FakeKernel(end, msgs => [Ack(msgs[0].Seq, 1)]);
        using (socket)
        {
            var b = new NetlinkMessageBuilder();
            b.BeginMessage(0x10, 0).EndMessage();                      // NFNL_MSG_BATCH_BEGIN
            b.BeginMessage(0x0a00, Nl.F_ACK).EndMessage();
            b.BeginMessage(0x11, 0).EndMessage();                      // NFNL_MSG_BATCH_END
            var e = Assert.Throws<NetlinkException>(() => socket.ExecuteBatch(b, "adding masquerade"));
            Assert.Equal(Errno.EPERM, e.Errno);
        }
    }
}
