package org.ievirsh.address;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class LeaseParserTest {
    private static final Instant NOW = Instant.parse("2026-12-01T12:00:00Z");
    private static final long LATER = NOW.getEpochSecond() + 3600;
    private static final long EARLIER = NOW.getEpochSecond() - 60;

    private static LeaseParser.Result parse(String text) {
        return LeaseParser.parse(text.getBytes(StandardCharsets.UTF_8), NOW);
    }

    @Test
    void dnsmasqLinesActiveExpiredInfiniteAndGarbled() {
        LeaseParser.Result r = parse(LATER + " 52:54:00:aa:00:01 10.0.0.5 web 01:52:54:00:aa:00:01\n"
                + EARLIER + " 52:54:00:aa:00:02 10.0.0.6 old *\n"
                + "0 52:54:00:AA:00:03 10.0.0.7 * *\n"
                + "duid 00:01:00:01:2c:aa:bb:cc\n"
                + "garbage line here\n"
                + LATER + " 52:54:00:aa:00:04 10.0.0.999 bad *\n"
                + "x".repeat(5000) + "\n");
        assertEquals(LeaseParser.Format.DNSMASQ, r.format());
        assertEquals(Map.of(
                "52:54:00:aa:00:01", new Lease("52:54:00:aa:00:01", "10.0.0.5", Optional.of(Instant.ofEpochSecond(LATER))),
                "52:54:00:aa:00:03", new Lease("52:54:00:aa:00:03", "10.0.0.7", Optional.empty())), r.byMac(),
                "the expired lease does not count; MACs in lower case; 0 is an infinite lease");
        assertEquals(3, r.skipped(), "the garbled line, the bad address and the overlong line");
    }

    @Test
    void dnsmasqRenewedLeaseOfAMacWins() {
        LeaseParser.Result r = parse((LATER - 100) + " 52:54:00:aa:00:01 10.0.0.5 * *\n"
                + LATER + " 52:54:00:aa:00:01 10.0.0.8 * *\n");
        assertEquals("10.0.0.8", r.byMac().get("52:54:00:aa:00:01").ip());
        assertEquals(java.util.Set.of("10.0.0.5", "10.0.0.8"), r.rivals().get("52:54:00:aa:00:01").stream()
                .map(Lease::ip).collect(java.util.stream.Collectors.toSet()), "two addresses at once: both told");
    }

    @Test
    void iscBlocksTheNewestBoundOneWins() {
        String text = "# The format of this file is documented in the dhcpd.leases(5) manual page.\n"
                + "authoring-byte-order little-endian;\n\n"
                + "lease 10.1.0.20 {\n  starts 2 2026/12/01 10:00:00;\n  ends 2 2026/12/01 11:00:00;\n"
                + "  binding state active;\n  hardware ethernet 52:54:00:bb:00:01;\n}\n"
                + "lease 10.1.0.21 {\n  starts 2 2026/12/01 11:30:00;\n  ends 2 2026/12/01 13:30:00;\n"
                + "  binding state active;\n  next binding state free;\n  hardware ethernet 52:54:00:bb:00:01;\n"
                + "  client-hostname \"web\";\n}\n"
                + "lease 10.1.0.22 {\n  ends epoch " + LATER + "; # Tue Dec 01 13:00:00 2026\n"
                + "  binding state active;\n  hardware ethernet 52:54:00:bb:00:02;\n}\n"
                + "lease 10.1.0.22 {\n  ends epoch " + LATER + ";\n  binding state free;\n"
                + "  hardware ethernet 52:54:00:bb:00:02;\n}\n"
                + "lease 10.1.0.23 {\n  ends never;\n  binding state active;\n  hardware ethernet 52:54:00:bb:00:03;\n}\n"
                + "lease 10.1.0.24 {\n  ends 2 2026/12/01 13:00:00;\n  binding state backup;\n"
                + "  hardware ethernet 52:54:00:bb:00:04;\n}\n"
                + "lease 10.1.0.25 {\n  ends 2 2026/12/01 13:00:00;\n  binding state active;\n"
                + "  hardware ethernet zz:54:00:bb:00:05;\n}\n"
                + "lease 10.1.0.26 {\n  ends 2 2026/12/01 13:00:00;\n";
        LeaseParser.Result r = parse(text);
        assertEquals(LeaseParser.Format.ISC, r.format());
        assertEquals("10.1.0.21", r.byMac().get("52:54:00:bb:00:01").ip(), "the renewed, later lease");
        assertFalse(r.byMac().containsKey("52:54:00:bb:00:02"), "freed afterwards");
        assertEquals(Optional.empty(), r.byMac().get("52:54:00:bb:00:03").ends());
        assertFalse(r.byMac().containsKey("52:54:00:bb:00:04"), "a backup lease is nobody's");
        assertEquals(2, r.byMac().size(), r.byMac().toString());
        assertEquals(2, r.skipped(), "the bad MAC and the unfinished block");
    }

    @Test
    void iscExpiredLeaseDoesNotCount() {
        LeaseParser.Result r = parse("lease 10.1.0.20 {\n  ends 2 2026/12/01 11:59:59;\n  binding state active;\n"
                + "  hardware ethernet 52:54:00:bb:00:01;\n}\n");
        assertTrue(r.byMac().isEmpty());
    }

    @Test
    void keaCsvStatesAndUpdates() {
        String header = "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,"
                + "user_context,pool_id\n";
        String text = header
                + "10.2.0.5,52:54:00:cc:00:01,,3600," + LATER + ",1,0,0,web,0,,0\n"
                + "10.2.0.6,52:54:00:cc:00:02,,3600," + LATER + ",1,0,0,db,0,,0\n"
                + "10.2.0.6,52:54:00:cc:00:02,,0," + LATER + ",1,0,0,db,0,,0\n"
                + "10.2.0.7,52:54:00:cc:00:03,,3600," + LATER + ",1,0,0,x,1,,0\n"
                + "10.2.0.8,52:54:00:cc:00:04,,3600," + EARLIER + ",1,0,0,x,0,,0\n"
                + "10.2.0.9,52:54:00:cc:00:05,,3600,notanumber,1,0,0,x,0,,0\n"
                + "10.2.0.10,52:54:00:cc:00:06,,3600," + LATER + ",1,0,0,x,2,,0\n";
        LeaseParser.Result r = parse(text);
        assertEquals(LeaseParser.Format.KEA, r.format());
        assertEquals(Map.of("52:54:00:cc:00:01", new Lease("52:54:00:cc:00:01", "10.2.0.5",
                Optional.of(Instant.ofEpochSecond(LATER)))), r.byMac(),
                "released (lifetime 0), declined (1), expired, reclaimed (2): none counts");
        assertEquals(1, r.skipped());
    }

    @Test
    void anUnknownOrEmptyFileHoldsNothing() {
        assertEquals(LeaseParser.Format.EMPTY, parse("").format());
        assertEquals(LeaseParser.Format.EMPTY, parse("# only a comment\n").format());
        LeaseParser.Result r = parse("<html>not a lease file</html>\n");
        assertEquals(LeaseParser.Format.UNKNOWN, r.format());
        assertTrue(r.byMac().isEmpty());
    }

    @Test
    void aLineIsSplitAsTheRegularExpressionSplitsIt() {
        java.util.Random random = new java.util.Random(19);
        char[] alphabet = {' ', '\t', '\r', '\f', 0x0B, '\u2003', '\u001c', 'a', '1', ':', '.', '*'};
        for (int i = 0; i < 20_000; i++) {
            StringBuilder line = new StringBuilder();
            for (int n = random.nextInt(12); n > 0; n--) {
                line.append(alphabet[random.nextInt(alphabet.length)]);
            }
            String text = line.toString();
            assertEquals(java.util.List.of(text.strip().split("\\s+")), java.util.List.of(LeaseParser.fields(text)),
                    "line [" + text + "]");
        }
    }
}
