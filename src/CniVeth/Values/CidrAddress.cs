using System.Globalization;
using System.Net;

namespace CniVeth.Values;

/// <summary>An address with its prefix length, e.g. 10.88.0.5/24 (host bits allowed, unlike IPNetwork).</summary>
internal readonly record struct CidrAddress(IPAddress Address, int PrefixLength)
{
    public bool IsIPv4 => Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork;

    /// <summary>The same prefix with the host bits cleared (10.88.0.5/24 -> 10.88.0.0/24).</summary>
    public CidrAddress Subnet => new(IpMath.Network(this), PrefixLength);

    // Concatenation, not interpolation: an interpolated int goes through ArrayPool, whose first use
    // calibrates a per-CPU cache (~100 µs) in a process that lives a few milliseconds.
    public override string ToString() => Address + "/" + PrefixLength.ToString(CultureInfo.InvariantCulture);

    /// <summary>Strict parse of "addr/prefix" (see IpText.TryParseCidr).</summary>
    public static bool TryParse(string? text, out CidrAddress cidr) => IpText.TryParseCidr(text, out cidr);
}
