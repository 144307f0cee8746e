using System.Net;
using System.Runtime.InteropServices;
using CniVeth.Values;

namespace CniVeth.Netlink.Route;

/// <summary>An address read back from the kernel.</summary>
internal sealed class AddressInfo
{
    public int Index { get; init; }
    public required CidrAddress Address { get; init; }
    public uint Flags { get; init; }
    public byte Scope { get; init; }

    public static AddressInfo Parse(ReadOnlySpan<byte> msg)
    {
        ReadOnlySpan<byte> body = ReplyReader.Body(msg, Marshal.SizeOf<IfAddrMsg>(), "address");
        IfAddrMsg ifa = MemoryMarshal.Read<IfAddrMsg>(body);
        var r = new AttributeReader(body[Nl.Align(Marshal.SizeOf<IfAddrMsg>())..]);
        IPAddress? local = null, address = null;
        uint flags = ifa.Flags;
        while (r.Next(out ushort type, out ReadOnlySpan<byte> v))
        {
            if (type == Rtnl.IFA_LOCAL) local = ReplyReader.Ip(v) ?? local;
            else if (type == Rtnl.IFA_ADDRESS) address = ReplyReader.Ip(v) ?? address;
            else if (type == Rtnl.IFA_FLAGS) flags = AttributeReader.U32(v);
        }
        return new AddressInfo
        {
            Index = ifa.Index, Flags = flags, Scope = ifa.Scope,
            Address = new CidrAddress(local ?? address ?? IPAddress.None, ifa.PrefixLen),
        };
    }
}
