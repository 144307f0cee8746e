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

/// <summary>A failure that is reported to the runtime as a CNI error object on stdout.</summary>
internal class CniException : Exception
{
    public int Code { get; }
    public string Details { get; }

    public CniException(int code, string message, string details = "") : base(message)
    {
        Code = code;
        Details = details;
    }

    public static CniException Config(string message, string details = "") =>
        new(ErrorCode.InvalidNetworkConfig, message, details);

    public static CniException Internal(string message, string details = "") =>
        new(ErrorCode.Internal, message, details);
}
