using System.Buffers.Binary;
using CniVeth.Netlink;
using CniVeth.Netlink.NfTables;

namespace CniVeth.UnitTests.Support;

/// <summary>Reading encoded nfnetlink messages back for byte-exact assertions.</summary>
internal static class NftMessages
{
    public const ushort Req = 0x1, Ack = 0x4, Excl = 0x200, Create = 0x400, Append = 0x800;

    public static List<(ushort Type, ushort Flags, string Payload)> Messages(NetlinkMessageBuilder b)
    {
        var r = new List<(ushort, ushort, string)>();
        ReadOnlySpan<byte> s = b.Span;
        foreach (int off in b.MessageOffsets)
        {
            int len = (int)BinaryPrimitives.ReadUInt32LittleEndian(s[off..]);
            r.Add((BinaryPrimitives.ReadUInt16LittleEndian(s[(off + 4)..]),
                   BinaryPrimitives.ReadUInt16LittleEndian(s[(off + 6)..]),
                   Convert.ToHexStringLower(s.Slice(off + 16, len - 16))));
        }
        return r;
    }

    public static List<(ushort Type, ushort Flags, string Payload)> One(Action<NftBatch> add)
    {
        var batch = new NftBatch();
        add(batch);
        var m = Messages(batch.Finish());
        Assert.Equal(3, m.Count);
        return m;
    }

    public static void AssertMsg(ushort type, ushort flags, string payload, (ushort Type, ushort Flags, string Payload) m)
    {
        Assert.Equal(type, m.Type);
        Assert.Equal(flags, m.Flags);
        Assert.Equal(payload, m.Payload);
    }

}
