using System.Buffers.Binary;
using CniVeth.Netlink;

namespace CniVeth.UnitTests.Netlink;

public class NetlinkDecodingTests
{
    [Fact]
    public void AttributeReaderMasksFlagsAndStopsOnTruncation()
    {
        byte[] attrs = Convert.FromHexString("0800" + "0180" + "2a000000" + "0900" + "0300" + "6574683000000000" + "ff00");
        var r = new AttributeReader(attrs);
        Assert.True(r.Next(out ushort t1, out var v1));
        Assert.Equal(1, t1);
        Assert.Equal(42u, AttributeReader.U32(v1));
        Assert.True(r.Next(out ushort t2, out var v2));
        Assert.Equal(3, t2);
        Assert.Equal("eth0", AttributeReader.String(v2));
        Assert.False(r.Next(out _, out _)); // a 2-byte tail is not an attribute
    }

    [Fact]
    public void ErrorMessageYieldsPositiveErrnoAndExtendedAckText()
    {
        // NLMSG_ERROR, flags CAPPED|ACK_TLVS, error -17, the offending header, then NLMSGERR_ATTR_MSG "File exists"
        var msg = new List<byte>();
        byte[] text = "File exists\0"u8.ToArray();
        int attrLen = 4 + text.Length;
        int total = 16 + 4 + 16 + ((attrLen + 3) & ~3);
        msg.AddRange(Le32(total)); msg.AddRange(Le16(2)); msg.AddRange(Le16(0x300)); msg.AddRange(Le32(7)); msg.AddRange(Le32(0));
        msg.AddRange(Le32(-17));
        msg.AddRange(Le32(16)); msg.AddRange(Le16(16)); msg.AddRange(Le16(5)); msg.AddRange(Le32(7)); msg.AddRange(Le32(0));
        msg.AddRange(Le16((ushort)attrLen)); msg.AddRange(Le16(1)); msg.AddRange(text);
        while (msg.Count % 4 != 0) msg.Add(0);

        NetlinkAck ack = NetlinkSocket.ParseError(msg.ToArray());
        Assert.Equal(17, ack.Errno);
        Assert.Equal("File exists", ack.KernelMessage);
    }

    [Fact]
    public void AckWithoutErrorIsOk()
    {
        byte[] msg = new byte[36];
        BinaryPrimitives.WriteUInt32LittleEndian(msg, 36);
        BinaryPrimitives.WriteUInt16LittleEndian(msg.AsSpan(4), 2);
        BinaryPrimitives.WriteUInt16LittleEndian(msg.AsSpan(6), 0x100);
        Assert.True(NetlinkSocket.ParseError(msg).Ok);
    }

    [Fact]
    public void NextMessageSplitsABufferOfSeveralMessages()
    {
        var b = new NetlinkMessageBuilder();
        b.BeginMessage(16, 0).U32(1, 1).EndMessage();
        b.BeginMessage(3, Nl.F_MULTI).EndMessage();
        ReadOnlySpan<byte> span = b.Span;
        Assert.True(NetlinkSocket.NextMessage(ref span, out ushort t1, out _, out _, out var m1));
        Assert.Equal(16, t1);
        Assert.Equal(24, m1.Length);
        Assert.True(NetlinkSocket.NextMessage(ref span, out ushort t2, out ushort f2, out _, out _));
        Assert.Equal(Nl.NLMSG_DONE, t2);
        Assert.Equal(Nl.F_MULTI | Nl.F_REQUEST, f2);
        Assert.False(NetlinkSocket.NextMessage(ref span, out _, out _, out _, out _));
    }

    [Fact]
    public void NetlinkExceptionNamesOperationAndErrno()
    {
        var e = new NetlinkException("creating veth \"veth1a2b3c4d\"", 17);
        Assert.Equal("creating veth \"veth1a2b3c4d\": EEXIST (file exists)", e.Message);
    }

    private static byte[] Le32(int v) { var b = new byte[4]; BinaryPrimitives.WriteInt32LittleEndian(b, v); return b; }
    private static byte[] Le16(ushort v) { var b = new byte[2]; BinaryPrimitives.WriteUInt16LittleEndian(b, v); return b; }
}
