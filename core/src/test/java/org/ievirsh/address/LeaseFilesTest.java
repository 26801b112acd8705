package org.ievirsh.address;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.ievirsh.support.ManualTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** LeaseFilesTest: the look each minute drops leases that ended, and reads a file that changed, unheard. */
class LeaseFilesTest {
    private static final String MAC = "52:54:00:aa:bb:cc";
    private static final String OTHER = "52:54:00:aa:bb:dd";

    @TempDir
    Path tmp;

    @Test
    void theLookEachMinuteDropsEndedLeasesOfAnUnchangedFileAndReadsAChangedOne() throws Exception {
        ManualTime time = new ManualTime(Instant.parse("2026-12-01T12:00:00Z"));
        long now = time.instant().getEpochSecond();
        Path file = tmp.resolve("dnsmasq.leases");
        Files.writeString(file, (now + 60) + " " + MAC + " 10.0.0.5 vm0 *\n" + (now + 3600) + " " + OTHER
                + " 10.0.0.6 vm1 *\n");
        Thread.sleep(2100);  // wall time: the look trusts a file's stat only two seconds after its change
        List<Set<String>> heard = new ArrayList<>();
        try (LeaseFiles leases = new LeaseFiles(List.of(file), time, heard::add)) {
            leases.rescan();
            assertNotNull(leases.lease(MAC));
            heard.clear();

            time.advance(Duration.ofSeconds(61));
            leases.rescan();
            assertNull(leases.lease(MAC), "its lease ended");
            assertNotNull(leases.lease(OTHER));
            assertEquals(List.of(Set.of(MAC)), heard);

            leases.rescan();
            assertEquals(1, heard.size(), "nothing more ended");
            Files.writeString(file, (now + 3600) + " " + OTHER + " 10.0.0.7 vm1 *\n");
            leases.rescan();
            assertEquals("10.0.0.7", leases.lease(OTHER).ip(), "a changed file is read again");
        }
    }

    @Test
    void aMacWithLeasesToTwoAddressesHasNoneUntilOneEnds() throws Exception {
        // A guest took the victim's MAC and asked dnsmasq with a client-id of its own: a second lease for that
        // MAC, ending later than the victim's. Neither is believed; when the attacker's ends, the victim's is.
        ManualTime time = new ManualTime(Instant.parse("2026-12-01T12:00:00Z"));
        long now = time.instant().getEpochSecond();
        Path file = tmp.resolve("dnsmasq.leases");
        Files.writeString(file, (now + 3600) + " " + MAC + " 10.0.0.5 victim 01:" + MAC + "\n");
        List<Set<String>> heard = new ArrayList<>();
        try (LeaseFiles leases = new LeaseFiles(List.of(file), time, heard::add)) {
            leases.start();
            assertEquals("10.0.0.5", leases.lease(MAC).ip());
            Files.writeString(file, (now + 3600) + " " + MAC + " 10.0.0.5 victim 01:" + MAC + "\n"
                    + (now + 7200) + " " + MAC + " 10.0.0.66 attacker ff:00:11:22:33\n");
            Thread.sleep(2100);
            leases.rescan();
            assertNull(leases.lease(MAC), "contested: no lease of that MAC is believed");
            assertEquals(1, leases.contested());
            assertEquals(Set.of(MAC), heard.get(heard.size() - 1));

            // The same across two files: one server's lease beside another's.
            Path other = tmp.resolve("other.leases");
            Files.writeString(file, (now + 3600) + " " + MAC + " 10.0.0.5 victim 01:" + MAC + "\n");
            Files.writeString(other, (now + 1800) + " " + MAC + " 10.0.0.77 attacker *\n");
            Thread.sleep(2100);
            try (LeaseFiles two = new LeaseFiles(List.of(file, other), time, s -> { })) {
                two.start();
                assertNull(two.lease(MAC));
                time.advance(Duration.ofSeconds(1801));
                two.rescan();
                assertEquals("10.0.0.5", two.lease(MAC).ip(), "the other lease ended: the one left is believed");
                assertEquals(0, two.contested());
            }
        }
    }
}
