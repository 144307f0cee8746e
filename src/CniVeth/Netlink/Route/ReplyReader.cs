using System.Net;

namespace CniVeth.Netlink.Route;

/// <summary>Length checks for decoded replies: a truncated message is a NetlinkException, never an
/// ArgumentOutOfRangeException, and an address attribute of the wrong size is ignored.</summary>
internal static class ReplyReader
{
    public static ReadOnlySpan<byte> Body(ReadOnlySpan<byte> msg, int fixedSize, string what)
    {
        if (msg.Length < Nl.HeaderSize + Nl.Align(fixedSize))
            throw new NetlinkException($"decoding a {what} reply (truncated: {msg.Length} bytes)", Errno.EIO);
        return msg[Nl.HeaderSize..];
    }

    public static IPAddress? Ip(ReadOnlySpan<byte> v) => v.Length is 4 or 16 ? new IPAddress(v) : null;
}
