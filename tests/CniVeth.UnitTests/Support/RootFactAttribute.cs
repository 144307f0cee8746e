namespace CniVeth.UnitTests.Support;

/// <summary>A test that needs root (namespaces, netlink writes): reported as skipped, with the reason,
/// when run without it — never passed silently.</summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (!Netns.IsRoot) Skip = "needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN): run as root, as `make test` does";
    }
}
