using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace CniVeth.Netlink;

/// <summary>
/// Encodes one or more netlink messages into a single buffer (so several requests go to the kernel
/// in one send). Attributes are written in host byte order unless a *Be method is used; nested
/// attributes are closed with EndNested, which patches their length. Sequence numbers are assigned
/// by NetlinkSocket when the buffer is sent.
/// </summary>
internal sealed class NetlinkMessageBuilder
{
    private byte[] _buf = new byte[512];
    private int _len;
    private int _msgStart = -1;
    private readonly int[] _nests = new int[16];
    private int _depth;
    private readonly List<int> _offsets = new();

    public int Count => _offsets.Count;
    public ReadOnlySpan<byte> Span => _buf.AsSpan(0, _len);
    internal Span<byte> MutableSpan => _buf.AsSpan(0, _len);
    public IReadOnlyList<int> MessageOffsets => _offsets;

    public NetlinkMessageBuilder BeginMessage(ushort type, ushort flags)
    {
        if (_msgStart >= 0) throw new InvalidOperationException("previous message not ended");
        _msgStart = _len;
        _offsets.Add(_len);
        Span<byte> h = Reserve(Nl.HeaderSize);
        h.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(h[6..], (ushort)(flags | Nl.F_REQUEST));
        return this;
    }

    public NetlinkMessageBuilder EndMessage()
    {
        if (_depth != 0) throw new InvalidOperationException("unclosed nested attribute");
        BinaryPrimitives.WriteUInt32LittleEndian(_buf.AsSpan(_msgStart), (uint)(_len - _msgStart));
        _msgStart = -1;
        return this;
    }

    /// <summary>A fixed family header (ifinfomsg, ifaddrmsg, rtmsg, nfgenmsg ...), padded to 4.</summary>
    public NetlinkMessageBuilder Struct<T>(in T value) where T : unmanaged
    {
        ReadOnlySpan<byte> bytes = MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value));
        Span<byte> dst = Reserve(Nl.Align(bytes.Length));
        dst.Clear();
        bytes.CopyTo(dst);
        return this;
    }

    public NetlinkMessageBuilder Attr(ushort type, ReadOnlySpan<byte> payload)
    {
        int total = Nl.AttrHeaderSize + payload.Length;
        Span<byte> dst = Reserve(Nl.Align(total));
        dst.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(dst, (ushort)total);
        BinaryPrimitives.WriteUInt16LittleEndian(dst[2..], type);
        payload.CopyTo(dst[Nl.AttrHeaderSize..]);
        return this;
    }

    public NetlinkMessageBuilder U8(ushort type, byte v) => Attr(type, [v]);

    public NetlinkMessageBuilder U16(ushort type, ushort v)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, v);
        return Attr(type, b);
    }

    public NetlinkMessageBuilder U32(ushort type, uint v)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        return Attr(type, b);
    }

    public NetlinkMessageBuilder U16Be(ushort type, ushort v)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(b, v);
        return Attr(type, b);
    }

    public NetlinkMessageBuilder U32Be(ushort type, uint v)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, v);
        return Attr(type, b);
    }

    /// <summary>A NUL-terminated string (NLA_NUL_STRING / NLA_STRING).</summary>
    public NetlinkMessageBuilder String(ushort type, string value)
    {
        int n = Encoding.UTF8.GetByteCount(value);
        Span<byte> b = n < 256 ? stackalloc byte[n + 1] : new byte[n + 1];
        Encoding.UTF8.GetBytes(value, b);
        b[n] = 0;
        return Attr(type, b);
    }

    public NetlinkMessageBuilder BeginNested(ushort type)
    {
        _nests[_depth++] = _len;
        Span<byte> h = Reserve(Nl.AttrHeaderSize);
        BinaryPrimitives.WriteUInt16LittleEndian(h[2..], (ushort)(type | Nl.NLA_F_NESTED));
        return this;
    }

    public NetlinkMessageBuilder EndNested()
    {
        int start = _nests[--_depth];
        BinaryPrimitives.WriteUInt16LittleEndian(_buf.AsSpan(start), (ushort)(_len - start));
        return this;
    }

    public void Clear()
    {
        _len = 0;
        _msgStart = -1;
        _depth = 0;
        _offsets.Clear();
    }

    private Span<byte> Reserve(int n)
    {
        if (_len + n > _buf.Length) Array.Resize(ref _buf, Math.Max(_buf.Length * 2, _len + n));
        Span<byte> s = _buf.AsSpan(_len, n);
        _len += n;
        return s;
    }
}
