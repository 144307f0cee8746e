using CniVeth.Netlink;

namespace CniVeth.UnitTests.Netlink;

public class NetlinkMessageBuilderTests
{
    internal static string Hex(ReadOnlySpan<byte> b) => Convert.ToHexString(b).ToLowerInvariant();

    [Fact]
    public void HeaderCarriesLengthTypeAndRequestFlag()
    {
        var b = new NetlinkMessageBuilder();
        b.BeginMessage(18, Nl.F_ACK).EndMessage();
        // len=16, type=18, flags=REQUEST|ACK=5, seq=0, pid=0 (all little endian)
        Assert.Equal("10000000" + "1200" + "0500" + "00000000" + "00000000", Hex(b.Span));
    }

    [Fact]
    public void AttributesArePaddedToFourBytesButLengthExcludesPadding()
    {
        var b = new NetlinkMessageBuilder();
        b.BeginMessage(16, 0).String(3, "eth0").U8(7, 1).EndMessage();
        string body = Hex(b.Span[16..]);
        // "eth0\0" = 5 bytes -> nla_len 9, padded to 12; u8 -> nla_len 5, padded to 8
        Assert.Equal("0900" + "0300" + "6574683000" + "000000" + "0500" + "0700" + "01" + "000000", body);
        Assert.Equal(16 + 12 + 8, BitConverter.ToInt32(b.Span[..4]));
    }

    [Fact]
    public void NestedAttributeLengthCoversChildrenAndCarriesNestedFlag()
    {
        var b = new NetlinkMessageBuilder();
        b.BeginMessage(16, 0).BeginNested(18).U32(1, 0x01020304).EndNested().EndMessage();
        // nested: len 4+8=12, type 18|0x8000 ; child: len 8, type 1, value LE
        Assert.Equal("0c00" + "1280" + "0800" + "0100" + "04030201", Hex(b.Span[16..]));
    }

    [Fact]
    public void BigEndianAttributesForNetfilter()
    {
        var b = new NetlinkMessageBuilder();
        b.BeginMessage(1, 0).U32Be(2, 0x0a000001).U16Be(3, 0x0800).EndMessage();
        Assert.Equal("0800" + "0200" + "0a000001" + "0600" + "0300" + "0800" + "0000", Hex(b.Span[16..]));
    }

    [Fact]
    public void SeveralMessagesShareOneBuffer()
    {
        var b = new NetlinkMessageBuilder();
        b.BeginMessage(16, 0).U32(1, 1).EndMessage();
        b.BeginMessage(17, 0).EndMessage();
        Assert.Equal(2, b.Count);
        Assert.Equal(new[] { 0, 24 }, b.MessageOffsets);
        Assert.Equal(40, b.Span.Length);
    }

    [Fact]
    public void UnclosedNestIsRejected()
    {
        var b = new NetlinkMessageBuilder();
        b.BeginMessage(16, 0).BeginNested(1);
        Assert.Throws<InvalidOperationException>(() => b.EndMessage());
    }
}
