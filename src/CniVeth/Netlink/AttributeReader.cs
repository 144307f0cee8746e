using System.Buffers.Binary;
using System.Text;

namespace CniVeth.Netlink;

/// <summary>Iterates the attributes of a netlink payload: <c>while (r.Next(out type, out value))</c>.</summary>
internal ref struct AttributeReader
{
    private ReadOnlySpan<byte> _rest;

    public AttributeReader(ReadOnlySpan<byte> attributes) => _rest = attributes;

    /// <summary>Next attribute; the type has NLA_F_NESTED / NLA_F_NET_BYTEORDER masked off.</summary>
    public bool Next(out ushort type, out ReadOnlySpan<byte> value)
    {
        type = 0;
        value = default;
        if (_rest.Length < Nl.AttrHeaderSize) return false;
        int len = BinaryPrimitives.ReadUInt16LittleEndian(_rest);
        if (len < Nl.AttrHeaderSize || len > _rest.Length) { _rest = default; return false; }
        type = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(_rest[2..]) & Nl.NLA_TYPE_MASK);
        value = _rest.Slice(Nl.AttrHeaderSize, len - Nl.AttrHeaderSize);
        int advance = Math.Min(Nl.Align(len), _rest.Length);
        _rest = _rest[advance..];
        return true;
    }

    public static uint U32(ReadOnlySpan<byte> v) => v.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(v) : 0;
    public static ushort U16(ReadOnlySpan<byte> v) => v.Length >= 2 ? BinaryPrimitives.ReadUInt16LittleEndian(v) : (ushort)0;
    public static byte U8(ReadOnlySpan<byte> v) => v.Length >= 1 ? v[0] : (byte)0;
    public static uint U32Be(ReadOnlySpan<byte> v) => v.Length >= 4 ? BinaryPrimitives.ReadUInt32BigEndian(v) : 0;

    public static string String(ReadOnlySpan<byte> v)
    {
        int nul = v.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul >= 0 ? v[..nul] : v);
    }
}
