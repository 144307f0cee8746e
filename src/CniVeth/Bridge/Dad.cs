using CniVeth.Cni;
using CniVeth.Netlink.Route;

namespace CniVeth.Bridge;

/// <summary>enabledad: wait (bounded poll) until the container's IPv6 addresses leave the tentative state.</summary>
internal static class Dad
{
    public static void Wait(RouteClient container, LinkInfo link)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var addrs = container.DumpAddresses(Rtnl.AF_INET6, link.Index);
            var failed = addrs.FirstOrDefault(a => (a.Flags & Rtnl.IFA_F_DADFAILED) != 0);
            if (failed is not null)
                throw CniException.Internal($"duplicate address detection failed for {failed.Address} on \"{link.Name}\"",
                    "another host on the bridge already uses this IPv6 address");
            if (!addrs.Any(a => (a.Flags & Rtnl.IFA_F_TENTATIVE) != 0)) return;
            if (clock.ElapsedMilliseconds > 5000)
                throw CniException.Internal($"IPv6 addresses on \"{link.Name}\" still tentative after 5 s");
            Thread.Sleep(50);
        }
    }
}
