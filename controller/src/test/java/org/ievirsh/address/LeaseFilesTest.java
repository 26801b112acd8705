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
}
