#!/usr/bin/perl
# hostile-store.pl NET_DIR CID...: what a host-local store holds, in one process (the fault sweeps run
# this hundreds of times; a pipeline of ls/head/jq per check cost seconds on a loaded machine).
# Prints, for each CID, one line "CID ip ip ..." (its reservations, sorted). Then, when cniveth's owner
# index is stamped current (.cniveth/stamp is "NETDIR_MTIME OWNERS_MTIME LAYOUT BOOT" and both mtimes
# still hold, see src/CniVeth/Ipam/Store/IndexStamp.cs), one "INDEX ..." line per disagreement between
# the index (.cniveth/owners/*: a "#cniveth-owners LENGTH HASH" header line, then "key ip" lines, see
# OwnerIndex.cs) and the IP files, both ways: a claim no file
# backs, and a reservation the index does not list (DEL trusts the index: that one leaks for good).
# Disagreements of an index without a current stamp are printed as "STALE ..." (the next call rebuilds).
use strict;
use warnings;

my ($dir, @cids) = @ARGV;
my %held = map { $_ => [] } @cids;

sub owner_of {   # (id, ifname or undef) of a reservation file, or () when unreadable or too large to be one
  my $file = shift;
  return () unless -f $file && -s _ <= 65536 && open(my $fh, "<:raw", $file);
  local $/; my $c = <$fh>; close $fh;
  $c = "" unless defined $c;
  $c =~ s/^\s+|\s+$//g;
  return () if $c eq "";
  return split /\r\n/, $c, 2;
}
sub esc { my $s = shift; $s =~ s/([^A-Za-z0-9._-])/sprintf("%%%02X", ord($1))/ge; $s }
sub key_of { my ($id, $if) = @_; defined $if ? esc($id) . "+" . esc($if) : esc($id) }

my %file_key;    # ip -> owner key, for every readable reservation file
if (opendir(my $dh, $dir)) {
  for my $name (sort readdir $dh) {
    next unless $name =~ /^\d+\.\d+\.\d+\.\d+$/ || $name =~ /^[0-9a-f:]+$/ && $name =~ /:/;
    my ($id, $if) = owner_of("$dir/$name");
    next unless defined $id;
    $file_key{$name} = key_of($id, $if);
    push @{$held{$id}}, $name if exists $held{$id};
  }
  closedir $dh;
}
print join(" ", $_, @{$held{$_}}), "\n" for @cids;

my $owners = "$dir/.cniveth/owners";
exit 0 unless -d $owners && opendir(my $oh, $owners);
my (@problems, %listed);
for my $bucket (sort readdir $oh) {
  my $path = "$owners/$bucket";
  next unless -f $path && open(my $fh, "<", $path);
  while (my $line = <$fh>) {
    $line =~ s/^\s+|\s+$//g;
    next if $line eq "" || $line =~ /^#/;
    my ($key, $ip) = split / /, $line, 2;
    if (!defined $ip || $ip !~ /^[0-9a-fA-F.:]{2,45}$/) { push @problems, "$bucket: a line that is not \"key ip\""; last; }
    $listed{"$key $ip"} = 1;
    my $owner = $file_key{$ip};
    if (!defined $owner) { push @problems, "claims $ip for $key, but there is no such reservation file"; next; }
    push @problems, "claims $ip for $key, but the file says $owner" if $owner ne $key;
  }
  close $fh;
}
closedir $oh;
for my $ip (sort keys %file_key) {
  push @problems, "does not list $ip of $file_key{$ip}" unless $listed{"$file_key{$ip} $ip"};
}
exit 0 unless @problems;
my $stamp = "";
if (open(my $sh, "<", "$dir/.cniveth/stamp")) { $stamp = <$sh> // ""; close $sh; }
my ($stamped, $owners_stamped) = split / /, $stamp;
my $mtime = `stat -c %.9Y '$dir' 2>/dev/null`; chomp $mtime;
my $owners_mtime = `stat -c %.9Y '$owners' 2>/dev/null`; chomp $owners_mtime;
my $current = defined $stamped && $stamped ne "" && $stamped eq $mtime
  && defined $owners_stamped && $owners_stamped eq $owners_mtime;
print(($current ? "INDEX " : "STALE ") . "$_\n") for @problems;
