using System.Runtime.InteropServices;

namespace CniVeth.Netlink.Route;

/// <summary>A family's settings as RTM_NEWNETCONF reports them (only what the plugin reads).</summary>
internal sealed class NetconfInfo
{
    public int Index { get; init; }
    /// <summary>NETCONFA_FORWARDING, null when the kernel left it out.</summary>
    public int? Forwarding { get; init; }

    public static NetconfInfo Parse(ReadOnlySpan<byte> msg)
    {
        ReadOnlySpan<byte> body = ReplyReader.Body(msg, Marshal.SizeOf<NetconfMsg>(), "netconf");
        var r = new AttributeReader(body[Nl.Align(Marshal.SizeOf<NetconfMsg>())..]);
        int index = 0;
        int? forwarding = null;
        while (r.Next(out ushort type, out ReadOnlySpan<byte> v))
        {
            if (type == Rtnl.NETCONFA_IFINDEX && v.Length >= 4) index = (int)AttributeReader.U32(v);
            else if (type == Rtnl.NETCONFA_FORWARDING && v.Length >= 4) forwarding = (int)AttributeReader.U32(v);
        }
        return new NetconfInfo { Index = index, Forwarding = forwarding };
    }
}
