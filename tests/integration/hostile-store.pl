#!/usr/bin/perl
# hostile-store.pl NET_DIR CID...: what a host-local store holds, in one process (the fault sweeps run
# this hundreds of times; a pipeline of ls/head/jq per check cost seconds on a loaded machine).
# Prints, for each CID, one line "CID ip ip ..." (its reservations, sorted), then one "INDEX ..." line
# per claim of cniveth's owner index (.cniveth/owners/*: "key ip" lines, see
# src/CniVeth/Ipam/Store/OwnerIndex.cs) that the IP files do not back, when the index is stamped
# current (.cniveth/stamp starts with the network directory's mtime, see HostLocalStore.cs): an index
# without a current stamp is rebuilt by the next call, so its stale lines are harmless.
use strict;
use warnings;

my ($dir, @cids) = @ARGV;
my %held = map { $_ => [] } @cids;

sub owner_of {   # (id, ifname or undef) of a reservation file, or () when unreadable
  my $file = shift;
  return () unless -f $file && open(my $fh, "<:raw", $file);
  local $/; my $c = <$fh>; close $fh;
  $c = "" unless defined $c;
  $c =~ s/^\s+|\s+$//g;
  return split /\r\n/, $c, 2;
}
sub esc { my $s = shift; $s =~ s/([^A-Za-z0-9._-])/sprintf("%%%02X", ord($1))/ge; $s }

if (opendir(my $dh, $dir)) {
  for my $name (sort readdir $dh) {
    next unless $name =~ /^[0-9a-f.:]+$/ && ($name =~ /^\d+\.\d+\.\d+\.\d+$/ || $name =~ /:/);
    my ($id) = owner_of("$dir/$name");
    push @{$held{$id}}, $name if defined $id && exists $held{$id};
  }
  closedir $dh;
}
print join(" ", $_, @{$held{$_}}), "\n" for @cids;

my $owners = "$dir/.cniveth/owners";
my @claims;
if (opendir(my $oh, $owners)) {
  for my $bucket (sort readdir $oh) {
    my $path = "$owners/$bucket";
    next unless -f $path && open(my $fh, "<", $path);
    while (my $line = <$fh>) {
      $line =~ s/^\s+|\s+$//g;
      next if $line eq "";
      my ($key, $ip) = split / /, $line, 2;
      if (!defined $ip || $ip !~ /^[0-9a-fA-F.:]{2,45}$/) { push @claims, "$bucket: a line that is not \"key ip\""; last; }
      my ($id, $if) = owner_of("$dir/$ip");
      if (!defined $id) { push @claims, "claims $ip for $key, but there is no such reservation file"; next; }
      my $owner = defined $if ? esc($id) . "+" . esc($if) : esc($id);
      push @claims, "claims $ip for $key, but the file says $owner" if $owner ne $key;
    }
    close $fh;
  }
  closedir $oh;
}
if (@claims) {
  my $stamp = "";
  if (open(my $sh, "<", "$dir/.cniveth/stamp")) { $stamp = <$sh> // ""; close $sh; }
  my ($stamped) = split / /, $stamp;
  my $mtime = `stat -c %.9Y '$dir' 2>/dev/null`; chomp $mtime;
  my $current = defined $stamped && $stamped ne "" && $stamped eq $mtime;
  print(($current ? "INDEX " : "STALE ") . "$_\n") for @claims;
}
