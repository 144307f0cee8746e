namespace CniVeth.Cni;

/// <summary>Error codes of the CNI spec (SPEC.md "Error") plus the reference plugins' 999.</summary>
internal static class ErrorCode
{
    public const int IncompatibleVersion = 1;
    public const int UnsupportedField = 2;
    public const int UnknownContainer = 3;
    public const int InvalidEnvironment = 4;
    public const int IoFailure = 5;
    public const int DecodeFailure = 6;
    public const int InvalidNetworkConfig = 7;
    public const int InvalidNetNs = 8;
    public const int TryAgainLater = 11;
    public const int NotAvailable = 50;
    public const int NotAvailableLimitedConnectivity = 51;
    public const int Internal = 999;
}

/// <summary>
/// A failure that knows its CNI error code. The typed failures of the lower layers derive from it (a
/// kernel errno from netlink, a namespace that cannot be used, a store file that cannot be written), so
/// every failure reaches the runtime as the right error object without string matching (see CniError).
/// </summary>
internal abstract class CniFailure(string message, Exception? inner = null) : Exception(message, inner)
{
    public abstract int Code { get; }
    public virtual string Details => "";
}

/// <summary>A failure with an explicit code and a hint for the person reading it.</summary>
internal class CniException(int code, string message, string details = "") : CniFailure(message)
{
    public override int Code { get; } = code;
    public override string Details { get; } = details;

    public static CniException Config(string message, string details = "") =>
        new(ErrorCode.InvalidNetworkConfig, message, details);

    public static CniException Internal(string message, string details = "") =>
        new(ErrorCode.Internal, message, details);
}
