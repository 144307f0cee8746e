using System.Net;
using System.Net.Sockets;
using CniVeth.Cni;
using CniVeth.Values;

namespace CniVeth.Ipam.Allocation;

/// <summary>One validated range: a subnet, the inclusive [Start, End] handed out, and its gateway.</summary>
internal sealed class IpRange
{
    public required IPAddress Network { get; init; }
    public required int PrefixLength { get; init; }
    public required IPAddress Start { get; init; }
    public required IPAddress End { get; init; }
    public required IPAddress Gateway { get; init; }

    public AddressFamily Family => Network.AddressFamily;
    public bool IsIPv4 => Family == AddressFamily.InterNetwork;
    public UInt128 StartNumber => IpMath.ToNumber(Start);
    public UInt128 EndNumber => IpMath.ToNumber(End);
    public UInt128 NetworkNumber => IpMath.ToNumber(Network);
    public UInt128 LastNumber => NetworkNumber | IpMath.HostMask(Family, PrefixLength);

    public string SubnetText => $"{Network}/{PrefixLength}";

    /// <summary>Reference form "start-end", used in error messages.</summary>
    public override string ToString() => $"{Start}-{End}";

    public bool InSubnet(IPAddress address)
    {
        address = IpMath.Canonical(address);
        if (address.AddressFamily != Family) return false;
        UInt128 n = IpMath.ToNumber(address);
        return n >= NetworkNumber && n <= LastNumber;
    }

    public bool Contains(IPAddress address)
    {
        if (!InSubnet(address)) return false;
        UInt128 n = IpMath.ToNumber(IpMath.Canonical(address));
        return n >= StartNumber && n <= EndNumber;
    }

    public bool Overlaps(IpRange other) =>
        Family == other.Family && StartNumber <= other.EndNumber && other.StartNumber <= EndNumber;

    /// <summary>Never handed out: the gateway, the network address and the IPv4 broadcast (and, checked by
    /// the iterator and for requested addresses, UnusableAddresses).</summary>
    public bool IsReservedAddress(UInt128 n) =>
        n == IpMath.ToNumber(Gateway) || n == NetworkNumber || (IsIPv4 && n == LastNumber);

    /// <summary>Validates and fills defaults, with the reference plugin's error texts.</summary>
    public static IpRange Parse(string? subnet, string? rangeStart, string? rangeEnd, string? gateway)
    {
        if (string.IsNullOrWhiteSpace(subnet)) throw CniException.Config("range is missing a subnet");
        if (!IpText.TryParseCidr(subnet, out CidrAddress parsed))
            throw CniException.Config($"invalid CIDR address: {subnet}");
        IPAddress ip = IpMath.Canonical(parsed.Address);
        int prefix = parsed.PrefixLength;
        int bits = IpMath.BitLength(ip.AddressFamily);
        if (prefix == 0)
            throw CniException.Config($"Network {ip}/0 cannot be allocated from: a /0 subnet is the whole address space");
        if (prefix >= bits - 1)
            throw CniException.Config($"Network {ip}/{prefix} too small to allocate from");

        UInt128 hostMask = IpMath.HostMask(ip.AddressFamily, prefix);
        UInt128 value = IpMath.ToNumber(ip);
        UInt128 network = value & ~hostMask;
        var networkIp = IpMath.FromNumber(network, ip.AddressFamily);
        if (value != network)
            throw CniException.Config(
                $"Network has host bits set. For a subnet mask of length {prefix} the network address is {networkIp}");

        var probe = new IpRange
        {
            Network = networkIp, PrefixLength = prefix, Start = networkIp, End = networkIp, Gateway = networkIp,
        };
        string cidr = probe.SubnetText;
        IPAddress start = ParseInside(rangeStart, probe, "RangeStart", cidr)
            ?? IpMath.FromNumber(network + 1, ip.AddressFamily);
        UInt128 last = network | hostMask;
        IPAddress end = ParseInside(rangeEnd, probe, "RangeEnd", cidr)
            ?? IpMath.FromNumber(probe.IsIPv4 ? last - 1 : last, ip.AddressFamily);
        IPAddress gw = string.IsNullOrWhiteSpace(gateway)
            ? IpMath.FromNumber(network + 1, ip.AddressFamily)
            : ParseAddress(gateway, "gateway");
        if (gw.AddressFamily != ip.AddressFamily)
            throw CniException.Config($"gateway {gw} is not of the address family of network {cidr}");
        if (IpMath.ToNumber(start) > IpMath.ToNumber(end))
            throw CniException.Config($"RangeStart {start} is after RangeEnd {end} in network {cidr}");
        if (UnusableAddresses.FirstUsable(ip.AddressFamily, IpMath.ToNumber(start), IpMath.ToNumber(end)) is null)
            throw CniException.Config(
                $"range {start}-{end} of network {cidr} has no usable address: unspecified, loopback, multicast, reserved and IPv4-mapped addresses are never handed out");

        return new IpRange { Network = networkIp, PrefixLength = prefix, Start = start, End = end, Gateway = gw };
    }

    private static IPAddress? ParseInside(string? text, IpRange subnet, string what, string cidr)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var address = ParseAddress(text, what);
        if (!subnet.InSubnet(address)) throw CniException.Config($"{what} {address} not in network {cidr}");
        return address;
    }

    private static IPAddress ParseAddress(string text, string what)
    {
        if (!IpText.TryParseIp(text.Trim(), out var address))
            throw CniException.Config($"invalid {what} address \"{text}\"");
        return IpMath.Canonical(address);
    }
}
