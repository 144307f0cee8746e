using CniVeth.Cni;

namespace CniVeth.Ipam.Config;

/// <summary>resolv.conf → result dns: nameserver (first argument of each line), domain, search and
/// options (all arguments); '#' and ';' start comments.</summary>
internal static class ResolvConfParser
{
    /// <summary>Far above any real resolv.conf; a larger file is a mistake in the config, not DNS settings.</summary>
    public const int MaxBytes = 1 << 20;

    /// <summary>Reads the file in bounded time and memory (see BoundedFile): a missing, unreadable, special
    /// (/dev/zero, a FIFO) or oversized file is a config error (code 7).</summary>
    public static Dns ParseFile(string path)
    {
        var read = BoundedFile.Read(path, MaxBytes);
        return read.Outcome switch
        {
            BoundedFile.Outcome.Text => Parse(read.Text),
            BoundedFile.Outcome.NotAFile => throw CniException.Config($"cannot read resolvConf \"{path}\": not a regular file"),
            BoundedFile.Outcome.TooLarge => throw CniException.Config($"cannot read resolvConf \"{path}\": larger than {MaxBytes >> 20} MiB"),
            _ => throw CniException.Config($"cannot read resolvConf \"{path}\": {Errno.Describe(read.Errno)}"),
        };
    }

    public static Dns Parse(string text)
    {
        var dns = new Dns();
        foreach (string rawLine in text.Split('\n'))
        {
            string line = rawLine;
            int comment = line.IndexOfAny(['#', ';']);
            if (comment >= 0) line = line[..comment];
            string[] fields = line.Split([' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 2) continue;
            switch (fields[0])
            {
                case "nameserver":
                    (dns.Nameservers ??= new()).Add(fields[1]);
                    break;
                case "domain":
                    dns.Domain = fields[1];
                    break;
                case "search":
                    (dns.Search ??= new()).AddRange(fields[1..]);
                    break;
                case "options":
                    (dns.Options ??= new()).AddRange(fields[1..]);
                    break;
            }
        }
        return dns;
    }
}
